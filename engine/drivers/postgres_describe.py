"""psql's ``\\d`` family on PostgreSQL, with psql's own catalog queries (``psql -E`` shows them).

Each listing (``\\dt``, ``\\df``, ``\\dT``…) is psql's query: the same columns, the same kinds of
object, the same visibility (``pg_table_is_visible`` and friends when no schema is given, system
schemas only with ``S`` or a pattern) and the same order, so the names AIShell lists are the
names psql lists. Patterns are bound as parameters, never spliced into the text. ``\\d NAME``
describes every relation the pattern matches: its columns, then psql's footers (indexes,
constraints, foreign keys both ways, triggers, partitions, view definition).

:func:`listing` and :func:`describe` take the connection's ``fetch(sql, *args)``.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable

from aishell.engine.drivers.listing import Listing, NamePattern, PatternError, Section

Fetch = Callable[..., Awaitable[list[Any]]]

LISTINGS = frozenset({"d", "dt", "dv", "dm", "ds", "di", "dE", "dn", "df", "dT", "dD", "du", "dg", "dx", "db", "dp", "l"})
"""The listing commands answered here (``\\d`` followed by any mix of ``tvmsiE`` lists relations)."""

_KIND_NAMES = (
    "CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' "
    "WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' "
    "WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END"
)
_SYSTEM_RELATIONS = "n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema'"
_SYSTEM_OBJECTS = "n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema'"


class _Where:
    """WHERE conditions with their bound arguments (``$1``…)."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[Any] = []

    def add(self, condition: str) -> None:
        self.conditions.append(condition)

    def regex(self, column: str, regex: str, alternative: str | None = None) -> None:
        self.args.append(regex)
        ref = f"${len(self.args)}::pg_catalog.text"
        match = f"{column} OPERATOR(pg_catalog.~) {ref} COLLATE pg_catalog.default"
        if alternative:
            match = f"({match} OR {alternative} OPERATOR(pg_catalog.~) {ref} COLLATE pg_catalog.default)"
        self.add(match)

    def pattern(self, pattern: str | None, schema: str | None, name: str, *, alternative: str | None = None, visible: str | None = None) -> None:
        """psql's ``processSQLNamePattern``: match the name (and schema when given); without a
        schema only what ``visible`` accepts (the search path)."""
        if pattern is None:
            if visible:
                self.add(visible)
            return
        parsed = NamePattern.parse(pattern, parts=3 if schema else 1)
        if parsed.name is not None:
            self.regex(name, parsed.name, alternative)
        if parsed.qualified:
            if parsed.schema is not None and schema:
                self.regex(schema, parsed.schema)
        elif visible:
            self.add(visible)

    def sql(self) -> str:
        return ("WHERE " + "\n  AND ".join(self.conditions)) if self.conditions else ""


async def listing(fetch: Fetch, command: str, pattern: str | None, *, system: bool, verbose: bool) -> Listing:
    """The table psql prints for ``\\<command>[S][+] [pattern]``."""
    await _refuse_other_database(fetch, pattern)
    if command == "dg":
        command = "du"
    if command == "d" or (command.startswith("d") and len(command) > 1 and set(command[1:]) <= set("tvmsiE")):
        return await _relations(fetch, command[1:] or "tvmsE", pattern, system=system, verbose=verbose)
    builder = _BUILDERS[command]
    where = _Where()
    sql, title = builder(where, pattern, system, verbose)
    rows = await fetch(sql, *where.args)
    if command == "du":
        return _roles(rows, verbose)
    return Listing(title, list(rows[0].keys()) if rows else _columns_of(sql), [tuple(r) for r in rows])


def _columns_of(sql: str) -> list[str]:
    """The quoted column labels of a listing query (for an empty result)."""
    return re.findall(r'(?i)\bas "([^"]+)"', sql)


