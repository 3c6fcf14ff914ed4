"""Bulk copy between a table (or a query) and a file, for ``\\copy``: PostgreSQL over the COPY
protocol, SQLite with streamed reads and batched inserts in one transaction.

The connections' ``copy_out`` and ``copy_in`` call these with themselves (``conn``: the
driver's connection, whose ``raw`` client they use). ``options`` are COPY's own options by
their asyncpg names (``format`` ``csv``/``text``, ``header``, ``delimiter``, ``null``, ``quote``,
``escape``, ``encoding``), checked by :mod:`aishell.engine.copy` before they get here.
``progress(rows, bytes)`` is called as data moves (rows are counted by lines on the way, exact
at the end).

Errors: :class:`~aishell.engine.errors.QueryError` whose message names the file's line for a
record the database refuses (``line 3: invalid input syntax for type integer: "x"``); nothing of
a failed ``copy_in`` stays in the table.
"""

from __future__ import annotations

import asyncio
import io
import re
import sqlite3
from typing import Any, BinaryIO, Callable, Mapping, Sequence

from aishell.engine.encode import CopyTextRowWriter, CsvRowWriter, RecordError, csv_records, text_records
from aishell.engine.errors import QueryCancelled, QueryError

Progress = Callable[[int, int], None]
"""``progress(rows, bytes)``: rows (lines) and bytes moved so far."""

CHUNK = 1 << 20
"""Bytes read from a file a time."""

SQLITE_BATCH = 5000
"""Rows inserted a round trip into SQLite's thread."""


def _ignore(rows: int, size: int) -> None:
    pass


# -- PostgreSQL ----------------------------------------------------------------------------------


async def postgres_copy_out(
    conn: Any, query: str, sink: BinaryIO, options: Mapping[str, Any], progress: Progress = _ignore,
) -> int:
    """``COPY (query) TO STDOUT`` into ``sink``; returns the rows copied."""
    lines = size = 0

    async def write(chunk: bytes) -> None:
        nonlocal lines, size
        sink.write(chunk)
        lines += chunk.count(b"\n")
        size += len(chunk)
        progress(lines, size)

    conn._running += 1
    conn.uses += 1
    try:
        status = await conn.raw.copy_from_query(query, output=write, **options)
    except (Exception, asyncio.CancelledError) as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise conn._translate(exc, query) from None
    finally:
        conn._running -= 1
    return _copied(status)


async def postgres_copy_in(
    conn: Any, table: tuple[str | None, str], columns: Sequence[str] | None, source: BinaryIO,
    options: Mapping[str, Any], progress: Progress = _ignore,
) -> int:
    """``COPY table (columns) FROM STDIN`` from ``source``; returns the rows copied. COPY is one
    statement: a refused record leaves nothing behind."""
    schema, name = table
    lines = size = 0

    async def chunks():
        nonlocal lines, size
        while True:
            chunk = await asyncio.to_thread(source.read, CHUNK)
            if not chunk:
                return
            lines += chunk.count(b"\n")
            size += len(chunk)
            progress(lines, size)
            yield chunk

    conn._running += 1
    conn.uses += 1
    statement = f"COPY {name} FROM STDIN"
    try:
        status = await conn.raw.copy_to_table(name, schema_name=schema, columns=list(columns) if columns else None, source=chunks(), **options)
    except (Exception, asyncio.CancelledError) as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        error = conn._translate(exc, statement)
        line = _COPY_LINE.search(getattr(exc, "context", None) or "")
        if line and not isinstance(error, QueryCancelled):
            raise QueryError(f"line {line.group(1)}: {error.message}", sqlstate=getattr(exc, "sqlstate", None), statement=statement) from None
        raise error from None
    finally:
        conn._running -= 1
    return _copied(status)


_COPY_LINE = re.compile(r"\bline (\d+)")


def _copied(status: Any) -> int:
    text = status.decode() if isinstance(status, bytes) else str(status or "")
    tail = text.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


# -- SQLite --------------------------------------------------------------------------------------


