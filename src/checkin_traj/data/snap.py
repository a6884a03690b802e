"""Reading SNAP check-in and friendship files.

The SNAP ``loc-gowalla_totalCheckins`` file has one check-in per line, no header::

    user<TAB>2010-10-12T00:21:28Z<TAB>lat<TAB>lon<TAB>location_id

:func:`read_checkins` first tries one fast pass with ``pyarrow.csv`` (explicit column types,
then vectorised range checks). Only when that pass fails does a slower, still vectorised,
line-oriented pass run: it reports every problem with its exact 1-based line number, and
with ``on_bad_lines="skip"`` drops and counts the bad lines by reason (:class:`ReadReport`).
Both passes accept the same lines and give the same values (the slow one uses the same
pyarrow parsers per field, behind regular expressions that mirror them; tests check they
agree). A UTF-8 byte-order mark opening the file is skipped.
"""

from __future__ import annotations

import errno
import gzip
import os
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from ..checks import check_choice, check_fraction

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"  # skipped at the start of a file, as pyarrow.csv does
SNAP_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # e.g. 2010-10-12T00:21:28Z
_STEM_FORMAT = "%Y-%m-%dT%H:%M:%S"  # the first 19 characters of an accepted time
# A UTC time: SNAP's "Z", or a zero offset written "+00:00", "+0000" (or "-00:00"); a time
# without a zone is refused (it could be local time), as is a non-zero offset.
_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-]00:?00)$"
_MAX_SECONDS = (2**63 - 1) // 10**9  # times must fit datetime64[ns]: years 1678 to 2261
DEFAULT_MAX_SKIPPED = 0.01  # with on_bad_lines="skip": most of the non-blank lines that may be skipped
MAX_ID = 10**18  # ids must be integers in [0, MAX_ID)
MAX_EXAMPLES = 5  # skipped lines quoted in a ReadReport
ON_BAD_LINES = ("error", "skip")

BLANK = "blank line"
HEADER = "header line"
COLUMNS = "wrong column count"

CHECKIN_COLUMNS = (("user", "id"), ("time", "time"), ("lat", "lat"), ("lon", "lon"), ("location_id", "id"))
EDGE_COLUMNS = (("user", "id"), ("friend", "id"))

_LABELS = {"user": "user id", "friend": "friend id", "location_id": "location id", "time": "time", "lat": "latitude",
           "lon": "longitude"}
_RANGES = {"lat": 90.0, "lon": 180.0}  # |value| <= limit, degrees
# What pyarrow's parsers accept (spaces around numbers are trimmed by pyarrow.csv).
_ID_PATTERN = r"^ *(-?0+|0*[0-9]{1,18}) *$"  # non-negative, below 10**18 ("-0" is 0)
_FLOAT_PATTERN = r"^ *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)? *$"  # finite decimal
_PRINTABLE_PATTERN = r"^[\x20-\x7e]*$"
_BLANK_PATTERN = r"^[ \t]*$"


class InputError(ValueError):
    """A problem with an input file, naming the file and, where known, the line.

    Attributes: ``path`` (str, the file as given), ``line`` (1-based line number of the problem, or None when it
    concerns the whole file) and ``problem`` (what was expected and what was found).
    """

    def __init__(self, path, line, problem):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        return (type(self), (self.path, self.line, self.problem))


@dataclass
class ReadReport:
    """How the lines of one input file (``path``) were used: ``lines_total`` (``\\n``, ``\\r\\n`` or a lone
    ``\\r`` end a line; blank ones included), ``rows_read``, ``skipped`` (reason -> lines not turned into
    rows: ``"blank line"`` under both policies, never an error; ``"header line"``, ``"wrong column
    count"``, ``"bad latitude"``, ... only with ``on_bad_lines="skip"``) and ``examples``,
    ``(line, reason, text)`` of the first few skipped lines that were not blank."""

    path: str
    lines_total: int
    rows_read: int
    skipped: dict = field(default_factory=dict)
    examples: list = field(default_factory=list)

    def __post_init__(self):
        if self.rows_read + sum(self.skipped.values()) != self.lines_total:
            raise ValueError(
                f"ReadReport for {self.path}: rows_read={self.rows_read} + skipped="
                f"{sum(self.skipped.values())} does not add up to lines_total={self.lines_total}"
            )

    @property
    def rows_skipped(self):
        """Lines not turned into rows (blank ones included)."""
        return sum(self.skipped.values())