async def _relations(fetch: Fetch, kinds: str, pattern: str | None, *, system: bool, verbose: bool) -> Listing:
    tables, views, matviews, indexes, sequences, foreign = (k in kinds for k in "tvmisE")
    relkinds = []
    if tables:
        relkinds += ["'r'", "'p'"] + (["'t'"] if system or pattern is not None else [])
    if views:
        relkinds.append("'v'")
    if matviews:
        relkinds.append("'m'")
    if indexes:
        relkinds += ["'i'", "'I'"]
    if sequences:
        relkinds.append("'S'")
    if system or pattern is not None:
        relkinds.append("'s'")
    if foreign:
        relkinds.append("'f'")
    with_am = tables or matviews or indexes
    columns = [
        'n.nspname as "Schema"', 'c.relname as "Name"', f'{_KIND_NAMES} as "Type"',
        'pg_catalog.pg_get_userbyid(c.relowner) as "Owner"',
    ]
    if indexes:
        columns.append('c2.relname as "Table"')
    if verbose:
        columns.append(
            "CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN 'temporary' "
            "WHEN 'u' THEN 'unlogged' END as \"Persistence\""
        )
        if with_am:
            columns.append('am.amname as "Access method"')
        columns += [
            'pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) as "Size"',
            "pg_catalog.obj_description(c.oid, 'pg_class') as \"Description\"",
        ]
    joins = ["LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"]
    if with_am:
        joins.append("LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam")
    if indexes:
        joins += [
            "LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid",
            "LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid",
        ]
    where = _Where()
    where.add("c.relkind IN (" + ",".join([*relkinds, "''"]) + ")")
    if not system and pattern is None:
        where.add(_SYSTEM_RELATIONS)
    where.pattern(pattern, "n.nspname", "c.relname", visible="pg_catalog.pg_table_is_visible(c.oid)")
    sql = (
        f"SELECT {', '.join(columns)}\nFROM pg_catalog.pg_class c\n  " + "\n  ".join(joins)
        + f"\n{where.sql()}\nORDER BY 1,2"
    )
    rows = await fetch(sql, *where.args)
    names = [c.rsplit(" as ", 1)[1].strip('"') for c in columns]
    return Listing("List of relations", names, [tuple(r) for r in rows])


# -- the other listings: (where, pattern, system, verbose) -> (sql, title) -------------------------