async def sqlite_copy_out(
    conn: Any, query: str, sink: BinaryIO, options: Mapping[str, Any], progress: Progress = _ignore,
) -> int:
    """The rows of ``query`` written to ``sink`` in COPY's CSV or text format, page by page."""
    if options.get("format") == "binary":
        raise QueryError("FORMAT binary is PostgreSQL's own; SQLite copies csv or text", statement="\\copy")
    text = io.TextIOWrapper(sink, encoding=options.get("encoding") or "utf-8", newline="", write_through=True)
    try:
        async with conn.stream(query, page_size=SQLITE_BATCH) as rows:
            if options.get("format") == "csv":
                writer: Any = CsvRowWriter(text, [c.name for c in rows.columns], delimiter=options.get("delimiter") or ",", null=options.get("null") or "")
                if options.get("header"):
                    writer.header()
            else:
                writer = CopyTextRowWriter(text, delimiter=options.get("delimiter") or "\t", null=options.get("null") if options.get("null") is not None else "\\N")
                if options.get("header"):
                    text.write((options.get("delimiter") or "\t").join(c.name for c in rows.columns) + "\n")
            count = 0
            async for page in rows:
                writer.rows(page)
                count += len(page)
                progress(count, sink.tell() if sink.seekable() else 0)
    finally:
        text.detach()
    return count


async def sqlite_copy_in(
    conn: Any, table: tuple[str | None, str], columns: Sequence[str] | None, source: BinaryIO,
    options: Mapping[str, Any], progress: Progress = _ignore,
) -> int:
    """Records of ``source`` inserted into ``table`` in batches, in one transaction (a savepoint
    inside the user's own), rolled back whole when one record is refused."""
    if options.get("format") == "binary":
        raise QueryError("FORMAT binary is PostgreSQL's own; SQLite copies csv or text", statement="\\copy")
    schema, name = table
    target = (_q(schema) + "." if schema else "") + _q(name)
    if not columns:
        info = await conn._fetch(f"PRAGMA {_q(schema) + '.' if schema else ''}table_info({_q(name)})")
        if not info:
            raise QueryError(f"no such table: {name if not schema else schema + '.' + name}", statement=f"\\copy {name} FROM")
        columns = [row[1] for row in info]
    insert = f"INSERT INTO {target} ({', '.join(_q(c) for c in columns)}) VALUES ({', '.join('?' * len(columns))})"
    text = io.TextIOWrapper(source, encoding=options.get("encoding") or "utf-8", newline="")
    if options.get("format") == "csv":
        records = csv_records(text, delimiter=options.get("delimiter") or ",", quote=options.get("quote") or '"',
                              null=options.get("null") or "", header=bool(options.get("header")))
    else:
        records = text_records(text, delimiter=options.get("delimiter") or "\t",
                               null=options.get("null") if options.get("null") is not None else "\\N", header=bool(options.get("header")))
    raw = conn.raw
    own = not raw.in_transaction
    conn._running += 1
    conn.uses += 1
    count = 0
    try:
        await raw.execute("BEGIN" if own else "SAVEPOINT aishell_copy")
        try:
            while True:
                batch = _batch(records, len(columns))
                if not batch:
                    break
                await _insert(raw, insert, batch)
                count += len(batch)
                progress(count, source.tell() if source.seekable() else 0)
        except BaseException:
            await raw.execute("ROLLBACK" if own else "ROLLBACK TO aishell_copy")
            if not own:
                await raw.execute("RELEASE aishell_copy")
            raise
        await raw.execute("COMMIT" if own else "RELEASE aishell_copy")
    except RecordError as exc:
        raise QueryError(str(exc), statement=insert) from None
    except sqlite3.Error as exc:
        raise conn._translate(exc, insert) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise QueryError(f"cannot read the file: {exc}", statement=insert) from None
    finally:
        conn._running -= 1
        text.detach()
    return count


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _batch(records: Any, width: int) -> list[tuple[int, list[str | None]]]:
    """The next SQLITE_BATCH records, each checked for its number of fields."""
    batch = []
    for line, fields in records:
        if len(fields) != width:
            raise RecordError(f"line {line}: expected {width} fields, found {len(fields)}")
        batch.append((line, fields))
        if len(batch) >= SQLITE_BATCH:
            break
    return batch


async def _insert(raw: Any, insert: str, batch: list[tuple[int, list[str | None]]]) -> None:
    """One batch under a savepoint; when the database refuses it, the record it refused is found
    by inserting the batch again one record at a time, and its line named."""
    await raw.execute("SAVEPOINT aishell_batch")
    try:
        await raw.executemany(insert, [fields for _, fields in batch])
    except sqlite3.Error as exc:
        if isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted":
            raise
        await raw.execute("ROLLBACK TO aishell_batch")
        for line, fields in batch:
            try:
                await raw.execute(insert, fields)
            except sqlite3.Error as one:
                await raw.execute("RELEASE aishell_batch")
                raise RecordError(f"line {line}: {one}") from None
        raise
    await raw.execute("RELEASE aishell_batch")


__all__ = ["postgres_copy_in", "postgres_copy_out", "sqlite_copy_in", "sqlite_copy_out"]
