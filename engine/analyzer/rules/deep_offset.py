"""AS009 deep-offset: ``OFFSET n`` with n at or above ``settings.deep_offset`` reads and throws
away n rows for every page; keyset pagination (``WHERE key > last_seen``) does not.

>>> from aishell.engine.analyzer import analyze
>>> f = analyze("SELECT id FROM t ORDER BY id LIMIT 20 OFFSET 50000").findings[0]
>>> f.code, f.suggestion
('AS009', 'WHERE id > :last_id ORDER BY id LIMIT 20')
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import plain_column, unparen

RULE = Rule("AS009", "deep-offset", "warning", "Deep OFFSET pagination")


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for node in ctx.find_all(exp.Offset):
        value = unparen(node.expression)
        if not isinstance(value, exp.Literal) or value.is_string:
            continue
        try:
            rows = float(value.this)
        except ValueError:
            continue
        if rows < ctx.settings.deep_offset:
            continue
        shown = f"{int(rows):,}" if rows < 1e18 else "a huge number of"
        select = node.parent
        yield ctx.finding(
            RULE,
            value,
            f"OFFSET {shown} reads and discards {shown} rows for this page: deep pages get slower and slower",
            suggestion=_keyset(select, ctx),
        )


def _keyset(select, ctx) -> str:
    order = select.args.get("order") if isinstance(select, exp.Select) else None
    limit = select.args.get("limit") if isinstance(select, exp.Select) else None
    limit_sql = f" LIMIT {ctx.sql_of(limit.expression)}" if isinstance(limit, exp.Limit) and limit.expression is not None else ""
    keys = []
    if order is not None:
        for ordered in order.expressions:
            column = plain_column(ordered.this)
            if column is None:
                return "keyset pagination: WHERE <sort key> > <last seen value> ORDER BY <sort key> LIMIT n"
            keys.append((column, bool(ordered.args.get("desc"))))
    if not keys:
        return "add ORDER BY on a unique key, then page with WHERE key > :last_key ORDER BY key LIMIT n"
    if len({desc for _, desc in keys}) > 1:
        return "keyset pagination on the ORDER BY columns (mixed directions need an OR chain or a row comparison per direction)"
    op = "<" if keys[0][1] else ">"
    names = [ctx.sql_of(c) for c, _ in keys]
    params = [":last_" + c.name for c, _ in keys]
    order_sql = ctx.sql_of(order).removeprefix("ORDER BY ")
    if len(keys) == 1:
        return f"WHERE {names[0]} {op} {params[0]} ORDER BY {order_sql}{limit_sql}"
    return f"WHERE ({', '.join(names)}) {op} ({', '.join(params)}) ORDER BY {order_sql}{limit_sql}"
