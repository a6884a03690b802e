import gzip
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkin_traj.data.snap import (
    CHECKIN_COLUMNS,
    InputError,
    ReadReport,
    _read_snap,
    read_checkins,
    read_edges,
)
from checkin_traj.data.atomic import atomic_path
from checkin_traj.data.tables import read_table, write_table

GOOD = [
    "0\t2010-10-12T00:21:28Z\t40.6438845363\t-73.78280639649999\t23261",
    "0\t2010-10-11T20:21:20Z\t40.74137425\t-73.9881052167\t16907",
    "7\t2010-10-11T20:20:42Z\t40.741388197\t-73.98945450779999\t12973",
]


def write_lines(folder, lines, *, gz=False, name=None, end="\n"):
    text = "".join(line + end for line in lines).encode()
    path = folder / (name or ("checkins.txt.gz" if gz else "checkins.txt"))
    path.write_bytes(gzip.compress(text) if gz else text)
    return path


def test_reads_good_lines_with_types_and_values(tmp_path):
    check_ins = read_checkins(write_lines(tmp_path, GOOD))
    assert list(check_ins.columns) == ["user", "time", "lat", "lon", "location_id"]
    assert [str(t) for t in check_ins.dtypes] == ["int64", "datetime64[ns, UTC]", "float64", "float64", "int64"]
    assert check_ins["user"].tolist() == [0, 0, 7]
    assert check_ins["time"].iloc[0] == pd.Timestamp("2010-10-12T00:21:28Z")
    assert check_ins["lon"].iloc[0] == -73.78280639649999
    assert check_ins["location_id"].tolist() == [23261, 16907, 12973]
    report = check_ins.attrs["read_report"]
    assert (report.lines_total, report.rows_read, report.skipped) == (3, 3, {})


@pytest.mark.parametrize("gz", [False, True])
def test_gzip_is_detected_by_magic_bytes_not_suffix(tmp_path, gz):
    path = write_lines(tmp_path, GOOD, gz=gz, name="checkins.data")
    assert len(read_checkins(path)) == 3


BAD_LINES = [
    ("0\t2010-10-12T00:21:28Z\t40.6\t-73.7", "expected 5 tab-separated fields", "wrong column count"),
    ("0\t2010-10-12T00:21:28Z\t40.6\t-73.7\t1\t2", "found 6", "wrong column count"),
    ("0\t2010-10-12T00:21:28Z\t123.4\t-73.7\t1", "latitude '123.4' is out of range [-90, 90]", "bad latitude"),
    ("0\t2010-10-12T00:21:28Z\t40.6\t-181\t1", "longitude '-181' is out of range [-180, 180]", "bad longitude"),
    ("0\t2010-10-12T00:21:28Z\tabc\t-73.7\t1", "latitude 'abc' is not a number", "bad latitude"),
    ("0\t2010-10-12T00:21:28Z\tnan\t-73.7\t1", "latitude 'nan' is not finite", "bad latitude"),
    ("0\t2010-10-12T00:21:28Z\t40.6\tinf\t1", "longitude 'inf' is not finite", "bad longitude"),
    ("0\t2010-10-12T00:21:28Z\t\t-73.7\t1", "latitude '' is not a number", "bad latitude"),
    ("0.5\t2010-10-12T00:21:28Z\t40.6\t-73.7\t1", "user id '0.5' is not a non-negative integer", "bad user id"),
    ("-3\t2010-10-12T00:21:28Z\t40.6\t-73.7\t1", "user id '-3'", "bad user id"),
    ("0\t2010-10-12T00:21:28Z\t40.6\t-73.7\t12x", "location id '12x'", "bad location id"),
    ("0\t2010-13-12T00:21:28Z\t40.6\t-73.7\t1", "time '2010-13-12T00:21:28Z' is not a real date and time", "bad time"),
    # impossible dates are errors, never moved to the next valid day (issue 15)
    ("0\t2010-02-29T10:00:00Z\t40.6\t-73.7\t1", "time '2010-02-29T10:00:00Z' is not a real date and time", "bad time"),
    ("0\t2010-04-31T10:00:00Z\t40.6\t-73.7\t1", "time '2010-04-31T10:00:00Z' is not a real date and time", "bad time"),
    ("0\t2010-10-12T23:59:61Z\t40.6\t-73.7\t1", "time '2010-10-12T23:59:61Z' is not a real date and time", "bad time"),
    ("0\t9999-10-12T00:21:28Z\t40.6\t-73.7\t1", "lies outside the years 1678 to 2261", "bad time"),
    ("0\tyesterday\t40.6\t-73.7\t1", "time 'yesterday'", "bad time"),
]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("bad_line, message, reason", BAD_LINES)
def test_bad_line_is_reported_with_its_line_number(tmp_path, gz, bad_line, message, reason):
    # a blank line before the bad one must not shift the count: the bad line is line 4
    path = write_lines(tmp_path, [GOOD[0], "", GOOD[1], bad_line, GOOD[2]], gz=gz)
    with pytest.raises(InputError) as caught:
        read_checkins(path)
    assert caught.value.line == 4
    assert caught.value.path == str(path)
    assert message in caught.value.problem
    assert str(caught.value).startswith(f"{path}, line 4: ")

    check_ins = read_checkins(path, on_bad_lines="skip", max_skipped=1.0)
    report = check_ins.attrs["read_report"]
    assert check_ins["location_id"].tolist() == [23261, 16907, 12973]
    assert report.skipped == {"blank line": 1, reason: 1}
    assert report.lines_total == 5 and report.rows_read == 3
    assert report.examples == [(4, reason, bad_line)]


