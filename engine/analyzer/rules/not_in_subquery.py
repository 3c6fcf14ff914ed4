"""AS007 not-in-subquery: ``x NOT IN (SELECT y …)`` returns no rows at all as soon as one
``y`` is NULL, and planners cannot turn it into an anti-join. ``NOT EXISTS`` says what is
meant. Silent when the subquery's column is known NOT NULL (schema) or filtered with
``IS NOT NULL``. ``NOT IN`` of a list containing NULL is rule AS012.

>>> from aishell.engine.analyzer import analyze
>>> f = analyze("SELECT c.id FROM customers c WHERE c.id NOT IN (SELECT o.customer_id FROM orders o)").findings[0]
>>> f.code, f.suggestion
('AS007', 'NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.customer_id = c.id)')
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.context import conjuncts
from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import plain_column, unparen

RULE = Rule("AS007", "not-in-subquery", "warning", "NOT IN (subquery) with a nullable column")


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for node in ctx.find_all(exp.Not):
        inner = unparen(node.this)
        if not isinstance(inner, exp.In):
            continue
        query = inner.args.get("query")
        if query is None:
            continue
        sub = unparen(query.this if isinstance(query, exp.Subquery) else query)
        if not isinstance(sub, exp.Select) or len(sub.expressions) != 1:
            continue
        projected = sub.expressions[0].unalias() if isinstance(sub.expressions[0], exp.Alias) else sub.expressions[0]
        column = plain_column(projected)
        if column is not None and _not_null(column, sub, ctx):
            continue
        yield ctx.finding(
            RULE,
            node,
            "NOT IN (subquery) yields no rows at all if the subquery returns a NULL, and cannot be planned as an anti-join",
            suggestion=None if ctx.brief else _rewrite(inner, sub, projected, ctx),
        )


def _not_null(column: exp.Column, sub: exp.Select, ctx) -> bool:
    for condition in conjuncts(sub.args.get("where")):
        test = None
        if isinstance(condition, exp.Not) and isinstance(unparen(condition.this), exp.Is):
            test = unparen(condition.this)
        elif isinstance(condition, exp.Is) and condition.args.get("negate"):
            test = condition
        if test is not None and isinstance(test.expression, exp.Null):
            tested = plain_column(test.this)
            if tested is not None and tested.name.lower() == column.name.lower():
                return True
    found = ctx.column_info(column, sub)
    return found is not None and not found[1].nullable


def _rewrite(inner: exp.In, sub: exp.Select, projected: exp.Expression, ctx) -> str:
    outer = inner.this.copy()
    column = plain_column(inner.this)
    if column is not None and not column.table:
        select = ctx.select_of(inner)
        source = ctx.resolve(column, select) if select is not None else None
        if source is not None:
            outer = exp.column(column.name, table=source.key, quoted=column.this.quoted)
    copy = sub.copy()
    copy.set("expressions", [exp.Literal.number(1)])
    copy.set("distinct", None)
    copy = copy.where(exp.EQ(this=projected.copy(), expression=outer), copy=False)
    return f"NOT EXISTS ({ctx.sql_of(copy)})"