# --------------------------------------------------------------------------- reading


def read_checkins(path, *, on_bad_lines="error", max_skipped=DEFAULT_MAX_SKIPPED):
    """Read a SNAP check-ins file into the raw check-ins frame.

    ``path``: ``user<TAB>time<TAB>lat<TAB>lon<TAB>location_id`` lines (UTC times), plain or gzip; a pipe is read once.
    ``on_bad_lines="error"`` raises :class:`InputError` at the first bad line; ``"skip"`` drops bad
    lines and counts them by reason in the :class:`ReadReport`. ``max_skipped``: with ``"skip"``, the largest fraction
    of the non-blank lines that may be skipped (default 0.01); more stops the run with :class:`InputError` giving the
    counts by reason (a file in another format would otherwise lose most of its lines silently).

    Returns pandas.DataFrame: columns ``user`` (int64), ``time`` (datetime64[ns, UTC]), ``lat``,
    ``lon`` (float64, degrees), ``location_id`` (int64), in file order, index 0..n-1.
    ``frame.attrs["read_report"]`` holds the :class:`ReadReport`.

    ``FileNotFoundError`` when ``path`` does not exist; :class:`InputError` for a bad line (with
    ``"error"``), a truncated or corrupt gzip stream, or no check-ins; ``ValueError``: for a bad ``on_bad_lines``.
    """
    return _read_snap(path, CHECKIN_COLUMNS, on_bad_lines=on_bad_lines, what="check-ins", max_skipped=max_skipped)


def read_edges(path, *, on_bad_lines="error", max_skipped=DEFAULT_MAX_SKIPPED):
    """Read a SNAP friendship file (``loc-gowalla_edges``: ``user<TAB>friend``; plain text or gzip, no header).

    ``on_bad_lines`` and ``max_skipped`` as in :func:`read_checkins`. Returns pandas.DataFrame: columns ``user``,
    ``friend`` (int64), in file order, with ``attrs["read_report"]``.
    """
    return _read_snap(path, EDGE_COLUMNS, on_bad_lines=on_bad_lines, what="edges", max_skipped=max_skipped)


def _read_snap(path, schema, *, on_bad_lines, what, force_slow=False, max_skipped=DEFAULT_MAX_SKIPPED):
    check_choice("on_bad_lines", on_bad_lines, ON_BAD_LINES)
    max_skipped = check_fraction("max_skipped", max_skipped, high_open=False)
    path_text = os.fspath(path)
    if not os.path.exists(path_text):
        raise FileNotFoundError(errno.ENOENT, f"{what} file not found: {path_text}", path_text)
    if os.path.isdir(path_text):
        raise IsADirectoryError(errno.EISDIR, f"expected a {what} file, found a folder: {path_text}", path_text)
    data = None
    if not os.path.isfile(path_text):  # a pipe or a device gives its bytes once: both passes read this copy
        with open(path_text, "rb") as handle:
            data = handle.read()
    table = None if force_slow else _fast_parse(path_text, schema, data)
    if table is not None:
        report = ReadReport(path=path_text, lines_total=table.num_rows, rows_read=table.num_rows)
    else:
        table, report = _slow_parse(path_text, schema, on_bad_lines=on_bad_lines, what=what, data=data)
        _require_few_skipped(report, max_skipped)
    frame = _to_frame(table, schema)
    frame.attrs["read_report"] = report
    return frame


