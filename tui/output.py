"""Result writers for the command line: table, CSV, JSON and JSON lines, one page at a time.

Each writer emits as rows arrive, so memory does not grow with the result and the first row is
on screen before the last is fetched. JSON keeps exact values: decimals as JSON numbers written
from their text, timestamps in ISO 8601, bytes as ``\\x``-hex like psql.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any, Sequence, TextIO

from aishell.engine.drivers.base import Column


def writer_for(fmt: str, out: TextIO, columns: Sequence[Column]) -> "Writer":
    return {"table": TableWriter, "csv": CsvWriter, "json": JsonWriter, "jsonl": JsonLinesWriter}[fmt](out, columns)


class Writer:
    def __init__(self, out: TextIO, columns: Sequence[Column]) -> None:
        self.out = out
        self.columns = list(columns)
        self.names = [c.name for c in columns]

    def start(self) -> None: ...

    def rows(self, rows: list[tuple]) -> None: ...

    def finish(self, rowcount: int, elapsed_ms: float, status: str) -> None: ...


class JsonWriter(Writer):
    """``{"columns": [...], "rows": [[...]], "rowcount": N, "elapsed_ms": X}``, streamed."""

    def start(self) -> None:
        self.out.write('{"columns": ' + json.dumps(self.names) + ', "rows": [')
        self._first = True

    def rows(self, rows: list[tuple]) -> None:
        parts = []
        for row in rows:
            parts.append(("" if self._first else ", ") + "[" + ", ".join(json_value(v) for v in row) + "]")
            self._first = False
        self.out.write("".join(parts))

    def finish(self, rowcount: int, elapsed_ms: float, status: str) -> None:
        self.out.write(f'], "rowcount": {rowcount}, "elapsed_ms": {round(elapsed_ms, 3)}}}\n')


class JsonLinesWriter(Writer):
    """One JSON object a row, keyed by column name."""

    def start(self) -> None:
        self._keys = [json.dumps(n) for n in self.names]

    def rows(self, rows: list[tuple]) -> None:
        keys = self._keys
        self.out.write(
            "".join("{" + ", ".join(f"{k}: {json_value(v)}" for k, v in zip(keys, row)) + "}\n" for row in rows)
        )


class CsvWriter(Writer):
    """RFC 4180 CSV with a header row; NULL is an empty field."""

    def start(self) -> None:
        self._csv = csv.writer(self.out, lineterminator="\n")
        if self.names:
            self._csv.writerow(self.names)

        self._convert: list[int] | None = None

    def rows(self, rows: list[tuple]) -> None:
        if self._convert is None:
            # csv writes str, int, float, Decimal, dates and None (as "") itself; only columns
            # holding other types (bytes, bool, arrays, JSON) need converting, cell by cell.
            self._convert = [i for i in range(len(self.names)) if any(isinstance(r[i], bool) or not isinstance(r[i], _CSV_NATIVE) for r in rows)]
        if not self._convert:
            self._csv.writerows(rows)
            return
        convert = self._convert
        out = []
        for row in rows:
            cells = list(row)
            for i in convert:
                cells[i] = text_value(cells[i], null="")
            out.append(cells)
        self._csv.writerows(out)


class TableWriter(Writer):
    """An aligned table like psql's; widths come from the header and the first page."""

    MAX_WIDTH = 60

    def start(self) -> None:
        self._widths: list[int] | None = None
        self._numeric = [_is_numeric_type(c.type_name) for c in self.columns]

    def rows(self, rows: list[tuple]) -> None:
        texts = [[_cell(text_value(v, null="NULL"), self.MAX_WIDTH) for v in row] for row in rows]
        if self._widths is None:
            self._widths = [len(n) for n in self.names]
            for row in texts:
                for i, cell in enumerate(row):
                    self._widths[i] = max(self._widths[i], len(cell))
            self._header()
        lines = []
        for row in texts:
            cells = []
            for i, cell in enumerate(row):
                width = self._widths[i]
                cells.append(cell.rjust(width) if self._numeric[i] else cell.ljust(width))
            lines.append(" " + " | ".join(cells).rstrip() + "\n")
        self.out.write("".join(lines))

    def _header(self) -> None:
        if not self.names:
            return
        assert self._widths is not None
        self.out.write(" " + " | ".join(n.center(w) for n, w in zip(self.names, self._widths)).rstrip() + "\n")
        self.out.write("-" + "-+-".join("-" * w for w in self._widths) + "-\n")

    def finish(self, rowcount: int, elapsed_ms: float, status: str) -> None:
        if self.names:
            if self._widths is None:
                self._widths = [len(n) for n in self.names]
                self._header()
            noun = "row" if rowcount == 1 else "rows"
            self.out.write(f"({rowcount} {noun})\n")
        else:
            self.out.write((status or "OK") + "\n")


_CSV_NATIVE = (str, int, float, decimal.Decimal, dt.date, dt.time, uuid.UUID, type(None))


def json_value(value: Any) -> str:
    """The JSON text of one database value."""
    if value is None or isinstance(value, (bool, int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else "null"
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else "null"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {json_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(text_value(value, null=None), ensure_ascii=False)


def text_value(value: Any, *, null: str | None) -> Any:
    """The display text of one database value (``null`` for NULL)."""
    if value is None:
        return null
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal, int, float, dt.timedelta)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "{" + ",".join(text_value(v, null="NULL") for v in value) + "}"
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return str(value)


def _cell(text: str, limit: int) -> str:
    text = text.replace("\n", "↵").replace("\t", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_numeric_type(type_name: str) -> bool:
    return type_name.lower() in {
        "int2", "int4", "int8", "smallint", "integer", "bigint", "numeric", "float4", "float8",
        "real", "double precision", "money", "oid", "decimal",
    }