def test_skip_counts_every_reason_and_adds_up(tmp_path):
    bad = [line for line, _, _ in BAD_LINES]
    path = write_lines(tmp_path, GOOD + bad + ["", "   "])
    check_ins = read_checkins(path, on_bad_lines="skip", max_skipped=1.0)
    report = check_ins.attrs["read_report"]
    assert len(check_ins) == 3
    assert report.skipped == {
        "blank line": 2,
        "wrong column count": 2,
        "bad user id": 2,
        "bad time": 6,
        "bad latitude": 4,
        "bad longitude": 2,
        "bad location id": 1,
    }
    assert report.rows_read + sum(report.skipped.values()) == report.lines_total == len(GOOD) + len(bad) + 2
    assert [line for line, _, _ in report.examples] == [4, 5, 6, 7, 8]


def test_blank_lines_alone_are_not_an_error(tmp_path):
    check_ins = read_checkins(write_lines(tmp_path, ["", GOOD[0], "", "", GOOD[1]]))
    assert len(check_ins) == 2
    assert check_ins.attrs["read_report"].skipped == {"blank line": 3}


@pytest.mark.parametrize("gz", [False, True])
def test_crlf_line_ends_are_accepted(tmp_path, gz):
    crlf = read_checkins(write_lines(tmp_path, GOOD, gz=gz, end="\r\n"))
    plain = read_checkins(write_lines(tmp_path, GOOD, name="plain.txt"))
    pd.testing.assert_frame_equal(crlf, plain)
    assert crlf.attrs["read_report"].lines_total == 3


def test_crlf_line_numbers_stay_exact(tmp_path):
    path = write_lines(tmp_path, [GOOD[0], "", BAD_LINES[2][0]], end="\r\n")
    with pytest.raises(InputError, match="line 3: latitude"):
        read_checkins(path)


def test_header_line_is_an_error_or_skipped(tmp_path):
    path = write_lines(tmp_path, ["user\ttime\tlat\tlon\tlocation_id"] + GOOD)
    with pytest.raises(InputError, match="line 1: looks like a header") as caught:
        read_checkins(path)
    assert caught.value.line == 1
    check_ins = read_checkins(path, on_bad_lines="skip", max_skipped=1.0)
    assert len(check_ins) == 3
    assert check_ins.attrs["read_report"].skipped == {"header line": 1}


def test_text_in_a_later_line_is_not_called_a_header(tmp_path):
    path = write_lines(tmp_path, GOOD + ["user\ttime\tlat\tlon\tlocation_id"])
    with pytest.raises(InputError, match="line 4: user id 'user'"):
        read_checkins(path)


@pytest.mark.parametrize("gz", [False, True])
def test_empty_file_has_no_check_ins(tmp_path, gz):
    path = write_lines(tmp_path, [], gz=gz)
    with pytest.raises(InputError, match="no check-ins") as caught:
        read_checkins(path)
    assert caught.value.line is None


def test_file_of_only_bad_lines_has_no_check_ins_even_when_skipping(tmp_path):
    path = write_lines(tmp_path, ["", "12345"])
    with pytest.raises(InputError, match="no check-ins.*1 wrong column count"):
        read_checkins(path, on_bad_lines="skip", max_skipped=1.0)


