"""A :class:`SchemaInfo` from DDL text, for analysis without a live database (tests, scripts,
``CREATE TABLE`` files kept next to the queries).

Reads ``CREATE TABLE`` (columns, types, NOT NULL, PRIMARY KEY/UNIQUE inline or as table
constraints) and ``CREATE [UNIQUE] INDEX`` (columns or expressions, partial). Row estimates
come from ``rows``; everything else in the text is ignored.

>>> info = schema_from_ddl("CREATE TABLE t (id int PRIMARY KEY, email text); CREATE INDEX ON t (lower(email));", rows={"t": 500})
>>> t = info.find("t")
>>> t.row_estimate, [ix.columns for ix in t.indexes]
(500, [('id',), ('LOWER(email)',)])
"""

from __future__ import annotations

from typing import Mapping

import sqlglot
from sqlglot import exp

from aishell.engine.types import ColumnInfo, IndexInfo, SchemaInfo, TableInfo


def schema_from_ddl(ddl: str, *, dialect: str = "postgres", rows: Mapping[str, int] | None = None, default_schema: str | None = None) -> SchemaInfo:
    """Tables and indexes declared in ``ddl``. Raises sqlglot's ParseError for DDL it cannot read."""
    rows = {k.lower(): v for k, v in (rows or {}).items()}
    schema_name = default_schema or ("main" if dialect == "sqlite" else "public")
    info = SchemaInfo(search_path=(schema_name,))
    for statement in sqlglot.parse(ddl, read=dialect):
        if not isinstance(statement, exp.Create):
            continue
        kind = (statement.args.get("kind") or "").upper()
        if kind == "TABLE" and isinstance(statement.this, exp.Schema):
            _table(statement.this, info, rows, schema_name, dialect)
        elif kind == "INDEX" and isinstance(statement.this, exp.Index):
            _index(statement, info, dialect)
    return info


def _table(node: exp.Schema, info: SchemaInfo, rows, schema_name: str, dialect: str) -> None:
    table = node.this
    name = table.name
    result = TableInfo(table.db or schema_name, name, "table", rows.get(name.lower(), -1))
    primary: list[str] = []
    uniques: list[tuple[str, ...]] = []
    for position, item in enumerate(node.expressions, start=1):
        if isinstance(item, exp.ColumnDef):
            nullable = True
            for constraint in item.constraints:
                ckind = constraint.args.get("kind")
                if isinstance(ckind, exp.NotNullColumnConstraint) and not ckind.args.get("allow_null"):
                    nullable = False
                elif isinstance(ckind, exp.PrimaryKeyColumnConstraint):
                    nullable = False
                    primary.append(item.name)
                elif isinstance(ckind, exp.UniqueColumnConstraint):
                    uniques.append((item.name,))
            type_name = item.args["kind"].sql(dialect=dialect).lower() if item.args.get("kind") else ""
            result.columns.append(ColumnInfo(item.name, type_name, nullable, None, position))
        elif isinstance(item, exp.PrimaryKey):
            primary.extend(_names(item.expressions))
        elif isinstance(item, (exp.UniqueColumnConstraint, exp.Constraint)):
            inner = item.this if isinstance(item, exp.UniqueColumnConstraint) else None
            if isinstance(inner, exp.Schema):
                uniques.append(tuple(_names(inner.expressions)))
    if primary:
        result.indexes.append(IndexInfo(f"{name}_pkey", tuple(primary), True, True, f"PRIMARY KEY ({', '.join(primary)})"))
        for column in list(result.columns):
            if column.name in primary and column.nullable:
                result.columns[result.columns.index(column)] = ColumnInfo(column.name, column.type_name, False, None, column.position)
    for i, cols in enumerate(uniques):
        result.indexes.append(IndexInfo(f"{name}_unique_{i}", cols, True, False, f"UNIQUE ({', '.join(cols)})"))
    info.add(result)


def _index(statement: exp.Create, info: SchemaInfo, dialect: str) -> None:
    index = statement.this
    table = index.args.get("table")
    if not isinstance(table, exp.Table):
        return
    target = info.find(table.name, table.db or None)
    if target is None:
        return
    params = index.args.get("params")
    keys = []
    for ordered in (params.args.get("columns") if params is not None else None) or []:
        key = ordered.this if isinstance(ordered, exp.Ordered) else ordered
        keys.append(key.name if isinstance(key, exp.Column) else key.sql(dialect=dialect))
    name = index.name or f"{target.name}_{'_'.join(k for k in keys if k.isidentifier()) or 'expr'}_idx"
    partial = params is not None and params.args.get("where") is not None
    target.indexes.append(IndexInfo(name, tuple(keys), bool(statement.args.get("unique")), False, statement.sql(dialect=dialect), partial))


def _names(items) -> list[str]:
    out = []
    for item in items:
        node = item.this if isinstance(item, exp.Ordered) else item
        out.append(node.name)
    return out
