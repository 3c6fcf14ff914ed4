"""Catalog objects for completion: foreign keys, functions and user types, one reader a dialect.

The drivers' ``catalog_objects()`` call these with their own ``fetch`` (which translates
errors); kept here so the driver modules stay about connections and statements. PostgreSQL
reads everything outside the system schemas that no extension owns; SQLite reads each attached
database's foreign keys and the functions the library registers (``pragma_function_list``).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from aishell.engine.errors import QueryError
from aishell.engine.types import CatalogObjects, ForeignKeyInfo

Fetch = Callable[..., Awaitable[list[Any]]]

POSTGRES_TYPES = (
    "bigint", "bigserial", "boolean", "bytea", "char", "character varying", "date",
    "double precision", "inet", "integer", "interval", "json", "jsonb", "money", "numeric", "real",
    "serial", "smallint", "text", "time", "timestamp", "timestamptz", "tsvector", "uuid",
    "varchar", "xml",
)
SQLITE_TYPES = ("INTEGER", "TEXT", "REAL", "BLOB", "NUMERIC")
"""SQLite's type affinities: any name is accepted, these are the ones that mean something."""

_PG_USER_SCHEMA = "{n} NOT IN ('pg_catalog', 'information_schema') AND {n} NOT LIKE 'pg\\_toast%' AND {n} NOT LIKE 'pg\\_temp%'"

_PG_FOREIGN_KEYS = f"""
SELECT cn.nspname, c.relname,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(num, pos)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.pos),
       fn.nspname, f.relname,
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(num, pos)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.pos)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE k.contype = 'f' AND {_PG_USER_SCHEMA.format(n='cn.nspname')}
ORDER BY 1, 2, k.conname"""

_PG_FUNCTIONS = f"""
SELECT DISTINCT n.nspname, p.proname
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {_PG_USER_SCHEMA.format(n='n.nspname')}
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 2"""

# Enums, domains, ranges and stand-alone composite types; a table's row type and the array type
# every type gets are left out.
_PG_TYPES = f"""
SELECT n.nspname, t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE {_PG_USER_SCHEMA.format(n='n.nspname')}
  AND t.typcategory <> 'A' AND (t.typrelid = 0 OR c.relkind = 'c')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                  AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY 1, 2"""


async def postgres_objects(fetch: Fetch) -> CatalogObjects:
    """Foreign keys, user functions and user types of a PostgreSQL database (three queries)."""
    keys = tuple(
        ForeignKeyInfo(r[0], r[1], tuple(r[2]), r[3], r[4], tuple(r[5])) for r in await fetch(_PG_FOREIGN_KEYS)
    )
    functions = tuple((r[0], r[1]) for r in await fetch(_PG_FUNCTIONS))
    types = tuple((r[0], r[1]) for r in await fetch(_PG_TYPES))
    return CatalogObjects(keys, functions, types, POSTGRES_TYPES)


async def sqlite_objects(fetch: Fetch, schemas: list[str]) -> CatalogObjects:
    """Foreign keys of the tables of ``schemas`` and SQLite's registered functions.

    A foreign key that names no parent columns references the parent's primary key."""
    keys: list[ForeignKeyInfo] = []
    for schema in schemas:
        rows = await fetch(
            "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\" "
            f"FROM {_q(schema)}.sqlite_master m, pragma_foreign_key_list(m.name, ?) f "
            "WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
            (schema,),
        )
        grouped: dict[tuple[str, int], list[Any]] = {}
        for row in rows:
            grouped.setdefault((row[0], row[1]), []).append(row)
        for (table, _), parts in grouped.items():
            parent = parts[0][3]
            targets = [p[5] for p in parts]
            if any(t is None for t in targets):
                pk = await fetch("SELECT name FROM pragma_table_info(?, ?) WHERE pk > 0 ORDER BY pk", (parent, schema))
                targets = [r[0] for r in pk]
            keys.append(ForeignKeyInfo(schema, table, tuple(p[4] for p in parts), schema, parent, tuple(targets)))
    try:
        functions = tuple(("", r[0]) for r in await fetch("SELECT DISTINCT name FROM pragma_function_list ORDER BY name"))
    except QueryError:  # built without the introspection pragmas
        functions = ()
    return CatalogObjects(tuple(keys), functions, (), SQLITE_TYPES)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


__all__ = ["postgres_objects", "sqlite_objects"]
