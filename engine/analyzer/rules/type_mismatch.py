"""AS013 type-mismatch: a join or filter comparing values of different type families
(``integer`` column to ``text`` column, text column to a number, a number column to a string
that is no number). The cast runs on every row and keeps the index on the cast side from
being used — or, in PostgreSQL, the statement fails. Needs the schema.

>>> from aishell.engine.analyzer import analyze
>>> from aishell.engine.types import SchemaInfo, TableInfo, ColumnInfo
>>> schema = SchemaInfo()
>>> schema.add(TableInfo("public", "a", row_estimate=50, columns=[ColumnInfo("code", "text")]))
>>> [f.code for f in analyze("SELECT 1 FROM a WHERE code = 42", schema=schema).findings]
['AS013']
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.memo import looks_numeric
from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import COMPARISONS, literal_family, plain_column, type_family, unparen, walk_scope

RULE = Rule("AS013", "type-mismatch", "warning", "Comparison between different types")
_COMPATIBLE = {frozenset({"integer", "numeric"}): False}


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    if ctx.schema is None:
        return
    for owner in ctx.find_all(exp.Where, exp.Join):
        condition = owner.args.get("on") if isinstance(owner, exp.Join) else owner.this
        if condition is None:
            continue
        for node in walk_scope(condition):
            if isinstance(node, COMPARISONS):
                finding = _compare(node, node.this, node.expression, ctx)
                if finding is not None:
                    yield finding
            elif isinstance(node, exp.In) and node.expressions:
                for value in node.expressions:
                    finding = _compare(node, node.this, value, ctx)
                    if finding is not None:
                        yield finding
                        break


def _typed(node: exp.Expression, ctx):
    column = plain_column(node)
    if column is None:
        return None
    found = ctx.column_info(column)
    if found is None:
        return None
    source, info = found
    family = type_family(info.type_name, ctx.dialect)
    return (column, info, family) if family else None


def _compare(node, left, right, ctx) -> Finding | None:
    a, b = _typed(left, ctx), _typed(right, ctx)
    if a is not None and b is not None:
        if a[2] == b[2]:
            return None
        return ctx.finding(
            RULE,
            node,
            f"compares {ctx.sql_of(a[0])} ({a[1].type_name}) with {ctx.sql_of(b[0])} ({b[1].type_name}): "
            "the cast runs on every row and an index on the cast side cannot be used",
            suggestion=f"make both columns the same type (ALTER TABLE … ALTER COLUMN … TYPE {a[1].type_name}), "
            f"or cast the other side explicitly: {ctx.sql_of(a[0])} = CAST({ctx.sql_of(b[0])} AS {a[1].type_name})",
        )
    typed, other = (a, right) if a is not None else (b, left) if b is not None else (None, None)
    if typed is None:
        return None
    column, info, family = typed
    literal = literal_family(other)
    if literal == "number" and family == "text":
        value = unparen(other)
        return ctx.finding(
            RULE,
            node,
            f"compares text column {ctx.sql_of(column)} with a number: "
            + ("PostgreSQL refuses text = integer" if ctx.dialect == "postgres" else "every row is converted before comparing"),
            suggestion=f"{ctx.sql_of(column)} = '{ctx.sql_of(value)}'" if isinstance(node, exp.EQ) else "quote the value as a string",
        )
    if literal == "string" and family in ("integer", "numeric"):
        value = unparen(other)
        text = value.this if isinstance(value, exp.Literal) else ""
        if not looks_numeric(text):
            return ctx.finding(
                RULE,
                node,
                f"compares {family} column {ctx.sql_of(column)} with a string that is not a number: "
                + ("the statement fails with invalid input syntax" if ctx.dialect == "postgres" else "it never matches"),
                suggestion="compare with a number",
            )
    return None
