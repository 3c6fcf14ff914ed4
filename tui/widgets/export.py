"""Writing result rows to CSV, JSON or JSONL files (no Textual, no engine: plain data).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> export_rows([("id", "int4"), ("name", "text")], [(1, "ann"), (2, None)], "jsonl", path)
    2
    >>> print(open(path).read(), end="")
    {"id": 1, "name": "ann"}
    {"id": 2, "name": null}
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = ["EXPORT_FORMATS", "export_rows"]

EXPORT_FORMATS = ("csv", "json", "jsonl")
"""Formats understood by `export_rows` and carried by `ResultsGrid.ExportRequested`."""


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return str(value)
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if decimal.Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_value(item) for item in value]
    return str(value)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float, decimal.Decimal)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)


def _unique_names(columns: Sequence[str | tuple[str, str]]) -> list[str]:
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


def export_rows(
    columns: Sequence[str | tuple[str, str]],
    rows: Iterable[Sequence[Any]],
    fmt: str,
    path: str | os.PathLike[str],
) -> int:
    """Write `rows` to `path` as CSV, JSON or JSONL and return how many rows were written.

    `columns` are names or ``(name, type)`` pairs. CSV has a header line and writes NULL as
    an empty field; JSON is one array of objects; JSONL one object a line (duplicate column
    names get ``_2``, ``_3``… in objects). Rows are streamed, so `rows` may be a generator.
    The file appears complete or not at all (written beside it, then renamed).

    Raises:
        ValueError: `fmt` is not one of EXPORT_FORMATS.
        OSError: the file cannot be written (the partial file is removed).
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {EXPORT_FORMATS}")
    target = Path(path)
    partial = target.with_name(f".{target.name}.part")
    names = _unique_names(columns)
    count = 0
    try:
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            if fmt == "csv":
                import csv  # noqa: PLC0415 - only when exporting (start-up time)

                writer = csv.writer(handle)
                writer.writerow(names)
                for row in rows:
                    writer.writerow([_csv_value(value) for value in row])
                    count += 1
            elif fmt == "jsonl":
                for row in rows:
                    record = {name: _json_value(value) for name, value in zip(names, row)}
                    handle.write(json.dumps(record, ensure_ascii=False))
                    handle.write("\n")
                    count += 1
            else:
                handle.write("[")
                for row in rows:
                    record = {name: _json_value(value) for name, value in zip(names, row)}
                    handle.write(",\n" if count else "\n")
                    handle.write(json.dumps(record, ensure_ascii=False))
                    count += 1
                handle.write("\n]\n" if count else "]\n")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count
