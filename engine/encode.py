"""Result rows as CSV, JSON and JSON lines: one text form per value, for every writer.

``aishell run --format csv|json|jsonl`` and the results grid's export write through this module,
so the same row comes out the same way from both. The forms, and why:

CSV follows PostgreSQL's text forms, as ``psql``'s ``\\copy … CSV`` writes them, so a file loads
back with ``COPY … FROM … CSV``:
NULL is an empty field; booleans ``t``/``f`` (psql, COPY); floats their shortest exact digits,
``NaN``, ``Infinity``, ``-Infinity``; decimals their own digits; bytes ``\\x`` hex; timestamps
``2024-01-02 03:04:05+00:00``; intervals ``1 day 02:03:04``; arrays array literals ``{1,2,NULL}``;
composites ``(1,abc)``; ranges ``[1,5)``; JSON documents (jsonb, dicts) their JSON text.

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
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TextIO

from aishell.engine.files import private_opener

__all__ = [
    "EXPORT_FORMATS", "CsvRowWriter", "JsonRowEncoder", "export_rows", "json_text", "pg_text", "unique_names",
]

EXPORT_FORMATS = ("csv", "json", "jsonl")
"""Formats :func:`export_rows` writes."""

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
    if issubclass(cls, (decimal.Decimal, uuid.UUID, _dt.datetime, _dt.date, _dt.time)):
        return str
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
    if value - value == 0:  # finite: shortest exact digits, as PostgreSQL 12+ prints them
        return float.__repr__(value)
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _interval_text(value: _dt.timedelta) -> str:
    """``1 day 02:03:04.5``, ``-2 days -01:00:00``, ``00:00:00`` (IntervalStyle postgres)."""
    sign, days, hours, minutes, seconds, micros = _interval_parts(value)
    parts = []
    if days:
        parts.append(f"{sign}{days} day" + ("" if days == 1 and not sign else "s"))
    if hours or minutes or seconds or micros or not days:
        fraction = f".{micros:06d}".rstrip("0") if micros else ""
        parts.append(f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}{fraction}")
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
    for item in value:
        if isinstance(item, (list, tuple)):
            items.append(_array_literal(item))
            continue
        text = pg_text(item)
        if text is None:
            items.append("NULL")
        elif text == "" or text.upper() == "NULL" or any(ch in _ARRAY_SPECIAL or ch.isspace() for ch in text):
            items.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            items.append(text)
    return "{" + ",".join(items) + "}"


_ARRAY_SPECIAL = frozenset('{},"\\')
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
    if issubclass(cls, (_dt.datetime, _dt.date, _dt.time)):
        return lambda value: '"' + value.isoformat() + '"'
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
    """RFC 4180 CSV on ``out``, one line a row (``\\n``), a page at a time.

    The csv module writes str, int, Decimal, dates, UUIDs and None ("") in their text form
    itself, so only columns holding other types are converted, cell by cell. Looking at every
    cell of every page would cost a tenth of the writing, so a column is looked at until it shows
    values, and is trusted to keep its one type from then on (database columns have one type);
    a column that shows more than one type (SQLite, MongoDB documents) is looked at on every page.
    """

    __slots__ = ("_csv", "_names", "_convert", "_watch")

    def __init__(self, out: TextIO, columns: Sequence[ColumnSpec]) -> None:
        import csv  # noqa: PLC0415 - only when writing CSV (start-up time)

        self._csv = csv.writer(out, lineterminator="\n")
        self._names = unique_names(columns)
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
        if not convert:
            self._csv.writerows(rows)
            return
        out = []
        for row in rows:
            cells = list(row)
            for i in convert:
                text = pg_text(cells[i])
                cells[i] = "" if text is None else text
            out.append(cells)
        self._csv.writerows(out)

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


_CSV_NATIVE = frozenset({str, int, decimal.Decimal, _dt.datetime, _dt.date, _dt.time, uuid.UUID, type(None)})


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


def export_rows(
    columns: Sequence[ColumnSpec],
    rows: Iterable[Sequence[Any]],
    fmt: str,
    path: str | os.PathLike[str],
    *,
    page_size: int = 2000,
) -> int:
    """Write `rows` to `path` as CSV, JSON or JSONL and return how many rows were written.

    `columns` are names or ``(name, type)`` pairs. CSV has a header line and writes NULL as
    an empty field; JSON is one array of objects; JSONL one object a line. Rows are streamed,
    so `rows` may be a generator. The file appears complete or not at all (written beside it,
    then renamed).

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> export_rows([("id", "int4"), ("name", "text")], [(1, "ann"), (2, None)], "jsonl", path)
    2
    >>> print(open(path).read(), end="")
    {"id": 1, "name": "ann"}
    {"id": 2, "name": null}

    Raises:
        ValueError: `fmt` is not one of EXPORT_FORMATS.
        OSError: the file cannot be written (the partial file is removed).
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {EXPORT_FORMATS}")
    target = Path(path)
    partial = target.with_name(f".{target.name}.part")
    count = 0
    try:
        with open(partial, "w", encoding="utf-8", newline="", opener=private_opener) as handle:
            if fmt == "csv":
                writer = CsvRowWriter(handle, columns)
                writer.header()
                for page in _pages(rows, page_size):
                    writer.rows(page)
                    count += len(page)
            else:
                encode = JsonRowEncoder(columns).object
                if fmt == "jsonl":
                    for row in rows:
                        handle.write(encode(row) + "\n")
                        count += 1
                else:
                    handle.write("[")
                    for row in rows:
                        handle.write((",\n" if count else "\n") + encode(row))
                        count += 1
                    handle.write("\n]\n" if count else "]\n")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


def _pages(rows: Iterable[Sequence[Any]], size: int) -> Iterable[list[Sequence[Any]]]:
    page: list[Sequence[Any]] = []
    for row in rows:
        page.append(row)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page