def _require_few_skipped(report, max_skipped):
    """InputError when more than ``max_skipped`` of the non-blank lines were skipped."""
    blank = report.skipped.get(BLANK, 0)
    skipped = report.rows_skipped - blank
    non_blank = report.lines_total - blank
    if non_blank and skipped > max_skipped * non_blank:
        detail = ", ".join(f"{count:,} {reason}" for reason, count in report.skipped.items() if reason != BLANK)
        first = report.examples[0] if report.examples else None
        example = f"; first: line {first[0]}, {first[1]}: '{first[2]}'" if first else ""
        raise InputError(report.path, None, f"{skipped:,} of {non_blank:,} lines ({skipped / non_blank:.1%}) are bad "
                         f"({detail}){example}; more than max_skipped={max_skipped:g} of them: is the file in SNAP format?")


def gzip_error(path_text, exc):
    """The InputError of a broken gzip stream (truncated or corrupt), naming the file."""
    kind = "truncated" if isinstance(exc, EOFError) else "corrupt"
    return InputError(path_text, None, f"the gzip stream is {kind} ({exc}); download the file again")


def _is_gzip(path_text, data=None):
    if data is not None:
        return data[:2] == GZIP_MAGIC
    with open(path_text, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _arrow_types(schema):
    kinds = {"id": pa.int64(), "time": pa.string(), "lat": pa.float64(), "lon": pa.float64()}
    return {name: kinds[kind] for name, kind in schema}


def _fast_parse(path_text, schema, data=None):
    """One pyarrow pass with range checks; None when anything is off (the slow pass decides).

    ``data``: the file's bytes, already read (a pipe); None reads ``path_text``.
    """
    names = [name for name, _ in schema]
    try:
        source = path_text if data is None else pa.py_buffer(data)
        stream = pa.input_stream(source, compression="gzip" if _is_gzip(path_text, data) else None)
        convert = pv.ConvertOptions(column_types=_arrow_types(schema), null_values=[], strings_can_be_null=False)
        with stream:
            table = pv.read_csv(
                stream,
                read_options=pv.ReadOptions(column_names=names),
                parse_options=pv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=False),
                convert_options=convert,
            )
    except (pa.ArrowException, OSError, EOFError):
        return None
    if table.num_rows == 0 or table.num_columns != len(schema):
        return None
    for name, kind in schema:
        values = table.column(name)
        if values.null_count:
            return None
        if kind == "time":
            ok, parsed = _parse_times(values.combine_chunks())
            if not ok.all():
                return None
            table = table.set_column(table.schema.get_field_index(name), name, parsed)
            continue
        low, high = (0, MAX_ID - 1) if kind == "id" else (-_RANGES[kind], _RANGES[kind])
        for chunk in values.chunks:  # views of the parsed blocks: no copy of the column
            array = chunk.to_numpy(zero_copy_only=True)
            # NaN makes min and max NaN, which fails both tests, as infinities do
            if array.size and not (low <= array.min() and array.max() <= high):
                return None
    return table


def _read_text(path_text, data=None):
    """The file's bytes (``data`` when already read), decompressed when gzip; InputError for a broken gzip stream."""
    raw = data
    if raw is None:
        with open(path_text, "rb") as handle:
            raw = handle.read()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise gzip_error(path_text, exc) from exc


def _split_lines(data):
    """Lines of ``data`` (without their ends) as a pyarrow large_binary array.

    ``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line, as in pyarrow.csv.
    """
    text = np.frombuffer(data, dtype=np.uint8)
    newline = text == 10
    carriage = text == 13
    ends = newline.copy()
    ends[:-1] |= carriage[:-1] & ~newline[1:]  # a lone \r
    if text.size:
        ends[-1] |= carriage[-1]
    end_positions = np.flatnonzero(ends)
    terminator_positions = np.flatnonzero(newline | carriage)
    del newline, carriage, ends
    if text.size and (end_positions.size == 0 or end_positions[-1] != text.size - 1):
        end_positions = np.append(end_positions, text.size)  # last line without a line end
    content = np.delete(text, terminator_positions)
    # content offset of a line end = its position minus the terminators before it
    offsets = np.empty(end_positions.size + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = end_positions - np.searchsorted(terminator_positions, end_positions)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(content)]
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), end_positions.size, buffers)


