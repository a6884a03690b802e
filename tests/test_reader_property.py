"""The SNAP reader's fast and slow passes agree on random mixes of valid and invalid lines.

``read_checkins`` first tries one pyarrow pass (``_fast_parse``) and only when that fails
falls back to the line-oriented pass (``_slow_parse``; ``force_slow=True`` forces it). The
two must give the same rows, or fail at the same line: whenever the fast pass accepts a
file, the slow pass must accept it too and produce the very same frame.
"""

import gzip

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checkin_traj.data.snap import CHECKIN_COLUMNS, EDGE_COLUMNS, InputError, _fast_parse, _read_snap, _to_frame

IDS = st.one_of(
    st.integers(0, 10**18 - 1).map(str),
    st.sampled_from(["", "-1", "1.5", "1.0", "7e2", "+5", " 5", "5 ", "05", "-0", "10" * 10, "nan", "١٢", "x"]),
)
TIMES = st.one_of(
    st.integers(-5_000_000_000, 5_000_000_000).map(lambda s: pd.Timestamp(s, unit="s").strftime("%Y-%m-%dT%H:%M:%S")).flatmap(
        lambda stem: st.sampled_from([stem + "Z", stem + "+00:00", stem + "+0000", stem + "-00:00", stem, stem + "+01:00"])
    ),
    st.sampled_from(
        [
            "",
            "2010-02-29T00:00:00Z",
            "2010-04-31T12:00:00Z",
            "2010-10-12T24:00:00Z",
            "2010-10-12T23:59:60Z",
            "2010-10-12 00:21:28Z",
            "2010-10-12T00:21:28z",
            "2010-10-12T00:21:28.5Z",
            "1677-01-01T00:00:00Z",
            "2262-06-01T00:00:00Z",
            "2010-10-12",
            "NaT",
            "２０１０-10-12T00:21:28Z",
        ]
    ),
)
COORDS = st.one_of(
    st.floats(-200, 200, allow_nan=False).map(repr),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-0", "+.5", "1.", "1e", "0x10", " 40.5", "40,5", "٤٠"]),
)
FIELDS = {"id": IDS, "time": TIMES, "lat": COORDS, "lon": COORDS}
GOOD = "0\t2010-10-12T00:21:28Z\t40.6\t-73.9\t1"


@st.composite
def snap_lines(draw, schema):
    """Lines of a SNAP-like file: mostly well-formed, some with missing or extra fields."""
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        shape = draw(st.sampled_from(["row"] * 6 + ["blank", "short", "long"]))
        if shape == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t", " \t "])))
            continue
        fields = [draw(FIELDS[kind]) for _, kind in schema]
        if shape == "short":
            fields = fields[: draw(st.integers(1, len(fields) - 1))]
        elif shape == "long":
            fields.append(draw(st.sampled_from(["", "extra", "1"])))
        lines.append("\t".join(fields))
    return lines


def write(path, lines, *, end, final_end, bom, gz):
    text = end.join(lines) + (end if final_end else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def outcome(path, schema, *, force_slow, on_bad_lines="error"):
    """The frame read, or the (line, problem) of the error."""
    try:
        return _read_snap(path, schema, on_bad_lines=on_bad_lines, what="rows", force_slow=force_slow, max_skipped=1.0)
    except InputError as error:
        return (error.line, error.problem)


def assert_same(a, b):
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
        assert a.attrs["read_report"] == b.attrs["read_report"]
    else:
        assert not isinstance(a, pd.DataFrame) and not isinstance(b, pd.DataFrame), (a, b)
        assert a == b


FILE_SHAPE = dict(
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    final_end=st.booleans(),
    bom=st.sampled_from([False] * 5 + [True]),
    gz=st.booleans(),
)


@pytest.mark.parametrize("schema", [CHECKIN_COLUMNS, EDGE_COLUMNS], ids=["checkins", "edges"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), **FILE_SHAPE)
def test_fast_and_slow_passes_agree_on_random_files(tmp_path, schema, data, end, final_end, bom, gz):
    lines = data.draw(snap_lines(schema))
    if data.draw(st.booleans()):  # a valid line first, so that many files get past line 1
        lines = ["\t".join(GOOD.split("\t")[: len(schema)])] + lines
    path = write(tmp_path / "random.bin", lines, end=end, final_end=final_end, bom=bom, gz=gz)
    fast = _fast_parse(str(path), schema)
    slow = outcome(path, schema, force_slow=True)
    if fast is not None:
        # the fast pass accepted every line: the slow pass must accept them with the same values
        assert isinstance(slow, pd.DataFrame), f"fast pass accepted the file, slow pass said {slow}"
        pd.testing.assert_frame_equal(_to_frame(fast, schema), slow)
        assert slow.attrs["read_report"].rows_read == fast.num_rows
    assert_same(outcome(path, schema, force_slow=False), slow)
    assert_same(
        outcome(path, schema, force_slow=False, on_bad_lines="skip"),
        outcome(path, schema, force_slow=True, on_bad_lines="skip"),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 10**12), TIMES.filter(lambda t: t.endswith(("Z", "00:00", "0000")) and len(t) >= 20)),
        min_size=1,
        max_size=6,
    ),
    **FILE_SHAPE,
)
@example(rows=[(0, "2010-10-12T00:21:28Z")], end="\r", final_end=True, bom=False, gz=False)
def test_fast_pass_takes_valid_files_and_agrees_with_the_slow_pass(tmp_path, rows, end, final_end, bom, gz):
    # files of valid-looking lines reach the fast pass's value checks (not just its fallback)
    lines = [f"{user}\t{time}\t40.6\t-73.9\t{user + 1}" for user, time in rows]
    path = write(tmp_path / "valid.bin", lines, end=end, final_end=final_end, bom=bom, gz=gz)
    slow = outcome(path, CHECKIN_COLUMNS, force_slow=True)
    assert_same(outcome(path, CHECKIN_COLUMNS, force_slow=False), slow)
    fast = _fast_parse(str(path), CHECKIN_COLUMNS)
    if fast is not None:
        pd.testing.assert_frame_equal(_to_frame(fast, CHECKIN_COLUMNS), slow)
