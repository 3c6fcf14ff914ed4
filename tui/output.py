"""Result writers for the command line: table, CSV, JSON and JSON lines, one page at a time.

Each writer emits as rows arrive, so memory does not grow with the result and the first row is
on screen before the last is fetched. Values are written by :mod:`aishell.engine.encode`, the
same forms as the results grid's export (its docstring says which form each type takes).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Sequence, TextIO

from aishell.engine.encode import CsvRowWriter, JsonRowEncoder, pg_text
from aishell.engine.types import Column


async def write_result(stream: Any, fmt: str, out: TextIO) -> tuple[int, str]:
    """One result written to ``out`` page by page as it streams (``stream``: what
    ``Session.stream`` returns), flushed a page at a time; (row count, server status). What
    ``aishell run`` prints and what ``\\o FILE`` appends, in the CLI and in Run all alike."""
    started = time.perf_counter()
    async with stream as rows:
        writer = writer_for(fmt, out, rows.columns)
        writer.start()
        async for page in rows:
            writer.rows(page)
            out.flush()
        writer.finish(rows.rowcount, (time.perf_counter() - started) * 1000, rows.status)
        out.flush()
        return rows.rowcount, rows.status


def writer_for(fmt: str, out: TextIO, columns: Sequence[Column]) -> "Writer":
    return {"table": TableWriter, "csv": CsvWriter, "json": JsonWriter, "jsonl": JsonLinesWriter}[fmt](out, columns)


OUTPUT_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
"""``\\o FILE``'s format by the file's extension; any other name gets the table."""


def open_output(path: str) -> tuple[str, TextIO]:
    """``\\o FILE``: the format its name asks for and the file opened to append one more result
    (created 0600). Raises OSError."""
    from aishell.engine.files import private_opener

    fmt = OUTPUT_FORMATS.get(os.path.splitext(path)[1].lower(), "table")
    return fmt, open(path, "a", encoding="utf-8", newline="", opener=private_opener)


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
        self._encode = JsonRowEncoder([(c.name, c.type_name) for c in self.columns]).array
        self._first = True

    def rows(self, rows: list[tuple]) -> None:
        if not rows:
            return
        encode = self._encode
        self.out.write(("" if self._first else ", ") + ", ".join([encode(row) for row in rows]))
        self._first = False

    def finish(self, rowcount: int, elapsed_ms: float, status: str) -> None:
        self.out.write(f'], "rowcount": {rowcount}, "elapsed_ms": {round(elapsed_ms, 3)}}}\n')


class JsonLinesWriter(Writer):
    """One JSON object a row, keyed by column name (duplicates renamed ``name_2``…)."""

    def start(self) -> None:
        self._encode = JsonRowEncoder([(c.name, c.type_name) for c in self.columns]).object

    def rows(self, rows: list[tuple]) -> None:
        encode = self._encode
        self.out.write("".join([encode(row) + "\n" for row in rows]))


class CsvWriter(Writer):
    """RFC 4180 CSV with a header row (PostgreSQL's text forms, as psql's ``\\copy … CSV``)."""

    def start(self) -> None:
        self._csv = CsvRowWriter(self.out, self.names)
        self._csv.header()

    def rows(self, rows: list[tuple]) -> None:
        self._csv.rows(rows)


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


def text_value(value: Any, *, null: str) -> str:
    """The display text of one database value (``null`` for NULL): its PostgreSQL text form."""
    text = pg_text(value)
    return null if text is None else text


def _cell(text: str, limit: int) -> str:
    text = text.replace("\n", "↵").replace("\t", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_numeric_type(type_name: str) -> bool:
    return type_name.lower() in {
        "int2", "int4", "int8", "smallint", "integer", "bigint", "numeric", "float4", "float8",
        "real", "double precision", "money", "oid", "decimal",
    }