def _matches(values, pattern):
    return pc.match_substring_regex(values, pattern).to_numpy(zero_copy_only=False).astype(bool)


def _as_text(values, mask, fill):
    """Binary values where ``mask``, ``fill`` elsewhere, as a string array (safe: ASCII)."""
    kept = pc.if_else(pa.array(mask), values, pa.scalar(fill, pa.large_binary()))
    return kept.cast(pa.large_string())


def _check_field(values, kind):
    """(ok mask, arrow values) for one field of the lines with the right column count."""
    if kind == "id":
        ok = _matches(values, _ID_PATTERN)
        parsed = pc.utf8_trim(_as_text(values, ok, b"0"), " ").cast(pa.int64())
        return ok, parsed
    if kind == "time":
        ok = _matches(values, _PRINTABLE_PATTERN)
        time_ok, parsed = _parse_times(_as_text(values, ok, b"x"))
        return ok & time_ok, parsed
    ok = _matches(values, _FLOAT_PATTERN)
    parsed = pc.utf8_trim(_as_text(values, ok, b"0"), " ").cast(pa.float64())
    numbers = parsed.to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(numbers) & (np.abs(numbers) <= _RANGES[kind])
    return ok, parsed


def _parse_times(text):
    """(ok mask, timestamp[s] values) of time strings; the one rule of both passes.

    A time is accepted when it matches :data:`_TIME_PATTERN`, names a real calendar date
    and time (no 2010-02-29, no April 31, no second 60 or 61: formatted back, it reads the
    same) and fits ``datetime64[ns]``.
    """
    ok = _matches(text, _TIME_PATTERN)
    stem = pc.utf8_slice_codeunits(text, 0, 19)
    parsed = pc.strptime(stem, format=_STEM_FORMAT, unit="s", error_is_null=True)
    same = pc.equal(pc.strftime(parsed, format=_STEM_FORMAT), stem)
    seconds = pc.cast(parsed, pa.int64())
    in_range = pc.and_(pc.greater_equal(seconds, -_MAX_SECONDS), pc.less_equal(seconds, _MAX_SECONDS))
    ok &= pc.fill_null(pc.and_(same, in_range), False).to_numpy(zero_copy_only=False).astype(bool)
    return ok, parsed


