"""Result rows as CSV, JSON and JSON lines: one text form per value, for every writer.

``aishell run --format csv|json|jsonl`` and the results grid's export write through this module,
so the same row comes out the same way from both. The forms, and why:

CSV follows PostgreSQL's text forms, as ``psql``'s ``\\copy … CSV`` writes them, so a file loads
back with ``COPY … FROM … CSV``:
NULL is an empty field; booleans ``t``/``f`` (psql, COPY); floats their shortest exact digits,
``NaN``, ``Infinity``, ``-Infinity``; decimals their own digits; bytes ``\\x`` hex; timestamps
``2024-01-02 03:04:05.5+00``, ±infinity by name; intervals ``1 day 02:03:04``; arrays array
literals ``{1,2,NULL}``; composites ``(1,abc)``; ranges ``[1,5)``; JSON documents (jsonb, dicts)
their JSON text. The results grid shows PostgreSQL values in these same forms (:func:`pg_text` is
the PostgreSQL driver's ``value_text``), so a cell reads as psql prints it and as it exports.

JSON follows what ``to_json`` writes and JSON readers accept:
decimals are numbers written from their own digits (exact, ``1.10`` stays ``1.10``; read them with
``parse_float=Decimal`` to keep every digit); ``NaN``/``Infinity`` are not JSON, so they are the
strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (PostgreSQL's ``to_json`` does the same; a
``null`` would be mistaken for SQL NULL); timestamps ISO 8601 (``2024-01-02T03:04:05+00:00``);
intervals ISO 8601 durations (``P1DT2H3M4S``), since JSON has no interval and readers parse
ISO 8601; bytes the ``"\\x…"`` hex string; arrays JSON arrays; json/jsonb columns and dicts
nested JSON, not a string holding JSON.

Values from MongoDB arrive flattened (:mod:`aishell.engine.mongo.flatten`); a BSON value that
reaches this module unflattened (ObjectId, Timestamp, Regex…) gets the same shell text as in the
grid, through :func:`~aishell.engine.mongo.flatten.cell`.

Duplicate column names get ``_2``, ``_3``… in CSV headers and JSON objects, so readers that key
by name (``csv.DictReader``, JSON objects) lose no column.

>>> import datetime as dt, decimal, io
>>> row = (True, [1, None], decimal.Decimal("1.10"), float("nan"), dt.timedelta(days=1, hours=2))
>>> pg_text(row[0]), pg_text(row[1]), pg_text(row[4])
('t', '{1,NULL}', '1 day 02:00:00')
>>> [json_text(v) for v in row]
['true', '[1, null]', '1.10', '"NaN"', '"P1DT2H"']
>>> out = io.StringIO()
>>> writer = CsvRowWriter(out, ["a", "a"])
>>> writer.header(); writer.rows([row[:2]]); print(out.getvalue(), end="")
a,a_2
t,"{1,NULL}"
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TextIO

from aishell.engine.errors import AishellError
from aishell.engine.files import private_opener
from aishell.engine.types import InfiniteDate, Interval

__all__ = [
    "EXPORT_FORMATS", "CopyTextRowWriter", "CsvRowWriter", "ExportError", "JsonRowEncoder", "RecordError", "RowFile",
    "csv_records", "export_format", "export_rows", "json_text", "pg_text", "text_records", "unique_names",
]

EXPORT_FORMATS = ("csv", "json", "jsonl", "parquet")
"""Formats :func:`export_rows` writes (Parquet with the optional extra ``aishell[parquet]``)."""

ColumnSpec = str | tuple[str, str]
"""A column as a name or a ``(name, type name)`` pair."""

_JSON_DOCUMENT_TYPES = frozenset({"json", "jsonb"})


# -- PostgreSQL text form (CSV and the command line's table) -----------------------------------


def pg_text(value: Any) -> str | None:
    """The PostgreSQL text form of one value, ``None`` for NULL.

    >>> pg_text(b"\\x01\\xff"), pg_text(float("-inf")), pg_text({"k": [1, "x"]})
    ('\\\\x01ff', '-Infinity', '{"k": [1, "x"]}')
    """
    convert = _TEXT.get(type(value))
    if convert is None:
        convert = _TEXT[type(value)] = _text_converter(type(value))
    return convert(value)


def _text_converter(cls: type) -> Callable[[Any], str | None]:
    if cls is type(None):
        return lambda value: None
    if issubclass(cls, bool):
        return lambda value: "t" if value else "f"
    if issubclass(cls, str):
        return str
    if issubclass(cls, int):
        return int.__repr__
    if issubclass(cls, float):
        return _float_text
    if issubclass(cls, decimal.Decimal):
        return _decimal_text
    if issubclass(cls, _dt.datetime):
        return _timestamp_text
    if issubclass(cls, InfiniteDate):
        return str
    if issubclass(cls, _dt.date):
        return _date_text
    if issubclass(cls, _dt.time):
        return _time_text
    if issubclass(cls, uuid.UUID):
        return str
    if issubclass(cls, Interval):
        return _stored_interval_text
    if issubclass(cls, _dt.timedelta):
        return _interval_text
    if issubclass(cls, (bytes, bytearray, memoryview)):
        return lambda value: "\\x" + bytes(value).hex()
    if issubclass(cls, (list, tuple, set, frozenset)):
        return _array_literal
    if issubclass(cls, Mapping):
        return json_text
    return _other_text


def _float_text(value: float) -> str:
    """Shortest exact digits laid out as float8out does: ``1``, ``0.1``, ``1e-05``, ``1e+15``.

    Python's repr already has the digits and, below 1e-4 and from 1e16 on, PostgreSQL's
    exponent form; it differs in ``.0`` on whole numbers and in the fixed form of 1e15…1e16.
    """
    if value - value != 0:
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    text = float.__repr__(value)
    if text.endswith(".0"):
        if 1e15 <= abs(value) < 1e16:  # exponent 15: PostgreSQL's %e form, Python's fixed one
            sign = "-" if value < 0 else ""
            digits = text.lstrip("-")[:-2].rstrip("0")
            return sign + digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + "e+15"
        return text[:-2]
    return text


def _decimal_text(value: decimal.Decimal) -> str:
    """numeric's digits as stored, never an exponent (``1.0E+5`` is ``100000``, ``1E-8`` is
    ``0.00000001``); NaN and ±Infinity by name."""
    return format(value, "f") if value.is_finite() else str(value)


def _fraction(micros: int) -> str:
    return f".{micros:06d}".rstrip("0") if micros else ""


def _utc_offset(value: _dt.datetime | _dt.time) -> str:
    """``+00``, ``+05:30``, ``-08``: the offset as PostgreSQL prints it (minutes only when set)."""
    offset = value.utcoffset()
    if offset is None:
        return ""
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}" + (f":{minutes:02d}" if minutes or seconds else "") + (f":{seconds:02d}" if seconds else "")


def _timestamp_text(value: _dt.datetime) -> str:
    """``2026-12-03 19:45:01.123+00`` as psql shows it; asyncpg's stand-ins for ±infinity (the
    largest and smallest datetime) are ``infinity`` and ``-infinity``."""
    plain = value.replace(tzinfo=None)
    if plain == _dt.datetime.max or plain == _dt.datetime.min:
        return "infinity" if plain == _dt.datetime.max else "-infinity"
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"
            + _fraction(value.microsecond) + _utc_offset(value))


def _date_text(value: _dt.date) -> str:
    """``2026-12-03``; ±infinity arrive as :class:`InfiniteDate` (see engine.drivers.pg_values),
    so ``9999-12-31`` is itself."""
    return value.isoformat()


def _time_text(value: _dt.time) -> str:
    """``19:45:01.5+05:30``: time and timetz as psql shows them."""
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}" + _fraction(value.microsecond) + _utc_offset(value)


def _interval_text(value: _dt.timedelta) -> str:
    """``1 day 02:03:04.5``, ``-2 days -01:00:00``, ``00:00:00`` (IntervalStyle postgres)."""
    days = value.days
    if days >= 0:  # the common case, straight from the timedelta's own fields
        seconds, micros = value.seconds, value.microseconds
        hours, rest = divmod(seconds, 3600)
        clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}" + (f".{micros:06d}".rstrip("0") if micros else "")
        if not days:
            return clock
        text = "1 day" if days == 1 else f"{days} days"
        return text + " " + clock if seconds or micros else text
    sign, days, hours, minutes, seconds, micros = _interval_parts(value)
    parts = []
    if days:
        parts.append(f"{sign}{days} day" + ("" if days == 1 and not sign else "s"))
    if hours or minutes or seconds or micros or not days:
        fraction = f".{micros:06d}".rstrip("0") if micros else ""
        parts.append(f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}{fraction}")
    return " ".join(parts)


def _stored_interval_text(value: Interval) -> str:
    """An interval as stored, as interval_out writes it (IntervalStyle postgres): ``1 year 2 mons
    3 days 04:05:06.5``, ``25:00:00``, ``-1 days +02:00:00`` (a field after a negative one says
    its ``+``; a time part when it is not zero or nothing else is there).

    >>> _stored_interval_text(Interval(-14, 1, -1)), _stored_interval_text(Interval(0, 0, 0))
    ('-1 years -2 mons +1 day -00:00:00.000001', '00:00:00')
    """
    months, days, micros = value.parts
    years, months = (months // 12, months % 12) if months >= 0 else (-(-months // 12), -(-months % 12))
    parts = []
    before = False  # the field before was negative
    for count, unit in ((years, "year"), (months, "mon"), (days, "day")):
        if count:
            parts.append(("+" if before and count > 0 else "") + f"{count} {unit}" + ("" if count == 1 else "s"))
            before = count < 0
    if micros or not parts:
        hours, rest = divmod(abs(micros), 3_600_000_000)
        minutes, rest = divmod(rest, 60_000_000)
        seconds, fraction = divmod(rest, 1_000_000)
        sign = "-" if micros < 0 else ("+" if before else "")
        parts.append(f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}" + _fraction(fraction))
    return " ".join(parts)


def _interval_parts(value: _dt.timedelta) -> tuple[str, int, int, int, int, int]:
    total = value // _dt.timedelta(microseconds=1)
    sign = "-" if total < 0 else ""
    days, rest = divmod(abs(total), 86_400_000_000)
    seconds, micros = divmod(rest, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return sign, days, hours, minutes, seconds, micros


def _array_literal(value: Iterable[Any]) -> str:
    """``{1,2,NULL}``, ``{{1,2},{3,4}}``, ``{"a b","x\\"y"}`` as PostgreSQL's array_out writes them."""
    items = []
    append = items.append
    for item in value:
        if item is None:
            append("NULL")
        elif type(item) is int:  # the common case, never quoted
            append(int.__repr__(item))
        elif isinstance(item, (list, tuple)):
            append(_array_literal(item))
        else:
            text = pg_text(item)
            if text is None:
                append("NULL")
            elif text == "" or _array_quoted(text) or text.upper() == "NULL":
                append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
            else:
                append(text)
    return "{" + ",".join(items) + "}"


_array_quoted = re.compile(r'[{},"\\\s]').search
"""Whether an element needs quotes in an array literal (array_out's rule)."""
_RECORD_SPECIAL = frozenset('()[],"\\')


def _bound_text(value: Any) -> str:
    """One field of a composite or a range bound, quoted as record_out and range_out do."""
    text = pg_text(value)
    if text is None:
        return ""
    if text == "" or any(ch in _RECORD_SPECIAL or ch.isspace() for ch in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '""') + '"'
    return text


def _other_text(value: Any) -> str | None:
    kind = _foreign_kind(value)
    if kind == "record":  # asyncpg's composite values
        return "(" + ",".join(_bound_text(v) for v in value.values()) + ")"
    if kind == "range":
        if value.isempty:
            return "empty"
        lower = "" if value.lower is None else _bound_text(value.lower)
        upper = "" if value.upper is None else _bound_text(value.upper)
        return ("[" if value.lower_inc else "(") + lower + "," + upper + ("]" if value.upper_inc else ")")
    if kind == "bits":
        return value.as_string()
    if kind == "bson":
        plain = _mongo_cell(value)
        return pg_text(plain) if type(plain) is not type(value) else str(plain)
    return str(value)


def _foreign_kind(value: Any) -> str:
    """Which database library's value this is, by its class (no import of the library)."""
    cls = type(value)
    module = cls.__module__ or ""
    if module.startswith("asyncpg"):
        if cls.__name__ == "Record":
            return "record"
        if cls.__name__ == "Range":
            return "range"
        if cls.__name__ == "BitString":
            return "bits"
    if module.startswith("bson") or module == "aishell.engine.mongo.values":
        return "bson"
    return ""


def _mongo_cell(value: Any) -> Any:
    from aishell.engine.mongo.flatten import cell  # noqa: PLC0415 - only for unflattened BSON

    return cell(value)


_TEXT: dict[type, Callable[[Any], str | None]] = {}


# -- JSON ----------------------------------------------------------------------------------------


def json_text(value: Any) -> str:
    """The JSON text of one value (see the module docstring for each type's form).

    >>> json_text(None), json_text(float("inf")), json_text(b"\\x01"), json_text({"a": (1, True)})
    ('null', '"Infinity"', '"\\\\\\\\x01"', '{"a": [1, true]}')
    """
    convert = _JSON.get(type(value))
    if convert is None:
        convert = _JSON[type(value)] = _json_converter(type(value))
    return convert(value)


def _json_converter(cls: type) -> Callable[[Any], str]:
    if cls is type(None):
        return lambda value: "null"
    if issubclass(cls, bool):
        return lambda value: "true" if value else "false"
    if issubclass(cls, str):
        return _json_string
    if issubclass(cls, int):
        return int.__repr__
    if issubclass(cls, float):
        return lambda value: float.__repr__(value) if value - value == 0 else '"' + _float_text(value) + '"'
    if issubclass(cls, decimal.Decimal):
        return lambda value: str(value) if value.is_finite() else '"' + str(value) + '"'
    if issubclass(cls, InfiniteDate):
        return lambda value: '"' + str(value) + '"'
    if issubclass(cls, (_dt.datetime, _dt.date, _dt.time)):
        return lambda value: '"' + value.isoformat() + '"'
    if issubclass(cls, Interval):
        return lambda value: '"' + _stored_iso_duration(value) + '"'
    if issubclass(cls, _dt.timedelta):
        return lambda value: '"' + _iso_duration(value) + '"'
    if issubclass(cls, (bytes, bytearray, memoryview)):
        return lambda value: '"\\\\x' + bytes(value).hex() + '"'
    if issubclass(cls, (list, tuple, set, frozenset)):
        return lambda value: "[" + ", ".join([json_text(v) for v in value]) + "]"
    if issubclass(cls, Mapping):
        return _json_object
    return _json_other


_json_string = json.JSONEncoder(ensure_ascii=False).encode


def _json_object(value: Mapping[Any, Any]) -> str:
    return "{" + ", ".join([_json_string(str(k)) + ": " + json_text(v) for k, v in value.items()]) + "}"


def _json_other(value: Any) -> str:
    kind = _foreign_kind(value)
    if kind == "record":  # a composite: an object, as row_to_json writes it
        return _json_object(dict(value.items()))
    if kind == "bson":
        plain = _mongo_cell(value)
        if type(plain) is not type(value):
            return json_text(plain)
    return _json_string(_other_text(value))


def _iso_duration(value: _dt.timedelta) -> str:
    """ISO 8601: ``P1DT2H3M4.5S``, ``-PT1S``, ``PT0S``."""
    sign, days, hours, minutes, seconds, micros = _interval_parts(value)
    text = sign + "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or micros:
        clock += str(seconds) + (f".{micros:06d}".rstrip("0") if micros else "") + "S"
    if clock:
        text += "T" + clock
    return text if days or clock else "PT0S"


def _stored_iso_duration(value: Interval) -> str:
    """An interval as stored, in ISO 8601 with a sign a field (IntervalStyle iso_8601's form):
    ``P1Y2M3DT4H5M6.5S``, ``P-1DT2H``, ``PT0S``.

    >>> _stored_iso_duration(Interval(14, 3, 14_706_500_000)), _stored_iso_duration(Interval(0, -1, 7_200_000_000))
    ('P1Y2M3DT4H5M6.5S', 'P-1DT2H')
    """
    months, days, micros = value.parts
    years, months = (months // 12, months % 12) if months >= 0 else (-(-months // 12), -(-months % 12))
    sign = "-" if micros < 0 else ""
    hours, rest = divmod(abs(micros), 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    date = "".join(f"{count}{unit}" for count, unit in ((years, "Y"), (months, "M"), (days, "D")) if count)
    clock = "".join(f"{sign}{count}{unit}" for count, unit in ((hours, "H"), (minutes, "M")) if count)
    if seconds or fraction:
        clock += f"{sign}{seconds}" + _fraction(fraction) + "S"
    if not date and not clock:
        return "PT0S"
    return "P" + date + ("T" + clock if clock else "")


def _json_document(value: Any) -> str:
    """A json/jsonb column's value: nested JSON (asyncpg hands these over as text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_float=decimal.Decimal)
        except ValueError:
            return _json_string(value)
    return json_text(value)


_JSON: dict[type, Callable[[Any], str]] = {}


# -- writers -------------------------------------------------------------------------------------


def unique_names(columns: Sequence[ColumnSpec]) -> list[str]:
    """Column names with duplicates renamed ``name_2``, ``name_3``…

    >>> unique_names(["id", ("id", "int4"), "id_2"])
    ['id', 'id_2', 'id_2_2']
    """
    names: list[str] = []
    seen: dict[str, int] = {}
    for column in columns:
        name = column if isinstance(column, str) else column[0]
        if name in seen:
            seen[name] += 1
            candidate = f"{name}_{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}_{seen[name]}"
            name = candidate
        seen.setdefault(name, 1)
        names.append(name)
    return names


class CsvRowWriter:
    """RFC 4180 CSV on ``out``, one line a row (``\\n``), a page at a time, as COPY … CSV reads it.

    NULL is an unquoted empty field (or ``null``), an empty string a quoted one (``""``), so the
    two survive a round trip; ``delimiter`` is COPY's DELIMITER.

    The csv module writes str, int, UUIDs and None ("") in their text form itself, so only
    columns holding other types are converted, cell by cell. Looking at every
    cell of every page would cost a tenth of the writing, so a column is looked at until it shows
    values, and is trusted to keep its one type from then on (database columns have one type);
    a column that shows more than one type (SQLite, MongoDB documents) is looked at on every page.

    >>> import io
    >>> out = io.StringIO()
    >>> CsvRowWriter(out, ["a", "b", "c"]).rows([("", None, 'x"y')]); print(out.getvalue(), end="")
    "",,"x""y"
    """

    __slots__ = ("_csv", "_out", "_names", "_convert", "_watch", "_delimiter", "_null")

    def __init__(self, out: TextIO, columns: Sequence[ColumnSpec], *, delimiter: str = ",", null: str = "") -> None:
        import csv  # noqa: PLC0415 - only when writing CSV (start-up time)

        self._csv = csv.writer(out, lineterminator="\n", delimiter=delimiter)
        self._out = out
        self._names = unique_names(columns)
        self._delimiter = delimiter
        self._null = null
        self._convert: list[int] = []
        """Columns converted cell by cell."""
        self._watch: list[int] | None = None
        """Columns still looked at on each page (None: every column, before the first page)."""

    def header(self) -> None:
        if self._names:
            self._csv.writerow(self._names)

    def rows(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        watch = range(len(rows[0])) if self._watch is None else self._watch
        if watch:
            self._learn(rows, watch)
        convert = self._convert
        if convert:
            out = []
            for row in rows:
                cells = list(row)
                for i in convert:
                    text = pg_text(cells[i])
                    cells[i] = None if text is None else text
                out.append(cells)
            rows = out
        if self._null or any("" in row for row in rows):
            self._exact(rows)
        else:
            self._csv.writerows(rows)

    def _exact(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows holding an empty string (written ``""``, which the csv module cannot tell from
        NULL) or a NULL marker of its own: those rows field by field, the rest in bulk."""
        plain: list[Sequence[Any]] = []
        null = self._null
        for row in rows:
            if not null and "" not in row:
                plain.append(row)
                continue
            if plain:
                self._csv.writerows(plain)
                plain = []
            self._out.write(self._delimiter.join([self._field(v) for v in row]) + "\n")
        if plain:
            self._csv.writerows(plain)

    def _field(self, value: Any) -> str:
        if value is None:
            return self._null
        text = value if isinstance(value, str) else (pg_text(value) or "")
        if text == "" or text == self._null or any(ch in text for ch in (self._delimiter, '"', "\n", "\r")):
            return '"' + text.replace('"', '""') + '"'
        return text

    def _learn(self, rows: Sequence[Sequence[Any]], watch: Sequence[int]) -> None:
        still = []
        for i in watch:
            types = set(map(type, [row[i] for row in rows]))
            types.discard(type(None))
            if not types <= _CSV_NATIVE:
                self._convert.append(i)  # converting handles any type: no need to look again
            elif len(types) != 1:
                still.append(i)  # no values yet, or several types: look again next page
        self._watch = still


_CSV_NATIVE = frozenset({str, int, uuid.UUID, type(None)})
"""Types the csv module writes in their PostgreSQL text form itself (its ``str`` of a datetime,
a time or a Decimal is not psql's: ``+00:00``, ``.123000``, ``1E-8``)."""


class JsonRowEncoder:
    """Rows as JSON arrays or objects (keyed by :func:`unique_names`); json/jsonb columns nested."""

    __slots__ = ("_keys", "_cells")

    def __init__(self, columns: Sequence[ColumnSpec]) -> None:
        self._keys = [_json_string(name) + ": " for name in unique_names(columns)]
        self._cells = [
            _json_document if not isinstance(c, str) and c[1].lower() in _JSON_DOCUMENT_TYPES else json_text
            for c in columns
        ]

    def array(self, row: Sequence[Any]) -> str:
        return "[" + ", ".join([cell(v) for cell, v in zip(self._cells, row)]) + "]"

    def object(self, row: Sequence[Any]) -> str:
        return "{" + ", ".join([key + cell(v) for key, cell, v in zip(self._keys, self._cells, row)]) + "}"


class ExportError(AishellError):
    """A result cannot be written in the asked format (unknown format, missing optional package)."""

    title = "Export"


def export_format(path: str | os.PathLike[str]) -> str:
    """The export format a file name asks for, by its extension.

    >>> export_format("out/report.JSONL"), export_format("t.parquet")
    ('jsonl', 'parquet')

    Raises:
        ExportError: the extension is not one of EXPORT_FORMATS.
    """
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"{os.fspath(path)!r}: the file name must end in " + ", ".join("." + f for f in EXPORT_FORMATS))
    return fmt


class RowFile:
    r"""A result being written to a file, a page at a time: CSV, JSON, JSONL or Parquet.

    The file appears complete or not at all: rows go to a private file beside it (0600), renamed
    over the target by :meth:`close`; :meth:`abort` (or leaving the ``with`` block by an
    exception, a cancel included) removes it. Pages are encoded as they come, so memory stays
    bounded by a page (a Parquet row group).

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> with RowFile(path, "csv", [("id", "int4"), ("name", "text")]) as out:
    ...     out.write([(1, "ann"), (2, None)])
    >>> out.rows, open(path).read()
    (2, 'id,name\n1,ann\n2,\n')
    """

    def __init__(self, path: str | os.PathLike[str], fmt: str, columns: Sequence[ColumnSpec]) -> None:
        if fmt not in EXPORT_FORMATS:
            raise ExportError(f"unknown export format {fmt!r}; expected one of {EXPORT_FORMATS}")
        self.path = Path(path)
        self.rows = 0
        """Rows written so far."""
        self._fmt = fmt
        self._partial = self.path.with_name(f".{self.path.name}.part")
        self._parquet = _ParquetPages(columns) if fmt == "parquet" else None
        binary = self._parquet is not None
        self._handle: Any = open(self._partial, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""}), opener=private_opener)
        if self._parquet is not None:
            self._parquet.start(self._handle)
        elif fmt == "csv":
            self._csv = CsvRowWriter(self._handle, columns)
            self._csv.header()
        else:
            self._encode = JsonRowEncoder(columns).object
            if fmt == "json":
                self._handle.write("[")

    def __enter__(self) -> "RowFile":
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, page: Sequence[Sequence[Any]]) -> None:
        """Append a page of rows."""
        if not page:
            return
        if self._parquet is not None:
            self._parquet.write(page)
        elif self._fmt == "csv":
            self._csv.rows(page)
        elif self._fmt == "jsonl":
            encode = self._encode
            self._handle.write("".join([encode(row) + "\n" for row in page]))
        else:
            encode = self._encode
            self._handle.write(("\n" if not self.rows else ",\n") + ",\n".join([encode(row) for row in page]))
        self.rows += len(page)

    def close(self) -> None:
        """Finish the file and put it in place."""
        try:
            if self._parquet is not None:
                self._parquet.finish()
            elif self._fmt == "json":
                self._handle.write("\n]\n" if self.rows else "]\n")
            self._handle.close()
            os.replace(self._partial, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop what was written; the target is left as it was."""
        self._handle.close()
        self._partial.unlink(missing_ok=True)


def export_rows(
    columns: Sequence[ColumnSpec],
    rows: Iterable[Sequence[Any]],
    fmt: str,
    path: str | os.PathLike[str],
    *,
    page_size: int = 2000,
) -> int:
    """Write `rows` to `path` as CSV, JSON, JSONL or Parquet and return how many were written.

    `columns` are names or ``(name, type)`` pairs. CSV has a header line and writes NULL as
    an empty field; JSON is one array of objects; JSONL one object a line. Rows are streamed,
    so `rows` may be a generator. The file appears complete or not at all (see :class:`RowFile`).

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> export_rows([("id", "int4"), ("name", "text")], [(1, "ann"), (2, None)], "jsonl", path)
    2
    >>> print(open(path).read(), end="")
    {"id": 1, "name": "ann"}
    {"id": 2, "name": null}

    Raises:
        ExportError: `fmt` is not one of EXPORT_FORMATS, or Parquet without pyarrow.
        OSError: the file cannot be written (the partial file is removed).
    """
    with RowFile(path, fmt, columns) as out:
        for page in _pages(rows, page_size):
            out.write(page)
    return out.rows


def _pages(rows: Iterable[Sequence[Any]], size: int) -> Iterable[list[Sequence[Any]]]:
    page: list[Sequence[Any]] = []
    for row in rows:
        page.append(row)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


# -- Parquet (optional: pip install 'aishell[parquet]') --------------------------------------------

PARQUET_ROW_GROUP = 100_000
"""Rows a Parquet row group holds: what is kept in memory before it is written."""

_PARQUET_TYPES = {
    "bool": "bool_", "boolean": "bool_",
    "int2": "int16", "smallint": "int16", "int4": "int32", "integer": "int32", "int": "int64",
    "int8": "int64", "bigint": "int64", "oid": "int64",
    "float4": "float32", "real": "float32", "float8": "float64", "double precision": "float64", "float": "float64",
    "text": "string", "varchar": "string", "bpchar": "string", "name": "string", "char": "string",
    "date": "date32", "bytea": "binary", "blob": "binary",
}
"""Column types with a Parquet type of their own; every other value is written as its CSV text
(numeric too: Parquet decimals need a fixed scale, the text keeps every digit)."""


class _ParquetPages:
    """Rows gathered into row groups of PARQUET_ROW_GROUP and written with pyarrow."""

    def __init__(self, columns: Sequence[ColumnSpec]) -> None:
        try:
            import pyarrow  # noqa: PLC0415 - optional extra
            import pyarrow.parquet  # noqa: PLC0415, F401
        except ImportError:
            raise ExportError("Parquet needs pyarrow: pip install 'aishell[parquet]'") from None
        self._pa = pyarrow
        names = unique_names(columns)
        kinds = [c[1].lower() if not isinstance(c, str) else "" for c in columns]
        fields = []
        self._text: list[bool] = []
        for name, kind in zip(names, kinds):
            if kind in ("timestamp", "timestamptz"):
                arrow = pyarrow.timestamp("us", tz="UTC" if kind == "timestamptz" else None)
            elif kind in _PARQUET_TYPES:
                arrow = getattr(pyarrow, _PARQUET_TYPES[kind])()
            else:
                arrow = pyarrow.string()
            self._text.append(kind not in _PARQUET_TYPES and kind not in ("timestamp", "timestamptz"))
            fields.append(pyarrow.field(name, arrow))
        self._schema = pyarrow.schema(fields)
        self._buffer: list[Sequence[Any]] = []
        self._writer: Any = None

    def start(self, handle: Any) -> None:
        import pyarrow.parquet as pq  # noqa: PLC0415

        self._writer = pq.ParquetWriter(handle, self._schema)

    def write(self, page: Sequence[Sequence[Any]]) -> None:
        self._buffer.extend(page)
        if len(self._buffer) >= PARQUET_ROW_GROUP:
            self._flush()

    def finish(self) -> None:
        self._flush()
        self._writer.close()

    def _flush(self) -> None:
        rows, self._buffer = self._buffer, []
        if not rows:
            return
        pa = self._pa
        arrays = []
        for i, field in enumerate(self._schema):
            values = [row[i] for row in rows]
            if self._text[i]:
                values = [pg_text(v) for v in values]
            try:
                arrays.append(pa.array(values, type=field.type))
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
                raise ExportError(f"column {field.name!r} does not fit Parquet {field.type}: {exc}") from None
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema), row_group_size=len(rows))


# -- COPY files: text format, and reading CSV and text back (\copy … FROM on SQLite) --------------


class CopyTextRowWriter:
    r"""PostgreSQL's COPY text format: one line a row, fields split by ``delimiter`` (a tab),
    NULL as ``\\N``, backslash, newline, carriage return and the delimiter escaped.

    >>> import io
    >>> out = io.StringIO()
    >>> CopyTextRowWriter(out).rows([(1, None, "a\tb\\c")]); out.getvalue()
    '1\t\\N\ta\\tb\\\\c\n'
    """

    __slots__ = ("_out", "_delimiter", "_null", "_escapes")

    def __init__(self, out: TextIO, *, delimiter: str = "\t", null: str = "\\N") -> None:
        self._out = out
        self._delimiter = delimiter
        self._null = null
        escapes = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
        escapes.setdefault(delimiter, "\\" + delimiter)
        self._escapes = str.maketrans(escapes)

    def rows(self, rows: Sequence[Sequence[Any]]) -> None:
        escapes, null, join = self._escapes, self._null, self._delimiter.join
        lines = []
        for row in rows:
            fields = []
            for value in row:
                text = pg_text(value)
                fields.append(null if text is None else text.translate(escapes))
            lines.append(join(fields))
        if lines:
            self._out.write("\n".join(lines) + "\n")


class RecordError(AishellError):
    """A line of a COPY file cannot be read; the message names the line."""

    title = "Copy"


def csv_records(
    lines: Iterable[str], *, delimiter: str = ",", quote: str = '"', null: str = "", header: bool = False,
) -> Iterator[tuple[int, list[str | None]]]:
    r"""``(line number, fields)`` for each record of a CSV file as COPY … CSV reads it: an unquoted
    ``null`` (empty by default) is NULL, a quoted empty field the empty string.

    >>> list(csv_records(['a,b\n', '1,""\n', ',"x\n', 'y"\n'], header=True))
    [(2, ['1', '']), (3, [None, 'x\ny'])]
    >>> list(csv_records(['1,"open\n']))
    Traceback (most recent call last):
    ...
    aishell.engine.encode.RecordError: line 1: unterminated quoted field
    """
    import csv  # noqa: PLC0415

    raw: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            raw.append(line)
            yield line

    reader = csv.reader(feed(), delimiter=delimiter, quotechar=quote, strict=True)
    first = True
    start = 1
    while True:
        try:
            fields: list[Any] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = "unterminated quoted field" if "EOF" in str(exc) or "end of data" in str(exc) else str(exc)
            raise RecordError(f"line {start}: {reason}") from None
        text = "".join(raw)
        raw.clear()
        line, start = start, reader.line_num + 1
        if first and header:
            first = False
            continue
        first = False
        if not fields and text.strip("\r\n") == "":
            continue  # an empty line: COPY would read one NULL column; csv gives no fields
        if null in fields:
            quoted = _quoted_fields(text, delimiter, quote) if quote in text else None
            fields = [None if value == null and (quoted is None or not quoted[i]) else value for i, value in enumerate(fields)]
        yield line, fields


def _quoted_fields(text: str, delimiter: str, quote: str) -> list[bool]:
    """Which fields of one record were quoted (the csv module does not say)."""
    quoted = []
    i, n = 0, len(text.rstrip("\r\n"))
    while True:
        if i < n and text[i] == quote:
            quoted.append(True)
            i += 1
            while i < n:
                if text[i] == quote:
                    if i + 1 < n and text[i + 1] == quote:
                        i += 2
                        continue
                    break
                i += 1
            i += 1
        else:
            quoted.append(False)
        end = text.find(delimiter, i)
        if end < 0 or end >= n:
            return quoted
        i = end + 1


def text_records(
    lines: Iterable[str], *, delimiter: str = "\t", null: str = "\\N", header: bool = False,
) -> Iterator[tuple[int, list[str | None]]]:
    r"""``(line number, fields)`` for each line of a COPY text file (backslash escapes undone).

    >>> list(text_records(['1\t\\N\ta\\tb\n']))
    [(1, ['1', None, 'a\tb'])]
    """
    for number, line in enumerate(lines, 1):
        if number == 1 and header:
            continue
        line = line.rstrip("\n").rstrip("\r")
        if line == "\\.":
            return
        if "\\" not in line:
            yield number, [None if field == null else field for field in line.split(delimiter)]
            continue
        fields: list[str | None] = []
        current: list[str] = []
        raw: list[str] = []
        i = 0
        while i <= len(line):
            ch = line[i] if i < len(line) else None
            if ch is None or ch == delimiter:
                text = "".join(raw)
                fields.append(None if text == null else "".join(current))
                current, raw = [], []
                i += 1
                continue
            if ch == "\\" and i + 1 < len(line):
                nxt = line[i + 1]
                current.append(_TEXT_ESCAPES.get(nxt, nxt))
                raw.append(ch + nxt)
                i += 2
                continue
            current.append(ch)
            raw.append(ch)
            i += 1
        yield number, fields


_TEXT_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}