def test_truncated_gzip_is_reported(tmp_path):
    full = gzip.compress(("\n".join(GOOD * 2000) + "\n").encode())
    path = tmp_path / "truncated.txt.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputError, match="gzip stream is truncated") as caught:
        read_checkins(path)
    assert caught.value.path == str(path) and caught.value.line is None


def test_corrupt_gzip_is_reported(tmp_path):
    corrupt = bytearray(gzip.compress(("\n".join(GOOD * 2000) + "\n").encode()))
    corrupt[-6] ^= 0xFF  # inside the CRC
    path = tmp_path / "corrupt.txt.gz"
    path.write_bytes(bytes(corrupt))
    with pytest.raises(InputError, match="gzip stream is corrupt"):
        read_checkins(path, on_bad_lines="skip", max_skipped=1.0)


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nowhere.txt.gz"
    with pytest.raises(FileNotFoundError, match="nowhere.txt.gz"):
        read_checkins(missing)
    with pytest.raises(FileNotFoundError, match="nowhere.txt.gz"):
        read_edges(missing)


def test_bad_policy_is_rejected_naming_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="on_bad_lines"):
        read_checkins(tmp_path / "not-even-read.txt", on_bad_lines="warn")


@pytest.mark.parametrize(
    "column, value",
    [("user", v) for v in ["+5", " 5", "5 ", "05", "-0", "9223372036854775807", "999999999999999999", "1e3", "\x0b5"]]
    + [("lat", v) for v in ["+5", " 5", "1.", ".5", "+.5", "1e1", "1E+1", "-Infinity", "0x10", "1e+", "1.5e", "\x0c1"]]
    + [("time", v) for v in ["2010-1-2T3:4:5Z", " 2010-10-12T00:21:28Z", "2010-10-12T00:21:28Z ", "2010-10-12 00:21:28Z"]]
    + [("time", v) for v in ["2010-10-12T23:59:60Z", "2010-10-12T24:00:00Z", "2010-02-30T00:00:00Z", "2010-10-12"]],
)
def test_fast_and_slow_passes_agree_on_edge_cases(tmp_path, column, value):
    fields = dict(user="3", time="2010-10-12T00:21:28Z", lat="40.5", lon="-73.9", location_id="9")
    fields[column] = value
    path = write_lines(tmp_path, [GOOD[0], "\t".join(fields.values())])
    results = []
    for force_slow in (False, True):
        try:
            results.append(_read_snap(path, CHECKIN_COLUMNS, on_bad_lines="error", what="check-ins", force_slow=force_slow))
        except InputError as error:
            results.append(error.line)
    if isinstance(results[0], pd.DataFrame) and isinstance(results[1], pd.DataFrame):
        pd.testing.assert_frame_equal(results[0], results[1])
    else:
        assert results == [2, 2]


def test_read_report_must_add_up():
    with pytest.raises(ValueError, match="does not add up"):
        ReadReport(path="x", lines_total=5, rows_read=3, skipped={"blank line": 1})


# --------------------------------------------------------------------------- edges


def test_edges_are_read_and_bad_lines_named(tmp_path):
    path = write_lines(tmp_path, ["0\t1", "1\t0", "2\tx"], name="edges.txt")
    with pytest.raises(InputError, match=r"edges.txt, line 3: friend id 'x'"):
        read_edges(path)
    edges = read_edges(path, on_bad_lines="skip", max_skipped=1.0)
    assert edges.to_dict("list") == {"user": [0, 1], "friend": [1, 0]}
    assert edges.attrs["read_report"].skipped == {"bad friend id": 1}


# --------------------------------------------------------------------------- real samples


@pytest.mark.sample
def test_nyc_sample_rows_and_users(nyc_checkins_path):
    check_ins = read_checkins(nyc_checkins_path)
    assert len(check_ins) == 138_957
    assert check_ins["user"].nunique() == 7_115
    assert check_ins.attrs["read_report"].skipped == {}


@pytest.mark.sample
def test_head_samples_rows(head_checkins_path, head_edges_path):
    assert len(read_checkins(head_checkins_path)) == 10_000
    assert len(read_edges(head_edges_path)) == 10_000


# --------------------------------------------------------------------------- writing