def _slow_parse(path_text, schema, *, on_bad_lines, what, data=None):
    """Line-oriented pass: exact line numbers, reasons, and the rows of the good lines."""
    data = _read_text(path_text, data)
    if data.startswith(UTF8_BOM):  # as pyarrow.csv (the fast pass) does: an editor's mark, not data
        data = data[len(UTF8_BOM):]
    lines = _split_lines(data)
    del data
    n_lines = len(lines)
    n_columns = len(schema)
    names = [name for name, _ in schema]
    reasons = [BLANK, HEADER, COLUMNS] + [f"bad {_LABELS[name]}" for name in names]
    code = np.zeros(n_lines, dtype=np.int8)  # 0 = good, i + 1 = reasons[i]

    blank = _matches(lines, _BLANK_PATTERN) if n_lines else np.zeros(0, bool)
    fields = pc.split_pattern(lines, "\t")
    n_fields = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
    right_count = ~blank & (n_fields == n_columns)
    code[~blank & ~right_count] = 3
    code[blank] = 1

    candidates = fields.filter(pa.array(right_count))
    candidate_rows = np.flatnonzero(right_count)
    candidate_ok = np.ones(candidate_rows.size, dtype=bool)
    candidate_code = np.zeros(candidate_rows.size, dtype=np.int8)
    columns = {}
    for index, (name, kind) in enumerate(schema):
        ok, parsed = _check_field(pc.list_element(candidates, index), kind)
        candidate_code[candidate_ok & ~ok] = 4 + index  # first failing field names the reason
        candidate_ok &= ok
        columns[name] = parsed
    code[candidate_rows] = candidate_code

    non_blank = np.flatnonzero(~blank)
    if non_blank.size and code[non_blank[0]] >= 3:
        first = non_blank[0]
        first_field = lines[first].as_py().split(b"\t")[0]
        # a header is printable words ("user"): not the first bytes of a binary file, nor a
        # check-in with other separators (its digits give it away: "0 2010-10-12T00:21:28Z ...")
        if (re.search(rb"[A-Za-z]", first_field) and not re.search(rb"[0-9]", first_field)
                and re.fullmatch(rb"[\x20-\x7e]+", first_field)):
            code[first] = 2

    bad = np.flatnonzero(code >= 2)
    if on_bad_lines == "error" and bad.size:
        line = int(bad[0])
        raise InputError(path_text, line + 1, _explain(lines[line].as_py(), reasons[code[line] - 1], schema))

    counts = np.bincount(code, minlength=len(reasons) + 1)
    skipped = {reasons[i - 1]: int(counts[i]) for i in range(1, len(reasons) + 1) if counts[i]}
    examples = [(int(line) + 1, reasons[code[line] - 1], _display(lines[int(line)].as_py())) for line in bad[:MAX_EXAMPLES]]
    keep = pa.array(candidate_ok)
    table = pa.table({name: columns[name].filter(keep) for name in names})
    report = ReadReport(path=path_text, lines_total=n_lines, rows_read=table.num_rows, skipped=skipped, examples=examples)
    if table.num_rows == 0:
        if n_lines == 0:
            problem = f"no {what}: the file is empty"
        else:
            detail = ", ".join(f"{count} {reason}" for reason, count in skipped.items())
            problem = f"no {what}: none of its {n_lines} lines is a valid line ({detail})"
        raise InputError(path_text, None, problem)
    return table, report


def _display(raw, limit=200):
    text = raw.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + "..."


def _explain(raw, reason, schema):
    """The problem of one bad line, in words (what was expected, what was found)."""
    text = _display(raw)
    if reason == HEADER:
        return f"looks like a header line ('{text}'); SNAP files have no header (use on_bad_lines='skip' to drop it)"
    names = [name for name, _ in schema]
    if reason == COLUMNS:
        found = len(raw.split(b"\t"))
        return f"expected {len(schema)} tab-separated fields ({', '.join(names)}), found {found}: '{text}'"
    fields = raw.split(b"\t")
    for (name, kind), value_raw in zip(schema, fields):
        if reason != f"bad {_LABELS[name]}":
            continue
        label = _LABELS[name]
        value = _display(value_raw, limit=60)
        if kind == "id":
            return f"{label} '{value}' is not a non-negative integer below 10**18"
        if kind == "time":
            if re.match(_TIME_PATTERN.encode(), value_raw):
                return (f"{label} '{value}' is not a real date and time, or lies outside the years 1678 to 2261 "
                        "(a day past the month's end, hour 24, minute or second 60 or more)")
            return (f"{label} '{value}' is not a UTC time like 2010-10-12T00:21:28Z (a zero offset written +00:00 or "
                    "+0000 is accepted; a time without a zone or with another offset is not)")
        try:
            number = float(value_raw)
        except ValueError:
            return f"{label} '{value}' is not a number"
        if not np.isfinite(number):
            return f"{label} '{value}' is not finite"
        if not re.match(_FLOAT_PATTERN.encode(), value_raw):
            return f"{label} '{value}' is not a number"
        limit = int(_RANGES[kind])
        return f"{label} '{value}' is out of range [-{limit}, {limit}]"
    return f"{reason}: '{text}'"  # pragma: no cover - every reason is handled above


def _to_frame(table, schema):
    arrays = {}
    for name, kind in schema:
        values = table.column(name)
        if kind == "time":
            values = values.cast(pa.timestamp("ns", tz="UTC"))
        arrays[name] = values.combine_chunks()
    frame = pa.table(arrays).to_pandas(split_blocks=True)
    frame.index = pd.RangeIndex(len(frame))
    return frame
