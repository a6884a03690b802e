"""resolve_checkins: each value of DATA, with tiny files and no network."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from checkin_traj.data import sources
from checkin_traj.data.fetch import SNAP_REGISTRY, DownloadError
from checkin_traj.data.sources import DataSource, resolve_checkins, sample_path

LINES = (
    b"0\t2010-10-12T00:21:28Z\t40.6438845363\t-73.7828063965\t23261\n"
    b"0\t2010-10-11T20:21:20Z\t40.74137425\t-73.9881052167\t16907\n"
)


def _write_gz(path: Path, data: bytes = LINES) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0))
    return path


@pytest.fixture
def sample_dir(tmp_path, monkeypatch):
    """GOWALLA_DATA_DIR pointing at a folder holding a two-row NYC sample."""
    folder = tmp_path / "shared"
    _write_gz(folder / "gowalla-nyc" / "loc-gowalla_totalCheckins.nyc.txt.gz")
    monkeypatch.setenv("GOWALLA_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def no_sample(tmp_path, monkeypatch):
    """GOWALLA_DATA_DIR pointing at an empty folder: no sample anywhere."""
    monkeypatch.setenv("GOWALLA_DATA_DIR", str(tmp_path / "empty"))


@pytest.fixture
def offline(monkeypatch):
    """fetch_snap fails as it does without a network; records its calls."""
    calls = []

    def fail(name, **kwargs):
        calls.append(name)
        raise DownloadError("Could not download: [Errno 111] Connection refused")

    monkeypatch.setattr(sources, "fetch_snap", fail)
    return calls


def test_path_to_a_snap_file(tmp_path):
    path = _write_gz(tmp_path / "loc-gowalla_totalCheckins.txt.gz")
    source = resolve_checkins(str(path))
    assert source == DataSource(
        path=path,
        kind="file",
        synthetic=False,
        description="Gowalla check-ins in SNAP format read from loc-gowalla_totalCheckins.txt.gz, 2 rows",
        citation=sources.SNAP_CITATION,
    )
    assert resolve_checkins(path) == source  # a Path works as well as a str


def test_plain_text_file_with_another_name_is_not_cited_as_gowalla(tmp_path):
    path = tmp_path / "my_checkins.txt"
    path.write_bytes(LINES)
    source = resolve_checkins(str(path))
    assert source.kind == "file" and not source.synthetic
    assert source.description == "check-ins in SNAP format read from my_checkins.txt, 2 rows"
    assert source.citation == ""


def test_missing_file_names_data_and_the_path(tmp_path):
    missing = tmp_path / "nope" / "loc-gowalla_totalCheckins.txt.gz"
    with pytest.raises(FileNotFoundError, match=r"DATA=.*nope.*no such file"):
        resolve_checkins(str(missing))


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="DATA="):
        resolve_checkins(str(tmp_path))


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_as_data_is_refused_for_what_it_is(tmp_path):
    # issue 23: a named pipe was called a folder; chapter 01 reads its data more than once
    import os

    pipe = tmp_path / "checkins.pipe"
    os.mkfifo(pipe)
    with pytest.raises(ValueError, match=r"DATA=.*is not a regular file \(a pipe or a device\?\)"):
        resolve_checkins(str(pipe))


def test_sample_is_found_through_gowalla_data_dir(sample_dir):
    source = resolve_checkins("sample")
    assert source.path == (sample_dir / "gowalla-nyc" / "loc-gowalla_totalCheckins.nyc.txt.gz").resolve()
    assert source.kind == "sample" and not source.synthetic
    assert source.description == "real Gowalla check-ins, SNAP loc-gowalla, New York City sample of 2 rows"
    assert "Cho" in source.citation and "loc-gowalla" in source.citation


def test_missing_sample_says_where_it_looked(no_sample, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"DATA='sample'.*empty.*GOWALLA_DATA_DIR"):
        resolve_checkins("sample")


def test_sample_defaults_to_the_shared_folder_next_to_the_repo(monkeypatch):
    monkeypatch.delenv("GOWALLA_DATA_DIR", raising=False)
    expected = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gowalla-nyc"
    assert sample_path() == expected / "loc-gowalla_totalCheckins.nyc.txt.gz"


def test_auto_picks_the_sample_when_present(sample_dir, offline):
    source = resolve_checkins("auto")
    assert source.kind == "sample"
    assert offline == []  # no download attempted


def test_auto_falls_back_to_the_snap_file(no_sample, tmp_path, monkeypatch):
    cached = _write_gz(tmp_path / "cache" / "loc-gowalla_totalCheckins.txt.gz")
    monkeypatch.setattr(sources, "fetch_snap", lambda name, **kwargs: cached)
    source = resolve_checkins("auto")
    assert source.kind == "snap" and source.path == cached
    assert source.description == (
        "real Gowalla check-ins, SNAP loc-gowalla, full worldwide file of 6,442,890 rows"
    )


def test_auto_offline_says_how_to_point_data_at_a_file_or_use_synthetic(no_sample, offline):
    with pytest.raises(DownloadError) as raised:
        resolve_checkins("auto")
    message = str(raised.value)
    assert "papermill ... -p DATA path/to/loc-gowalla_totalCheckins.txt.gz" in message
    assert "papermill ... -p DATA synthetic" in message
    assert "Connection refused" in message
    assert offline == ["loc-gowalla_totalCheckins.txt.gz"]


def test_snap_passes_the_cache_and_progress_to_fetch(tmp_path, monkeypatch):
    seen = {}

    def fake_fetch(name, **kwargs):
        seen.update(kwargs, name=name)
        return _write_gz(tmp_path / name)

    monkeypatch.setattr(sources, "fetch_snap", fake_fetch)
    source = resolve_checkins("snap", cache_dir=tmp_path / "cache", progress=False)
    assert seen == {"name": "loc-gowalla_totalCheckins.txt.gz", "cache_dir": tmp_path / "cache", "progress": False}
    assert source.kind == "snap" and not source.synthetic
    assert f"{SNAP_REGISTRY['loc-gowalla_totalCheckins.txt.gz'].n_lines:,} rows" in source.description


def test_snap_offline_error_is_not_swallowed(offline, tmp_path):
    with pytest.raises(DownloadError, match="Connection refused"):
        resolve_checkins("snap", cache_dir=tmp_path)


@pytest.fixture
def synthetic_module():
    return pytest.importorskip("checkin_traj.data.synthetic", reason="synthetic.py is not written yet")


def test_synthetic_is_written_once_and_reused(synthetic_module, tmp_path, monkeypatch):
    calls = []
    real_generate = synthetic_module.generate_checkins

    def counting_generate(**kwargs):
        calls.append(kwargs)
        return real_generate(**kwargs)

    monkeypatch.setattr(synthetic_module, "generate_checkins", counting_generate)
    first = resolve_checkins("synthetic", cache_dir=tmp_path, synthetic_users=5, seed=3)
    second = resolve_checkins("synthetic", cache_dir=tmp_path, synthetic_users=5, seed=3)
    assert calls == [{"n_users": 5, "seed": 3}]
    assert first == second
    assert first.kind == "synthetic" and first.synthetic
    assert first.path.parent == tmp_path / "synthetic"
    assert "users5_seed3" in first.path.name
    assert "5 users, seed 3" in first.description
    # the file and its checksum record, no temporary left
    assert sorted(p.name for p in first.path.parent.iterdir()) == [first.path.name, first.path.name + ".sha256"]


def test_synthetic_is_deterministic_and_readable(synthetic_module, tmp_path):
    from checkin_traj.data.snap import read_checkins

    one = resolve_checkins("synthetic", cache_dir=tmp_path / "a", synthetic_users=4, seed=1)
    two = resolve_checkins("synthetic", cache_dir=tmp_path / "b", synthetic_users=4, seed=1)
    other_seed = resolve_checkins("synthetic", cache_dir=tmp_path / "a", synthetic_users=4, seed=2)
    assert gzip.decompress(one.path.read_bytes()) == gzip.decompress(two.path.read_bytes())
    assert other_seed.path != one.path
    check_ins = read_checkins(one.path)
    assert check_ins["user"].nunique() == 4
    assert f"{len(check_ins):,} rows" in one.description


def test_a_synthetic_file_given_as_a_path_is_still_flagged_synthetic(tmp_path):
    path = _write_gz(tmp_path / "synthetic-checkins_users5_seed0_gen00000000.txt.gz")
    source = resolve_checkins(str(path))
    assert source.kind == "file" and source.synthetic


@pytest.mark.parametrize("data", ["", "nyc", "SNAP", 3, None])
def test_bad_data_names_data_and_the_accepted_values(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"DATA must be .*'auto', 'sample', 'snap', 'synthetic'"):
        resolve_checkins(data)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(synthetic_users=0), "synthetic_users"),
        (dict(synthetic_users=2.5), "synthetic_users"),
        (dict(synthetic_users=True), "synthetic_users"),
        (dict(seed=-1), "seed"),
        (dict(seed="0"), "seed"),
    ],
)
def test_bad_parameters_are_rejected_before_any_work(kwargs, name, offline):
    with pytest.raises(ValueError, match=name):
        resolve_checkins("auto", **kwargs)
    assert offline == []


def test_data_source_rejects_an_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        DataSource(path=tmp_path, kind="web", synthetic=False, description="", citation="")


# --------------------------------------------------------------------------- issue 15: broken files


def test_a_truncated_gzip_given_as_data_names_the_file_not_eof(tmp_path):
    path = tmp_path / "loc-gowalla_totalCheckins.nyc.txt.gz"
    full = gzip.compress(LINES * 3000, mtime=0)
    path.write_bytes(full[: len(full) // 2])
    from checkin_traj.data.fetch import count_lines
    from checkin_traj.data.snap import InputError

    for attempt in (lambda: resolve_checkins(str(path)), lambda: resolve_checkins(path), lambda: count_lines(path)):
        with pytest.raises(InputError, match="gzip stream is truncated") as caught:
            attempt()
        assert caught.value.path == str(path.resolve()) or caught.value.path == str(path)
        assert not isinstance(caught.value, EOFError)


def test_an_empty_file_given_as_data_is_named_when_read(tmp_path):
    from checkin_traj.data.snap import InputError, read_checkins

    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    source = resolve_checkins(str(path))
    assert "0 rows" in source.description
    with pytest.raises(InputError, match="empty.txt: no check-ins: the file is empty"):
        read_checkins(source.path)


@pytest.mark.parametrize("damage", ["truncate", "empty", "no record", "garbage record"])
def test_a_damaged_cached_synthetic_file_is_made_again(synthetic_module, tmp_path, monkeypatch, damage):
    from checkin_traj.data.snap import read_checkins

    first = resolve_checkins("synthetic", cache_dir=tmp_path, synthetic_users=3, seed=2)
    whole = first.path.read_bytes()
    record = first.path.with_name(first.path.name + ".sha256")
    if damage == "truncate":
        first.path.write_bytes(whole[: len(whole) // 2])
    elif damage == "empty":
        first.path.write_bytes(b"")
    elif damage == "no record":
        record.unlink()
    else:
        record.write_text("")
    calls = []
    real_generate = synthetic_module.generate_checkins
    monkeypatch.setattr(synthetic_module, "generate_checkins", lambda **kw: calls.append(kw) or real_generate(**kw))
    again = resolve_checkins("synthetic", cache_dir=tmp_path, synthetic_users=3, seed=2)
    assert calls == [{"n_users": 3, "seed": 2}]
    assert again.path.read_bytes() == whole
    assert len(read_checkins(again.path)) > 0
    assert sorted(p.name for p in again.path.parent.iterdir()) == [again.path.name, record.name]


def test_a_gz_file_that_is_plain_text_is_read_by_its_bytes_not_its_name(tmp_path):
    # issue 15 probe: the name says gzip, the bytes say text; both passes go by the bytes
    import pandas as pd

    from checkin_traj.data.snap import CHECKIN_COLUMNS, _read_snap, read_checkins

    path = tmp_path / "plain.txt.gz"
    path.write_bytes(LINES * 2)
    source = resolve_checkins(str(path))
    assert f"{len((LINES * 2).splitlines())} rows" in source.description
    fast = read_checkins(source.path)
    slow = _read_snap(source.path, CHECKIN_COLUMNS, on_bad_lines="error", what="check-ins", force_slow=True)
    pd.testing.assert_frame_equal(fast, slow)
    assert len(fast) == len((LINES * 2).splitlines())