def test_atomic_path_replaces_on_success_and_creates_folders(tmp_path):
    target = tmp_path / "deep" / "folder" / "out.txt"
    with atomic_path(target) as temporary:
        assert temporary.parent == target.parent and temporary != target
        temporary.write_text("new")
    assert target.read_text() == "new"
    assert os.listdir(target.parent) == ["out.txt"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_atomic_path_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as temporary:
            temporary.write_text("half-written")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def sample_table():
    return pd.DataFrame(
        {
            "user": np.array([0, 1, 1], dtype="int64"),
            "time": pd.to_datetime(["2010-10-12T00:21:28Z", "2010-10-11T20:21:20Z", "2009-01-01T00:00:00Z"]).astype(
                "datetime64[ns, UTC]"
            ),
            "lat": [40.6438845363, 40.74137425, -1e-7],
            "lon": [-73.78280639649999, -73.9881052167, 0.0],
            "location_id": np.array([23261, 16907, 1], dtype="int64"),
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_and_read_table_round_trip(tmp_path, suffix):
    table = sample_table()
    path = tmp_path / "out" / f"clean{suffix}"
    write_table(table, path)
    pd.testing.assert_frame_equal(read_table(path), table)


def test_csv_times_are_iso_utc(tmp_path):
    path = tmp_path / "clean.csv"
    table = sample_table()
    table["time"] = table["time"].dt.tz_convert("America/New_York")
    write_table(table, path)
    assert "2010-10-12T00:21:28Z" in path.read_text()
    assert str(read_table(path)["time"].dtype) == "datetime64[ns, UTC]"


def test_csv_keeps_sub_second_times(tmp_path):
    table = pd.DataFrame({"time": pd.to_datetime(["2010-10-12T00:21:28.250Z"]).astype("datetime64[ns, UTC]")})
    write_table(table, tmp_path / "t.csv")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.csv"), table)


def test_unknown_table_suffix_is_rejected_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"\.csv"):
        write_table(sample_table(), tmp_path / "clean.xlsx")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- fuzzing

valid_rows = st.tuples(
    st.integers(0, 10**12),
    st.integers(946_684_800, 1_893_456_000),  # 2000 .. 2030, seconds since the epoch
    st.floats(-90, 90, allow_nan=False),
    st.floats(-180, 180, allow_nan=False),
    st.integers(0, 10**12),
)
# Each mutation makes a valid line invalid for certain.
MUTATIONS = [
    lambda fields, junk: fields[:-1],
    lambda fields, junk: fields + [junk],
    lambda fields, junk: ["x" + junk] + fields[1:],
    lambda fields, junk: fields[:1] + ["t" + junk] + fields[2:],
    lambda fields, junk: fields[:2] + ["#" + junk] + fields[3:],
    lambda fields, junk: fields[:2] + ["91"] + fields[3:],
    lambda fields, junk: fields[:3] + ["-180.5"] + fields[4:],
    lambda fields, junk: fields[:3] + ["nan"] + fields[4:],
    lambda fields, junk: fields[:4] + ["-1"],
    lambda fields, junk: fields[:4] + ["1.5"],
]
junk_text = st.text(st.characters(blacklist_characters="\r\n\t", blacklist_categories=("Cs",)), max_size=8)


def format_row(row):
    user, seconds, lat, lon, location_id = row
    time = pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ")
    return [str(user), time, repr(lat), repr(lon), str(location_id)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(valid_rows, min_size=1, max_size=20),
    mutations=st.lists(st.tuples(st.integers(0, 19), st.integers(0, len(MUTATIONS) - 1), junk_text), max_size=4),
    blank_after=st.sets(st.integers(0, 19), max_size=3),
    gz=st.booleans(),
    end=st.sampled_from(["\n", "\r\n"]),
)
def test_fuzzed_lines_are_read_exactly_or_reported(tmp_path, rows, mutations, blank_after, gz, end):
    mutated = {index % len(rows): (kind, junk) for index, kind, junk in mutations}
    lines, good_rows, bad_line_numbers = [], [], []
    for index, row in enumerate(rows):
        fields = format_row(row)
        if index in mutated:
            kind, junk = mutated[index]
            lines.append("\t".join(MUTATIONS[kind](fields, junk)))
            bad_line_numbers.append(len(lines))
        else:
            lines.append("\t".join(fields))
            good_rows.append(row)
        if index in blank_after:
            lines.append("")
    path = tmp_path / "fuzz.bin"
    text = "".join(line + end for line in lines).encode()
    path.write_bytes(gzip.compress(text) if gz else text)

    if bad_line_numbers:
        with pytest.raises(InputError) as caught:
            read_checkins(path)
        assert caught.value.line == bad_line_numbers[0]
    if not good_rows:
        with pytest.raises(InputError, match="no check-ins"):
            read_checkins(path, on_bad_lines="skip", max_skipped=1.0)
        return
    check_ins = read_checkins(path, on_bad_lines="skip", max_skipped=1.0)
    report = check_ins.attrs["read_report"]
    assert report.lines_total == len(lines)
    assert report.skipped.get("blank line", 0) == len(blank_after & set(range(len(rows))))
    assert sum(report.skipped.values()) - report.skipped.get("blank line", 0) == len(bad_line_numbers)
    expected = pd.DataFrame(good_rows, columns=["user", "time", "lat", "lon", "location_id"])
    expected["time"] = pd.to_datetime(expected["time"], unit="s", utc=True).astype("datetime64[ns, UTC]")
    pd.testing.assert_frame_equal(check_ins, expected)


@pytest.mark.parametrize("suffix", ["Z", "+00:00", "+0000"])
def test_common_utc_spellings_read_the_same_instant(tmp_path, suffix):
    # issue 15: '+00:00' used to drop 97 % of a file as bad lines under 'skip'
    path = write_lines(tmp_path, [f"0\t2010-10-12T00:21:28{suffix}\t40.6\t-73.7\t1"])
    check_ins = read_checkins(path)
    assert check_ins["time"].iloc[0] == pd.Timestamp("2010-10-12T00:21:28Z")


def test_skipping_more_than_max_skipped_stops_the_run(tmp_path):
    lines = ["0\t2010-10-12T00:21:28Z\t40.6\t-73.7\t1"] + ["0\tnot-a-time\t40.6\t-73.7\t1"] * 3
    path = write_lines(tmp_path, lines)
    with pytest.raises(InputError, match="max_skipped"):
        read_checkins(path, on_bad_lines="skip", max_skipped=0.5)
    kept = read_checkins(path, on_bad_lines="skip", max_skipped=0.8)
    assert kept.attrs["read_report"].rows_read == 1


# --------------------------------------------------------------------------- issue 15: more bad inputs

BAD_IDS = {"": "''", "1.5": "'1.5'", "1.0": "'1.0'", "-3": "'-3'", "٣": "'٣'", "7e2": "'7e2'", "nan": "'nan'"}


@pytest.mark.parametrize("column, label", [(0, "user id"), (4, "location id")])
@pytest.mark.parametrize("value", list(BAD_IDS))
def test_missing_fractional_negative_and_non_ascii_ids_are_named(tmp_path, column, label, value):
    fields = GOOD[1].split("\t")
    fields[column] = value
    path = write_lines(tmp_path, [GOOD[0], "\t".join(fields)])
    with pytest.raises(InputError, match=f"line 2: {label} {BAD_IDS[value]} is not a non-negative integer"):
        read_checkins(path)
    kept = read_checkins(path, on_bad_lines="skip", max_skipped=1.0)
    assert kept.attrs["read_report"].skipped == {f"bad {label}": 1}


@pytest.mark.parametrize("value, problem", [("inf", "is not finite"), ("-Infinity", "is not finite"), ("nan", "is not finite")])
def test_non_finite_coordinates_are_named(tmp_path, value, problem):
    path = write_lines(tmp_path, [GOOD[0], GOOD[1].replace("40.74137425", value)])
    with pytest.raises(InputError, match=f"line 2: latitude '{value}' {problem}"):
        read_checkins(path)


@pytest.mark.parametrize("gz", [False, True])
def test_a_byte_order_mark_opening_the_file_is_skipped_by_both_passes(tmp_path, gz):
    # found by tests/test_reader_property.py: pyarrow skipped the mark, the slow pass called it a bad user id
    text = b"\xef\xbb\xbf" + ("\n".join(GOOD) + "\n").encode()
    path = tmp_path / "bom.txt"
    path.write_bytes(gzip.compress(text) if gz else text)
    fast = read_checkins(path)
    slow = _read_snap(path, CHECKIN_COLUMNS, on_bad_lines="error", what="check-ins", force_slow=True)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["user"].tolist() == [0, 0, 7]
    path.write_bytes(text + b"x\n")  # the slow pass, reached by a bad last line, counts lines as before
    with pytest.raises(InputError, match="line 4"):
        read_checkins(path)


def test_a_file_of_only_a_header_names_the_header(tmp_path):
    path = write_lines(tmp_path, ["user\ttime\tlat\tlon\tlocation_id"])
    with pytest.raises(InputError, match="line 1: looks like a header line"):
        read_checkins(path)
    with pytest.raises(InputError, match="no check-ins: none of its 1 lines is a valid line \\(1 header line\\)"):
        read_checkins(path, on_bad_lines="skip")


def test_a_gzip_of_nothing_is_an_empty_file(tmp_path):
    path = tmp_path / "nothing.txt.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(InputError, match="nothing.txt.gz: no check-ins: the file is empty"):
        read_checkins(path)


def test_a_gzip_cut_inside_its_header_is_truncated_not_eof(tmp_path):
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(gzip.compress(("\n".join(GOOD) + "\n").encode())[:5])
    with pytest.raises(InputError, match="cut.txt.gz: the gzip stream is truncated"):
        read_checkins(path)


def test_edges_truncated_gzip_and_bad_ids_are_named(tmp_path):
    full = gzip.compress(b"0\t1\n" * 5000)
    path = tmp_path / "edges.txt.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputError, match="edges.txt.gz: the gzip stream is truncated"):
        read_edges(path)
    plain = tmp_path / "edges.txt"
    for line, message in (("0\t1.5", "friend id '1.5'"), ("0\t", "friend id ''"), ("-1\t2", "user id '-1'")):
        plain.write_text(f"0\t1\n{line}\n")
        with pytest.raises(InputError, match=f"line 2: {message} is not a non-negative integer"):
            read_edges(plain)


def test_a_nul_byte_in_a_field_is_named(tmp_path):
    path = tmp_path / "nul.txt"
    path.write_bytes((GOOD[0] + "\x00\n").encode())
    with pytest.raises(InputError, match="line 1: location id"):
        read_checkins(path)


def test_a_binary_file_is_not_called_a_header(tmp_path):
    path = tmp_path / "binary.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError, match="line 1: (?!looks like a header)"):
        read_checkins(path)


def test_a_csv_table_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(b"user,name\n1,caf\xe9\n")
    with pytest.raises(InputError, match=r"table.csv: the columns \['name'\] are not valid UTF-8"):
        read_table(path)


@pytest.mark.parametrize("separator", ["  ", " ", ",", ";"])
def test_a_first_line_of_data_with_other_separators_is_not_called_a_header(tmp_path, separator):
    # issue 15 probe: a file separated by spaces was told its first line "looks like a header line"
    # and to skip it; a header is words, not a check-in with the wrong separators
    path = write_lines(tmp_path, [line.replace("\t", separator) for line in GOOD])
    with pytest.raises(InputError, match="line 1: expected 5 tab-separated fields .*, found 1"):
        read_checkins(path)
    with pytest.raises(InputError, match=r"no check-ins: none of its 3 lines is a valid line \(3 wrong column count\)"):
        read_checkins(path, on_bad_lines="skip", max_skipped=1.0)
    header = write_lines(tmp_path, ["user id,time,lat,lon,location id"] + GOOD, name="header.txt")
    with pytest.raises(InputError, match="line 1: looks like a header line"):  # words are still a header
        read_checkins(header)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("gz", [False, True])
def test_a_named_pipe_is_read_once_even_when_lines_are_skipped(tmp_path, gz):
    # issue 23 probe: a pipe with ON_BAD_LINES=skip kept 329 of 400 rows: the reader opened it three times
    import contextlib
    import threading

    lines = GOOD * 133 + ["0\t2010-10-12T00:21:28Z\t40.6\t-73.7"]  # 399 good lines and a bad one
    text = "".join(line + "\n" for line in lines).encode()
    pipe = tmp_path / "checkins.pipe"
    os.mkfifo(pipe)

    def serve():  # one writer, as `cat file > pipe`: the stream can be read once
        with open(pipe, "wb") as handle, contextlib.suppress(BrokenPipeError):
            handle.write(gzip.compress(text) if gz else text)

    found = {}
    threading.Thread(target=serve, daemon=True).start()
    reader = threading.Thread(target=lambda: found.update(frame=read_checkins(pipe, on_bad_lines="skip")), daemon=True)
    reader.start()
    reader.join(20)
    if reader.is_alive():  # it waits for a second writer: give it an empty one, then fail
        with contextlib.suppress(OSError):
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    assert not reader.is_alive() and "frame" in found, "the reader opened the pipe more than once"
    report = found["frame"].attrs["read_report"]
    assert (len(found["frame"]), report.lines_total, report.skipped) == (399, 400, {"wrong column count": 1})
