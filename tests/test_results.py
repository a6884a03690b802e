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
