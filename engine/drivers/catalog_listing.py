"""psql's ``\\d`` commands where they make sense beyond PostgreSQL (SQLite, MongoDB), built on
the catalog calls every connection has (``tables``, ``columns``, ``indexes``, ``schemas``,
``databases``). Patterns are psql's (:class:`~engine.drivers.listing.NamePattern`); without a
schema only the ``visible`` schemas are listed (SQLite: ``main`` and ``temp``; MongoDB: the
current database), as psql lists only the search path.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from aishell.engine.drivers.listing import Listing, NamePattern, PatternError, Section, size_pretty

LISTINGS = frozenset({"d", "dt", "dv", "di", "dn", "l"})

_VIEWS = ("view",)


async def listing(conn: Any, command: str, pattern: str | None, *, visible: tuple[str, ...], verbose: bool) -> Listing:
    """``\\dt``, ``\\dv``, ``\\d``, ``\\di``, ``\\dn``, ``\\l`` from the connection's catalog."""
    if command == "dn":
        match = NamePattern.parse(pattern, parts=1) if pattern is not None else None
        names = [n for n in await conn.schemas() if match is None or match.matches(n)]
        return Listing("List of schemas", ["Name"], [(n,) for n in names])
    if command == "l":
        match = NamePattern.parse(pattern, parts=1) if pattern is not None else None
        databases = [d for d in await conn.databases() if match is None or match.matches(d.name)]
        fields = [
            ("Size", lambda d: None if d.size is None else size_pretty(d.size)),
            ("File", lambda d: d.location or None),
        ]
        shown = [(label, value) for label, value in fields if any(value(d) is not None for d in databases)]
        rows = [(d.name, *(value(d) for _, value in shown)) for d in databases]
        return Listing("List of databases", ["Name", *(label for label, _ in shown)], rows)
    if command == "di":  # the pattern names indexes: read every visible table's
        parsed = NamePattern.parse(pattern) if pattern is not None else None
        tables = await _matching(conn, pattern, visible, names=False)
        rows = []
        for t in tables:
            if t.kind in _VIEWS:
                continue
            for ix in await conn.indexes(t.name, t.schema):
                if parsed is not None and not parsed.matches(ix.name):
                    continue
                rows.append((t.schema, ix.name, "index", t.name) + ((", ".join(ix.columns), ix.definition) if verbose else ()))
        return Listing("List of relations", ["Schema", "Name", "Type", "Table"] + (["Columns", "Definition"] if verbose else []), rows)
    tables = await _matching(conn, pattern, visible)
    if command == "dt":
        tables = [t for t in tables if t.kind not in _VIEWS]
    elif command == "dv":
        tables = [t for t in tables if t.kind in _VIEWS]
    rows = [
        (t.schema, t.name, t.kind) + ((t.row_estimate if t.row_estimate >= 0 else None,) if verbose else ())
        for t in tables
    ]
    return Listing("List of relations", ["Schema", "Name", "Type"] + (["Rows (estimate)"] if verbose else []), rows)


async def _matching(conn: Any, pattern: str | None, visible: tuple[str, ...], *, names: bool = True) -> list[Any]:
    """The tables and views of the pattern's schema (the visible ones when it names none),
    matching its name part unless ``names`` is False."""
    parsed = NamePattern.parse(pattern) if pattern is not None else None
    schemas = [None] if parsed is not None and parsed.qualified else list(visible)
    found = []
    for schema in schemas:
        for t in await conn.tables(schema):
            if parsed is None or (parsed.matches(t.name, t.schema) if names else parsed.matches_schema(t.schema)):
                found.append(t)
    return sorted(found, key=lambda t: (t.schema, t.name))


Footers = Callable[[Any, str], Awaitable[list[Section]]]
"""``footers(table, schema)``: the sections beyond columns and indexes a database can tell
(SQLite: foreign keys both ways, triggers, the view's definition)."""


async def describe(conn: Any, pattern: str, *, visible: tuple[str, ...], verbose: bool, footers: Footers | None = None) -> list[Listing]:
    """Each table or view ``pattern`` matches: columns, indexes and what ``footers`` adds."""
    tables = await _matching(conn, pattern, visible)
    if not tables:
        raise PatternError(f'Did not find any relation named "{pattern}".')
    out = []
    for t in tables:
        columns = await conn.columns(t.name, t.schema)
        rows = [(c.name, c.type_name, "" if c.nullable else "not null", "" if c.default is None else str(c.default)) for c in columns]
        sections = []
        if t.kind not in _VIEWS:
            indexes = await conn.indexes(t.name, t.schema)
            if indexes:
                sections.append(Section("Indexes", [(ix.name, ix.definition) for ix in indexes]))
        if footers is not None:
            sections += await footers(t, verbose)
        kind = "View" if t.kind in _VIEWS else "Table" if t.kind == "table" else t.kind.capitalize()
        out.append(Listing(f'{kind} "{t.schema}.{t.name}"', ["Column", "Type", "Nullable", "Default"], rows, sections))
    return out



def sqlite_footers(fetch: Callable[..., Awaitable[list[Any]]]) -> Footers:
    """SQLite's foreign keys (both ways), triggers and view definitions, read from
    ``sqlite_master`` and ``pragma_foreign_key_list``."""

    async def footers(table: Any, verbose: bool) -> list[Section]:
        schema = '"' + table.schema.replace('"', '""') + '"'
        sections = []
        keys = await fetch(
            f'SELECT id, "table", group_concat("from", \', \'), group_concat(coalesce("to", \'\'), \', \'), on_delete '
            f"FROM pragma_foreign_key_list(?, ?) GROUP BY id ORDER BY id",
            (table.name, table.schema),
        )
        if keys:
            sections.append(Section("Foreign-key constraints", [
                (f"fk{r[0]}", f"FOREIGN KEY ({r[2]}) REFERENCES {r[1]}({r[3]})"
                 + (f" ON DELETE {r[4]}" if r[4] and r[4] != "NO ACTION" else "")) for r in keys
            ]))
        referenced = await fetch(
            f"SELECT m.name, group_concat(f.\"from\", ', '), group_concat(coalesce(f.\"to\", ''), ', ') "
            f"FROM {schema}.sqlite_master m, pragma_foreign_key_list(m.name, ?) f "
            "WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE GROUP BY m.name, f.id ORDER BY m.name",
            (table.schema, table.name),
        )
        if referenced:
            sections.append(Section("Referenced by", [
                (r[0], f"TABLE {r[0]} FOREIGN KEY ({r[1]}) REFERENCES {table.name}({r[2]})") for r in referenced
            ]))
        triggers = await fetch(
            f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
            (table.name,),
        )
        if triggers:
            sections.append(Section("Triggers", [(r[0], " ".join((r[1] or "").split())) for r in triggers]))
        if table.kind == "view" and verbose:
            view = await fetch(f"SELECT sql FROM {schema}.sqlite_master WHERE type = 'view' AND name = ?", (table.name,))
            if view and view[0][0]:
                sections.append(Section("View definition", [(line, "") for line in view[0][0].splitlines()]))
        return sections

    return footers
