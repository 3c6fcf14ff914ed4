"""The catalog commands: ``\\dt``, ``\\d``, ``\\di``, ``\\dn``, ``\\l``, answered from the
Session's catalog calls. Patterns work like psql's: ``*`` and ``?`` wildcards, optionally
``schema.pattern``.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command


def _matcher(pattern: str) -> tuple[str | None, Any]:
    schema = None
    if "." in pattern:
        schema, pattern = pattern.split(".", 1)
    pattern = pattern.strip('"')
    if not pattern:
        return schema, lambda name: True
    if not any(ch in pattern for ch in "*?["):
        lowered = pattern.lower()
        return schema, lambda name: name.lower() == lowered
    return schema, lambda name: fnmatch.fnmatchcase(name.lower(), pattern.lower())



@command("\\dt", "[PATTERN]", "List tables and views", aliases=("\\dv",))
async def _dt(context: Context, name: str, argument: str) -> Outcome:
    session = context.session
    return await _list_tables(session, argument)


@command("\\d", "[NAME]", "Describe a table: columns and indexes (without NAME: \\dt)")
async def _d(context: Context, name: str, argument: str) -> Outcome:
    session = context.session
    if not argument or any(c in argument for c in "*?"):
        return await _list_tables(session, argument)
    return await _describe(session, argument)


@command("\\dn", "[PATTERN]", "List schemas")
async def _dn(context: Context, name: str, argument: str) -> Outcome:
    session = context.session
    _, match = _matcher(argument)
    names = [n for n in await session.schemas() if match(n)]
    return Outcome([("schema", "text")], [(n,) for n in names], f"{len(names)} schemas")


@command("\\di", "[PATTERN]", "List indexes")
async def _di(context: Context, name: str, argument: str) -> Outcome:
    session = context.session
    return await _list_indexes(session, argument)


@command("\\l", "", "List databases", aliases=("\\list",))
async def _l(context: Context, name: str, argument: str) -> Outcome:
    session = context.session
    return await _list_databases(session)


async def _list_tables(session: Any, pattern: str) -> Outcome:
    schema, match = _matcher(pattern)
    tables = [t for t in await session.tables(schema) if match(t.name)]
    rows = [(t.schema, t.name, t.kind, t.row_estimate if t.row_estimate >= 0 else None) for t in tables]
    return Outcome([("schema", "text"), ("name", "text"), ("type", "text"), ("rows (estimate)", "int")], rows, f"{len(rows)} relations")


async def _find_table(session: Any, name: str) -> tuple[str | None, str]:
    schema, _, table = name.rpartition(".")
    table = table.strip('"')
    schema = schema.strip('"') or None
    for info in await session.tables(schema):
        if info.name.lower() == table.lower():
            return info.schema or schema, info.name
    raise CommandError(f"no table or view named {name!r}")


async def _describe(session: Any, name: str) -> Outcome:
    schema, table = await _find_table(session, name)
    columns = await session.columns(table, schema)
    indexes = await session.indexes(table, schema)
    rows: list[tuple] = [
        (c.name, c.type_name, "" if c.nullable else "not null", c.default or "") for c in columns
    ]
    for ix in indexes:
        kind = "primary key" if ix.primary else ("unique index" if ix.unique else "index")
        rows.append((f"▸ {ix.name}", kind, ", ".join(ix.columns), ix.definition))
    label = f"{schema}.{table}" if schema else table
    return Outcome(
        [("column", "text"), ("type", "text"), ("modifiers", "text"), ("default / definition", "text")],
        rows,
        f"{label}: {len(columns)} columns, {len(indexes)} indexes",
    )


async def _list_indexes(session: Any, pattern: str) -> Outcome:
    """From the Session's catalog snapshot (every table with its indexes, loaded in a few
    queries and cached), whatever kinds of relation the database indexes."""
    schema, match = _matcher(pattern)
    catalog = await session.schema()
    rows: list[tuple] = []
    for table in sorted(catalog.tables.values(), key=lambda t: (t.schema, t.name)):
        if schema and table.schema.lower() != schema.lower():
            continue
        for ix in table.indexes:
            if match(ix.name) or match(table.name):
                rows.append((table.schema, ix.name, table.name, ", ".join(ix.columns), ix.unique, ix.primary))
    return Outcome(
        [("schema", "text"), ("index", "text"), ("table", "text"), ("columns", "text"), ("unique", "bool"), ("primary", "bool")],
        rows,
        f"{len(rows)} indexes",
    )


async def _list_databases(session: Any) -> Outcome:
    """Name, then the columns some database fills: owner and encoding (PostgreSQL), size, file
    (SQLite)."""
    databases = await session.databases()
    fields = [
        ("owner", "text", lambda d: d.owner),
        ("encoding", "text", lambda d: d.encoding),
        ("size", "text", lambda d: None if d.size is None else size_pretty(d.size)),
        ("file", "text", lambda d: d.location),
    ]
    shown = [f for f in fields if any(f[2](d) for d in databases)]
    rows = [(d.name, *(f[2](d) for f in shown)) for d in databases]
    return Outcome([("name", "text"), *((name, kind) for name, kind, _ in shown)], rows, f"{len(rows)} databases")


def size_pretty(size: int) -> str:
    """A size in bytes (not negative) as PostgreSQL's ``pg_size_pretty`` writes it.

    >>> size_pretty(8000), size_pretty(7_631_663), size_pretty(3 * 2**40)
    ('8000 bytes', '7453 kB', '3072 GB')
    """
    if size < 10 * 1024:
        return f"{size} bytes"
    halves = size >> 9  # one extra bit, to round half up like the server
    for unit in ("kB", "MB", "GB"):
        if halves < 20 * 1024 - 1:
            return f"{(halves + 1) // 2} {unit}"
        halves >>= 10
    return f"{(halves + 1) // 2} TB"