def _schemas(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    columns = 'n.nspname AS "Name", pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"'
    if verbose:
        columns += (
            ", pg_catalog.array_to_string(n.nspacl, E'\\n') AS \"Access privileges\""
            ", pg_catalog.obj_description(n.oid, 'pg_namespace') AS \"Description\""
        )
    if not system and pattern is None:
        where.add("n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'")
    where.pattern(pattern, None, "n.nspname")
    return f"SELECT {columns}\nFROM pg_catalog.pg_namespace n\n{where.sql()}\nORDER BY 1", "List of schemas"


def _functions(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    columns = """n.nspname as "Schema", p.proname as "Name",
  pg_catalog.pg_get_function_result(p.oid) as "Result data type",
  pg_catalog.pg_get_function_arguments(p.oid) as "Argument data types",
  CASE p.prokind WHEN 'a' THEN 'agg' WHEN 'w' THEN 'window' WHEN 'p' THEN 'proc' ELSE 'func' END as "Type\""""
    joins = "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
    if verbose:
        columns += """,
  CASE WHEN p.provolatile = 'i' THEN 'immutable' WHEN p.provolatile = 's' THEN 'stable'
       WHEN p.provolatile = 'v' THEN 'volatile' END as "Volatility",
  CASE WHEN p.proparallel = 'r' THEN 'restricted' WHEN p.proparallel = 's' THEN 'safe'
       WHEN p.proparallel = 'u' THEN 'unsafe' END as "Parallel",
  pg_catalog.pg_get_userbyid(p.proowner) as "Owner",
  CASE WHEN prosecdef THEN 'definer' ELSE 'invoker' END AS "Security",
  pg_catalog.array_to_string(p.proacl, E'\\n') AS "Access privileges",
  l.lanname as "Language",
  COALESCE(pg_catalog.pg_get_function_sqlbody(p.oid), p.prosrc) as "Source code",
  pg_catalog.obj_description(p.oid, 'pg_proc') as "Description\""""
        joins += "\n  LEFT JOIN pg_catalog.pg_language l ON l.oid = p.prolang"
    where.pattern(pattern, "n.nspname", "p.proname", visible="pg_catalog.pg_function_is_visible(p.oid)")
    if not system and pattern is None:
        where.add(_SYSTEM_OBJECTS)
    return f"SELECT {columns}\nFROM pg_catalog.pg_proc p\n  {joins}\n{where.sql()}\nORDER BY 1, 2, 4", "List of functions"


def _types(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    columns = 'n.nspname as "Schema", pg_catalog.format_type(t.oid, NULL) AS "Name"'
    if verbose:
        columns += """,
  t.typname AS "Internal name",
  CASE WHEN t.typrelid != 0 THEN CAST('tuple' AS pg_catalog.text)
       WHEN t.typlen < 0 THEN CAST('var' AS pg_catalog.text)
       ELSE CAST(t.typlen AS pg_catalog.text) END AS "Size",
  pg_catalog.array_to_string(ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e
                                   WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), E'\\n') AS "Elements",
  pg_catalog.pg_get_userbyid(t.typowner) AS "Owner",
  pg_catalog.array_to_string(t.typacl, E'\\n') AS "Access privileges\""""
    columns += ",\n  pg_catalog.obj_description(t.oid, 'pg_type') as \"Description\""
    where.add("(t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid))")
    where.add("NOT EXISTS(SELECT 1 FROM pg_catalog.pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)")
    if not system and pattern is None:
        where.add(_SYSTEM_OBJECTS)
    where.pattern(
        pattern, "n.nspname", "t.typname", alternative="pg_catalog.format_type(t.oid, NULL)",
        visible="pg_catalog.pg_type_is_visible(t.oid)",
    )
    return (
        f"SELECT {columns}\nFROM pg_catalog.pg_type t\n  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace\n"
        f"{where.sql()}\nORDER BY 1, 2",
        "List of data types",
    )


def _domains(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    columns = """n.nspname as "Schema", t.typname as "Name",
  pg_catalog.format_type(t.typbasetype, t.typtypmod) as "Type",
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type bt
   WHERE c.oid = t.typcollation AND bt.oid = t.typbasetype AND t.typcollation <> bt.typcollation) as "Collation",
  CASE WHEN t.typnotnull THEN 'not null' END as "Nullable",
  t.typdefault as "Default",
  pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.pg_get_constraintdef(r.oid, true)
                                   FROM pg_catalog.pg_constraint r WHERE t.oid = r.contypid), ' ') as "Check\""""
    joins = "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
    if verbose:
        columns += """,
  pg_catalog.array_to_string(t.typacl, E'\\n') AS "Access privileges",
  d.description as "Description\""""
        joins += "\n  LEFT JOIN pg_catalog.pg_description d ON d.classoid = t.tableoid AND d.objoid = t.oid AND d.objsubid = 0"
    where.add("t.typtype = 'd'")
    if not system and pattern is None:
        where.add(_SYSTEM_OBJECTS)
    where.pattern(pattern, "n.nspname", "t.typname", visible="pg_catalog.pg_type_is_visible(t.oid)")
    return f"SELECT {columns}\nFROM pg_catalog.pg_type t\n  {joins}\n{where.sql()}\nORDER BY 1, 2", "List of domains"


def _role_query(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    columns = """r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
  r.rolconnlimit, r.rolvaliduntil,
  ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid)
        WHERE m.member = r.oid) as memberof,
  r.rolreplication, r.rolbypassrls"""
    if verbose:
        columns += ", pg_catalog.shobj_description(r.oid, 'pg_authid') AS description"
    if not system and pattern is None:
        where.add("r.rolname !~ '^pg_'")
    where.pattern(pattern, None, "r.rolname")
    return f"SELECT {columns}\nFROM pg_catalog.pg_roles r\n{where.sql()}\nORDER BY 1", "List of roles"


def _roles(rows: list[Any], verbose: bool) -> Listing:
    """psql builds the Attributes column itself from the role's flags."""
    out = []
    for r in rows:
        attributes = [
            label for flag, label in (
                ("rolsuper", "Superuser"), ("rolcreaterole", "Create role"), ("rolcreatedb", "Create DB"),
            ) if r[flag]
        ]
        if not r["rolinherit"]:
            attributes.insert(1 if r["rolsuper"] else 0, "No inheritance")
        if not r["rolcanlogin"]:
            attributes.append("Cannot login")
        if r["rolreplication"]:
            attributes.append("Replication")
        if r["rolbypassrls"]:
            attributes.append("Bypass RLS")
        if r["rolconnlimit"] >= 0:
            attributes.append("No connections" if r["rolconnlimit"] == 0 else f"{r['rolconnlimit']} connections")
        if r["rolvaliduntil"] is not None:
            attributes.append(f"Password valid until {r['rolvaliduntil']}")
        row = (r["rolname"], ", ".join(attributes), "{" + ",".join(r["memberof"]) + "}")
        out.append(row + ((r["description"],) if verbose else ()))
    return Listing("List of roles", ["Role name", "Attributes", "Member of"] + (["Description"] if verbose else []), out)


def _extensions(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    where.pattern(pattern, None, "e.extname")
    return (
        'SELECT e.extname AS "Name", e.extversion AS "Version", n.nspname AS "Schema", c.description AS "Description"\n'
        "FROM pg_catalog.pg_extension e LEFT JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace\n"
        "  LEFT JOIN pg_catalog.pg_description c ON c.objoid = e.oid\n"
        "       AND c.classoid = 'pg_catalog.pg_extension'::pg_catalog.regclass\n"
        f"{where.sql()}\nORDER BY 1",
        "List of installed extensions",
    )


def _tablespaces(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    columns = """spcname AS "Name", pg_catalog.pg_get_userbyid(spcowner) AS "Owner",
  pg_catalog.pg_tablespace_location(oid) AS "Location\""""
    if verbose:
        columns += """,
  pg_catalog.array_to_string(spcacl, E'\\n') AS "Access privileges",
  spcoptions AS "Options",
  pg_catalog.pg_size_pretty(pg_catalog.pg_tablespace_size(oid)) AS "Size",
  pg_catalog.shobj_description(oid, 'pg_tablespace') AS "Description\""""
    where.pattern(pattern, None, "spcname")
    return f"SELECT {columns}\nFROM pg_catalog.pg_tablespace\n{where.sql()}\nORDER BY 1", "List of tablespaces"


def _privileges(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    where.add("c.relkind IN ('r','v','m','S','f','p')")
    where.pattern(
        pattern, "n.nspname", "c.relname", visible="n.nspname !~ '^pg_' AND pg_catalog.pg_table_is_visible(c.oid)",
    )
    return (
        f"""SELECT n.nspname as "Schema", c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
       WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' END as "Type",
  pg_catalog.array_to_string(c.relacl, E'\\n') AS "Access privileges",
  pg_catalog.array_to_string(ARRAY(
    SELECT attname || E':\\n  ' || pg_catalog.array_to_string(attacl, E'\\n  ')
    FROM pg_catalog.pg_attribute a
    WHERE attrelid = c.oid AND NOT attisdropped AND attacl IS NOT NULL), E'\\n') AS "Column privileges",
  pg_catalog.array_to_string(ARRAY(
    SELECT polname
      || CASE WHEN NOT polpermissive THEN E' (RESTRICTIVE)' ELSE '' END
      || CASE WHEN polcmd != '*' THEN E' (' || polcmd::pg_catalog.text || E'):' ELSE E':' END
      || CASE WHEN polqual IS NOT NULL THEN E'\\n  (u): ' || pg_catalog.pg_get_expr(polqual, polrelid) ELSE E'' END
      || CASE WHEN polwithcheck IS NOT NULL THEN E'\\n  (c): ' || pg_catalog.pg_get_expr(polwithcheck, polrelid) ELSE E'' END
      || CASE WHEN polroles <> '{{0}}' THEN E'\\n  to: ' || pg_catalog.array_to_string(
             ARRAY(SELECT rolname FROM pg_catalog.pg_roles WHERE oid = ANY (polroles) ORDER BY 1), E', ')
         ELSE E'' END
    FROM pg_catalog.pg_policy pol WHERE polrelid = c.oid), E'\\n') AS "Policies"
FROM pg_catalog.pg_class c
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
{where.sql()}
ORDER BY 1, 2""",
        "Access privileges",
    )


def _databases(where: _Where, pattern: str | None, system: bool, verbose: bool) -> tuple[str, str]:
    columns = """d.datname as "Name", pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
  pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding", d.datcollate as "Collate", d.datctype as "Ctype",
  d.daticulocale as "ICU Locale",
  CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "Locale Provider",
  pg_catalog.array_to_string(d.datacl, E'\\n') AS "Access privileges\""""
    joins = ""
    if verbose:
        columns += """,
  CASE WHEN pg_catalog.has_database_privilege(d.datname, 'CONNECT') OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')
       THEN pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(d.datname)) ELSE 'No Access' END as "Size",
  t.spcname as "Tablespace",
  pg_catalog.shobj_description(d.oid, 'pg_database') as "Description\""""
        joins = "\n  JOIN pg_catalog.pg_tablespace t on d.dattablespace = t.oid"
    where.pattern(pattern, None, "d.datname")
    return f"SELECT {columns}\nFROM pg_catalog.pg_database d{joins}\n{where.sql()}\nORDER BY 1", "List of databases"


_BUILDERS: dict[str, Callable[[_Where, str | None, bool, bool], tuple[str, str]]] = {
    "dn": _schemas, "df": _functions, "dT": _types, "dD": _domains, "du": _role_query, "dx": _extensions,
    "db": _tablespaces, "dp": _privileges, "l": _databases,
}


# -- \d NAME ---------------------------------------------------------------------------------------

_TITLES = {
    "r": "Table", "p": "Partitioned table", "v": "View", "m": "Materialized view", "S": "Sequence",
    "i": "Index", "I": "Partitioned index", "f": "Foreign table", "c": "Composite type", "t": "TOAST table",
}


async def describe(fetch: Fetch, pattern: str, *, system: bool, verbose: bool) -> list[Listing]:
    """Every relation ``pattern`` matches, described as psql's ``\\d[+] pattern`` does. Raises
    PatternError when nothing matches (psql: 'Did not find any relation named …')."""
    await _refuse_other_database(fetch, pattern)
    where = _Where()
    where.pattern(pattern, "n.nspname", "c.relname", visible="pg_catalog.pg_table_is_visible(c.oid)")
    found = await fetch(
        "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c\n"
        f"  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n{where.sql()}\nORDER BY 2, 3",
        *where.args,
    )
    if not found:
        raise PatternError(f'Did not find any relation named "{pattern}".')
    return [await _relation(fetch, r[0], r[1], r[2], verbose) for r in found]


async def _relation(fetch: Fetch, oid: int, schema: str, name: str, verbose: bool) -> Listing:
    info = (await fetch(
        """SELECT c.relkind::text, c.relispartition, c.relpersistence::text, am.amname,
                  pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x
                      from pg_catalog.unnest(tc.reloptions) x), ', ')
           FROM pg_catalog.pg_class c
             LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
             LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
           WHERE c.oid = $1""",
        oid,
    ))[0]
    kind = info[0]
    title = f'{"Unlogged " if info[2] == "u" else ""}{_TITLES.get(kind, "Relation")}'
    title = title[0].upper() + title[1:].lower() if info[2] == "u" else title
    title = f'{title} "{schema}.{name}"'
    if kind == "S":
        return await _sequence(fetch, oid, title)
    attributes = await fetch(
        """SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
             (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d
              WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
             a.attnotnull,
             (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
              WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation),
             a.attidentity::text, a.attgenerated::text, a.attstorage::text, a.attcompression::text,
             CASE WHEN a.attstattarget = -1 THEN NULL ELSE a.attstattarget END,
             pg_catalog.col_description(a.attrelid, a.attnum),
             pg_catalog.pg_get_indexdef(a.attrelid, a.attnum, true),
             CASE WHEN a.attnum <= (SELECT i.indnkeyatts FROM pg_catalog.pg_index i WHERE i.indexrelid = a.attrelid)
                  THEN 'yes' ELSE 'no' END
           FROM pg_catalog.pg_attribute a
           WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum""",
        oid,
    )
    is_index = kind in "iI"
    details = kind in "rvmfcp"
    columns = ["Column", "Type"]
    if details:
        columns += ["Collation", "Nullable", "Default"]
    if is_index:
        columns += ["Key?", "Definition"]
    show_compression = verbose and kind in "rpm"
    show_stats = verbose and kind in "riImfp"
    if verbose:
        columns.append("Storage")
        if show_compression:
            columns.append("Compression")
        if show_stats:
            columns.append("Stats target")
        if not is_index:
            columns.append("Description")
    rows = []
    for a in attributes:
        row: list[Any] = [a[0], a[1]]
        if details:
            row += [a[4] or "", "not null" if a[3] else "", _default(a[2], a[5], a[6])]
        if is_index:
            row += [a[12], a[11]]
        if verbose:
            row.append(_STORAGE.get(a[7], ""))
            if show_compression:
                row.append(_COMPRESSION.get(a[8], ""))
            if show_stats:
                row.append("" if a[9] is None else str(a[9]))
            if not is_index:
                row.append(a[10] or "")
        rows.append(tuple(row))
    sections = await _footers(fetch, oid, kind, info, verbose)
    return Listing(title, columns, rows, sections)


_STORAGE = {"p": "plain", "m": "main", "x": "extended", "e": "external"}
_COMPRESSION = {"p": "pglz", "l": "lz4"}


def _default(expression: str | None, identity: str, generated: str) -> str:
    if identity == "a":
        return "generated always as identity"
    if identity == "d":
        return "generated by default as identity"
    if generated == "s":
        return f"generated always as ({expression}) stored"
    return expression or ""


async def _sequence(fetch: Fetch, oid: int, title: str) -> Listing:
    row = (await fetch(
        """SELECT pg_catalog.format_type(seqtypid, NULL), seqstart, seqmin, seqmax, seqincrement,
                  CASE WHEN seqcycle THEN 'yes' ELSE 'no' END, seqcache
           FROM pg_catalog.pg_sequence WHERE seqrelid = $1""",
        oid,
    ))[0]
    owner = await fetch(
        """SELECT pg_catalog.quote_ident(nspname) || '.' || pg_catalog.quote_ident(relname) || '.'
                  || pg_catalog.quote_ident(attname), d.deptype::text
           FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_depend d ON c.oid = d.refobjid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_catalog.pg_attribute a ON (a.attrelid = c.oid AND a.attnum = d.refobjsubid)
           WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
             AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
             AND d.objid = $1 AND d.deptype IN ('a', 'i')""",
        oid,
    )
    sections = []
    if owner:
        label = "Owned by" if owner[0][1] == "a" else "Sequence for identity column"
        sections.append(Section(label, [(owner[0][0], "")]))
    return Listing(title, ["Type", "Start", "Minimum", "Maximum", "Increment", "Cycles?", "Cache"], [tuple(row)], sections)


async def _footers(fetch: Fetch, oid: int, kind: str, info: Any, verbose: bool) -> list[Section]:
    """psql's footers, in psql's order, for what ``kind`` of relation has them."""
    sections: list[Section] = []

    def add(title: str, items: list[tuple[str, str]]) -> None:
        if items:
            sections.append(Section(title, items))

    if kind in "iI":
        return await _index_footer(fetch, oid)
    if info[1]:  # a partition
        parent = await fetch(
            """SELECT inhparent::pg_catalog.regclass::text, pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                      pg_catalog.pg_get_partition_constraintdef(c.oid)
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_inherits i ON c.oid = inhrelid WHERE c.oid = $1""",
            oid,
        )
        if parent:
            add("Partition of", [(f"{parent[0][0]} {parent[0][1]}", "")])
            if verbose:
                add("Partition constraint", [(parent[0][2] or "", "")])
    if kind == "p":
        key = await fetch("SELECT pg_catalog.pg_get_partkeydef($1::pg_catalog.oid)", oid)
        add("Partition key", [(key[0][0], "")])
    if kind in "rpm":
        indexes = await fetch(
            """SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid,
                      pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
                      pg_catalog.pg_get_constraintdef(con.oid, true), con.contype::text,
                      con.condeferrable, con.condeferred, i.indisreplident
               FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
                 LEFT JOIN pg_catalog.pg_constraint con
                   ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
               WHERE c.oid = $1 AND c.oid = i.indrelid AND i.indexrelid = c2.oid
               ORDER BY i.indisprimary DESC, c2.relname""",
            oid,
        )
        add("Indexes", [(r[0], _index_line(r)) for r in indexes])
    if kind in "rpf":
        checks = await fetch(
            """SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true) FROM pg_catalog.pg_constraint r
               WHERE r.conrelid = $1 AND r.contype = 'c' ORDER BY 1""",
            oid,
        )
        add("Check constraints", [(r[0], r[1]) for r in checks])
        keys = await fetch(
            """SELECT conrelid = $1::pg_catalog.oid::pg_catalog.regclass, conname, pg_catalog.pg_get_constraintdef(oid, true),
                      conrelid::pg_catalog.regclass::text
               FROM pg_catalog.pg_constraint
               WHERE conrelid IN (SELECT pg_catalog.pg_partition_ancestors($1::pg_catalog.oid::pg_catalog.regclass)
                                  UNION ALL VALUES ($1::pg_catalog.oid::pg_catalog.regclass))
                 AND contype = 'f' AND conparentid = 0
               ORDER BY 1 DESC, conname""",
            oid,
        )
        add("Foreign-key constraints", [
            (r[1], r[2] if r[0] else f'TABLE "{r[3]}" CONSTRAINT "{r[1]}" {r[2]}') for r in keys
        ])
        referenced = await fetch(
            """SELECT conname, conrelid::pg_catalog.regclass::text, pg_catalog.pg_get_constraintdef(oid, true)
               FROM pg_catalog.pg_constraint c
               WHERE confrelid IN (SELECT pg_catalog.pg_partition_ancestors($1::pg_catalog.oid::pg_catalog.regclass)
                                   UNION ALL VALUES ($1::pg_catalog.oid::pg_catalog.regclass))
                 AND contype = 'f' AND conparentid = 0
               ORDER BY conname""",
            oid,
        )
        add("Referenced by", [(r[0], f'TABLE "{r[1]}" CONSTRAINT "{r[0]}" {r[2]}') for r in referenced])
        policies = await fetch(
            "SELECT polname, pg_catalog.pg_get_expr(polqual, polrelid) FROM pg_catalog.pg_policy WHERE polrelid = $1 ORDER BY 1",
            oid,
        )
        add("Policies", [(r[0], f"USING ({r[1]})" if r[1] else "") for r in policies])
    if kind in "vm" and verbose:
        view = await fetch("SELECT pg_catalog.pg_get_viewdef($1::pg_catalog.oid, true)", oid)
        add("View definition", [(line, "") for line in (view[0][0] or "").splitlines()])
    if kind in "rpvmf":
        rules = await fetch(
            """SELECT r.rulename, trim(trailing ';' from pg_catalog.pg_get_ruledef(r.oid, true))
               FROM pg_catalog.pg_rewrite r WHERE r.ev_class = $1 AND r.rulename != '_RETURN' ORDER BY 1""",
            oid,
        )
        add("Rules", [(r[0], r[1]) for r in rules])
        triggers = await fetch(
            """SELECT t.tgname, pg_catalog.pg_get_triggerdef(t.oid, true), t.tgenabled::text
               FROM pg_catalog.pg_trigger t
               WHERE t.tgrelid = $1 AND (NOT t.tgisinternal OR (t.tgisinternal AND t.tgenabled = 'D'))
               ORDER BY 1""",
            oid,
        )
        enabled = [r for r in triggers if r[2] in ("O", "t")]
        add("Triggers", [(r[0], _trigger_line(r[0], r[1])) for r in enabled])
        add("Disabled user triggers", [(r[0], _trigger_line(r[0], r[1])) for r in triggers if r[2] == "D"])
        add("Triggers firing always", [(r[0], _trigger_line(r[0], r[1])) for r in triggers if r[2] == "A"])
        add("Triggers firing on replica only", [(r[0], _trigger_line(r[0], r[1])) for r in triggers if r[2] == "R"])
    if kind in "rpf":
        parents = await fetch(
            """SELECT c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
               WHERE c.oid = i.inhparent AND i.inhrelid = $1 AND c.relkind != 'p' AND c.relkind != 'I'
               ORDER BY inhseqno""",
            oid,
        )
        add("Inherits", [(r[0], "") for r in parents])
        children = await fetch(
            """SELECT c.oid::pg_catalog.regclass::text, c.relkind::text, inhdetachpending,
                      pg_catalog.pg_get_expr(c.relpartbound, c.oid)
               FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
               WHERE c.oid = i.inhrelid AND i.inhparent = $1
               ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text""",
            oid,
        )
        noun = "partitions" if kind == "p" else "child tables"
        if children and verbose:
            add("Partitions" if kind == "p" else "Child tables", [
                (r[0], " ".join(filter(None, [
                    r[3] or "", ", PARTITIONED" if r[1] == "p" else "", " (DETACH PENDING)" if r[2] else "",
                ])).replace(" ,", ",")) for r in children
            ])
        elif kind == "p" or children:
            hint = f" (Use \\d+ to list them.)" if children else ""
            add(f"Number of {noun}", [(f"{len(children)}{hint}", "")])
    if verbose and kind in "rm" and info[3]:
        add("Access method", [(info[3], "")])
    if verbose and info[4]:
        add("Options", [(info[4], "")])
    return sections


def _index_line(r: Any) -> str:
    """What psql prints after an index's name: ``PRIMARY KEY, btree (id)``."""
    if r[7] == "x":
        text = r[6]
    else:
        text = "PRIMARY KEY, " if r[1] else ("UNIQUE CONSTRAINT, " if r[7] == "u" else "UNIQUE, ") if r[2] else ""
        definition = r[5]
        at = definition.find(" USING ")
        text += definition[at + 7:] if at >= 0 else definition
        if r[8]:
            text += " DEFERRABLE"
        if r[9]:
            text += " INITIALLY DEFERRED"
    if r[3]:
        text += " CLUSTER"
    if not r[4]:
        text += " INVALID"
    if r[10]:
        text += " REPLICA IDENTITY"
    return text


def _trigger_line(name: str, definition: str) -> str:
    """The trigger's definition after its name (psql prints from the name on)."""
    at = definition.find(name)
    return definition[at + len(name):].strip() if at >= 0 else definition


async def _index_footer(fetch: Fetch, oid: int) -> list[Section]:
    row = (await fetch(
        """SELECT i.indisunique, i.indisprimary, i.indisclustered, i.indisvalid, a.amname,
                  c2.oid::pg_catalog.regclass::text, pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
                  n.nspname, c2.relname
           FROM pg_catalog.pg_index i, pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_am a,
                pg_catalog.pg_namespace n
           WHERE i.indexrelid = c.oid AND c.oid = $1 AND c.relam = a.oid AND i.indrelid = c2.oid
             AND n.oid = c2.relnamespace""",
        oid,
    ))[0]
    text = ("primary key, " if row[1] else "unique, " if row[0] else "") + f'{row[4]}, for table "{row[7]}.{row[8]}"'
    if row[6]:
        text += f", predicate ({row[6]})"
    if row[2]:
        text += ", clustered"
    if not row[3]:
        text += ", invalid"
    return [Section(text)]


async def _refuse_other_database(fetch: Fetch, pattern: str | None) -> None:
    """psql refuses ``otherdb.schema.name``: cross-database references are not implemented."""
    if pattern is None or pattern.count(".") < 2:
        return
    parsed = NamePattern.parse(pattern, parts=3)
    if parsed.database is not None:
        current = (await fetch("SELECT current_database()"))[0][0]
        if parsed.database != f"^({current})$":
            raise PatternError(f"cross-database references are not implemented: {pattern}")
