import numpy as np
import pandas as pd
import pytest

from checkin_traj.results import load_results, save_results


def test_round_trip_keeps_metrics_tables_arrays_and_extra(tmp_path):
    table = pd.DataFrame({"rmse": [0.1, 0.2], "r2": [0.5, -0.1]}, index=["persistence", "global_mean"])
    predictions = np.arange(6, dtype=np.float32).reshape(2, 3)
    save_results(
        tmp_path,
        "baselines",
        metrics={"best_rmse": np.float64(0.1), "n": np.int64(2)},
        tables={"test": table},
        arrays={"persistence": predictions},
        extra={"window": 10, "seeds": (0, 1, 2)},
    )
    loaded = load_results(tmp_path, "baselines")
    assert loaded["metrics"] == {"best_rmse": 0.1, "n": 2}
    pd.testing.assert_frame_equal(loaded["tables"]["test"], table)
    np.testing.assert_array_equal(loaded["arrays"]["persistence"], predictions)
    assert loaded["extra"] == {"window": 10, "seeds": [0, 1, 2]}


def test_non_finite_metrics_are_stored_as_json_values_not_dropped(tmp_path):
    save_results(tmp_path, "m", metrics={"nan": float("nan"), "big": float("inf")})
    assert load_results(tmp_path, "m")["metrics"] == {"nan": None, "big": "inf"}


def test_missing_results_say_which_chapter_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the chapter"):
        load_results(tmp_path, "lstm")


@pytest.mark.parametrize("name", ["../escape", "a b", ""])
def test_bad_names_are_rejected(tmp_path, name):
    with pytest.raises(ValueError, match="result name"):
        save_results(tmp_path, name, metrics={})


def test_saving_again_replaces_the_file_whole(tmp_path):
    save_results(tmp_path, "m", metrics={"a": 1}, arrays={"x": np.zeros(3)})
    save_results(tmp_path, "m", metrics={"b": 2})
    loaded = load_results(tmp_path, "m")
    assert loaded["metrics"] == {"b": 2}
    assert loaded["arrays"] == {}
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["m.json", "m.npz"]


# --------------------------------------------------------------------------- issue 15: damaged or mismatched results


def _saved_with_arrays(workdir, values=(0, 1, 2)):
    save_results(workdir, "r", metrics={"a": 1.0}, arrays={"x": np.asarray(values)})
    return workdir / "results" / "r.json", workdir / "results" / "r.npz"


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a zip"])
def test_a_damaged_npz_names_the_file_and_the_chapter_to_rerun(tmp_path, damage):
    from checkin_traj.data.snap import InputError

    _, npz = _saved_with_arrays(tmp_path, np.arange(1000))
    whole = npz.read_bytes()
    npz.write_bytes({"truncated": whole[: len(whole) // 2], "empty": b"", "not a zip": b"x" * 100}[damage])
    with pytest.raises(InputError, match="run the chapter that writes 'r' again") as caught:
        load_results(tmp_path, "r")
    assert caught.value.path == str(npz)


def test_a_missing_npz_names_the_file(tmp_path):
    _, npz = _saved_with_arrays(tmp_path)
    npz.unlink()
    with pytest.raises(FileNotFoundError, match=f"{npz} not found.*run the chapter that writes 'r' again"):
        load_results(tmp_path, "r")


def test_an_npz_of_another_save_is_refused_not_mixed_in(tmp_path):
    # issue 15 probe: the JSON and the arrays of two different runs were loaded together
    from checkin_traj.data.snap import InputError

    _, npz = _saved_with_arrays(tmp_path, (0, 1, 2))
    _, other = _saved_with_arrays(tmp_path / "other", (0, 1, 2, 3, 4))
    other.replace(npz)
    with pytest.raises(InputError, match="is not the array file r.json describes") as caught:
        load_results(tmp_path, "r")
    assert caught.value.path == str(npz)


@pytest.mark.parametrize("text", ['{"name": "r", "metr', "", "[1, 2]"])
def test_a_damaged_results_record_names_the_file(tmp_path, text):
    from checkin_traj.data.snap import InputError

    json_path, _ = _saved_with_arrays(tmp_path)
    json_path.write_text(text)
    with pytest.raises(InputError, match="run the chapter that writes 'r' again") as caught:
        load_results(tmp_path, "r")
    assert caught.value.path == str(json_path)
