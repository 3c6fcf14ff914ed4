"""Helpers the rules share: outer queries, comparisons, type families, paths for rewriting
copies and bounded lists for messages. Nothing here mutates the tree it is given.

>>> first_of([f"c{i}" for i in range(8)], 3)
'c0, c1, c2 and 5 more'
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.context import is_constant, operands

COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def outer_selects(tree: exp.Expression) -> list[exp.Select]:
    """The SELECTs whose rows are the statement's result (union branches, INSERT … SELECT,
    CREATE VIEW … AS SELECT), not subqueries or CTE bodies. CREATE TABLE … AS copies on
    purpose and is left out."""
    out: list[exp.Select] = []
    stack: list[exp.Expression | None] = [tree]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if isinstance(node, exp.Select):
            out.append(node)
        elif isinstance(node, exp.SetOperation):
            stack.append(node.expression)
            stack.append(node.this)
        elif isinstance(node, exp.Subquery):
            stack.append(node.this)
        elif isinstance(node, exp.Insert) or (isinstance(node, exp.Create) and (node.args.get("kind") or "").upper() == "VIEW"):
            stack.append(node.expression)
    return out


def first_of(items: list[str], limit: int = 5) -> str:
    """``items`` joined by commas, the first ``limit`` only and a count of the rest: a message
    about a 100,000-item list stays one short line."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit:,} more"


def walk_scope(node: exp.Expression) -> Iterator[exp.Expression]:
    """``node`` and its descendants without entering subqueries."""
    return node.walk(prune=lambda n: n is not node and isinstance(n, (exp.Subquery, exp.Select)))


def or_branches(node: exp.Expression) -> list[exp.Expression]:
    """The OR-ed alternatives of a condition, parentheses removed."""
    return operands(node, exp.Or)


def unparen(node: exp.Expression | None) -> exp.Expression | None:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def plain_column(node: exp.Expression | None) -> exp.Column | None:
    """The column when ``node`` is a bare column reference (not ``t.*``)."""
    node = unparen(node)
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
        return node
    return None


def sargable(condition: exp.Expression) -> tuple[exp.Column, bool] | None:
    """(column, is equality) when the condition can be answered by an index on the column."""
    condition = unparen(condition)
    if isinstance(condition, COMPARISONS) and not isinstance(condition, exp.NEQ):
        for side, other in ((condition.this, condition.expression), (condition.expression, condition.this)):
            column = plain_column(side)
            if column is not None and is_constant(other):
                return column, isinstance(condition, exp.EQ)
        return None
    if isinstance(condition, exp.In) and plain_column(condition.this) is not None:
        if condition.args.get("query") is not None or all(is_constant(e) for e in condition.expressions):
            return plain_column(condition.this), True
    if isinstance(condition, exp.Between) and plain_column(condition.this) is not None:
        return plain_column(condition.this), False
    if isinstance(condition, exp.Like) and plain_column(condition.this) is not None:
        pattern = unparen(condition.expression)
        if isinstance(pattern, exp.Literal) and pattern.is_string and pattern.this[:1] not in ("%", "_", ""):
            return plain_column(condition.this), False
    if isinstance(condition, exp.Is) and plain_column(condition.this) is not None:
        return plain_column(condition.this), True
    return None


def path_to(node: exp.Expression, ancestor: exp.Expression) -> list[tuple[str, int | None]] | None:
    """How to reach ``node`` from ``ancestor``: (arg key, index in a list or None) steps."""
    steps: list[tuple[str, int | None]] = []
    current = node
    while current is not ancestor:
        parent = current.parent
        if parent is None:
            return None
        value = parent.args.get(current.arg_key)
        index = current.index if isinstance(value, list) else None
        steps.append((current.arg_key, index))
        current = parent
    steps.reverse()
    return steps


def follow(root: exp.Expression, steps: list[tuple[str, int | None]]) -> exp.Expression | None:
    """The node at ``steps`` below ``root`` (used on copies, to rewrite them)."""
    current: exp.Expression | None = root
    for key, index in steps:
        if current is None:
            return None
        value = current.args.get(key)
        current = value[index] if index is not None and isinstance(value, list) and index < len(value) else value
        if not isinstance(current, exp.Expression):
            return None
    return current


def unqualified(node: exp.Expression) -> exp.Expression:
    """A copy of ``node`` with table qualifiers removed from its columns (index expressions)."""
    copy = node.copy()
    for column in list(copy.find_all(exp.Column)):
        column.set("table", None)
        column.set("db", None)
    return copy


def type_family(type_name: str, dialect: str = "postgres") -> str | None:
    """A coarse family for comparing types: integer, numeric, text, datetime, boolean, uuid,
    json, binary; None when unknown. SQLite names follow its type-affinity rules."""
    name = (type_name or "").lower().strip()
    if not name:
        return None
    if dialect == "sqlite":
        upper = name.upper()
        if "INT" in upper:
            return "integer"
        if "CHAR" in upper or "CLOB" in upper or "TEXT" in upper:
            return "text"
        if "BLOB" in upper:
            return "binary"
        if "REAL" in upper or "FLOA" in upper or "DOUB" in upper:
            return "numeric"
        if "DATE" in upper or "TIME" in upper:
            return None  # stored as text or numbers: affinity NUMERIC, not comparable by name
        return "numeric"
    base = name.split("(")[0].strip().rstrip("[]").strip()
    if base in ("smallint", "integer", "bigint", "int", "int2", "int4", "int8", "serial", "bigserial", "smallserial", "oid"):
        return "integer"
    if base in ("numeric", "decimal", "real", "double precision", "float4", "float8", "money", "float"):
        return "numeric"
    if base in ("text", "character varying", "varchar", "character", "char", "bpchar", "name", "citext"):
        return "text"
    if base.startswith(("timestamp", "time", "date", "interval")):
        return "interval" if base.startswith("interval") else "datetime"
    if base in ("boolean", "bool"):
        return "boolean"
    if base == "uuid":
        return "uuid"
    if base in ("json", "jsonb"):
        return "json"
    if base == "bytea":
        return "binary"
    return None


def literal_family(node: exp.Expression) -> str | None:
    """``number``, ``string`` or None for a literal (sign included)."""
    node = unparen(node)
    if isinstance(node, exp.Neg):
        node = node.this
    if isinstance(node, exp.Literal):
        return "string" if node.is_string else "number"
    return None
