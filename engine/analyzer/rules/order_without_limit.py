"""AS008 order-without-limit: the result of a large table sorted without LIMIT — every row is
read and sorted (often on disk) before the first is returned. Needs the schema's row
estimates; not reported for grouped, aggregated or DISTINCT results.

>>> from aishell.engine.analyzer import analyze
>>> from aishell.engine.types import SchemaInfo, TableInfo
>>> schema = SchemaInfo(); schema.add(TableInfo("public", "events", row_estimate=5_000_000))
>>> [f.code for f in analyze("SELECT id FROM events ORDER BY id", schema=schema).findings]
['AS008']
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import outer_selects

RULE = Rule("AS008", "order-without-limit", "warning", "ORDER BY without LIMIT on a large table")


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    if ctx.schema is None or not isinstance(tree, (exp.Select, exp.SetOperation, exp.Subquery)):
        return
    for select in outer_selects(tree):
        order = select.args.get("order")
        if order is None or select.args.get("limit") is not None or select.args.get("group") is not None:
            continue
        if select.args.get("distinct") is not None or any(p.find(exp.AggFunc) for p in select.expressions):
            continue
        large = [s for s in ctx.sources(select).values() if ctx.is_large(s)]
        if not large:
            continue
        biggest = max(large, key=lambda s: s.info.row_estimate)
        yield ctx.finding(
            RULE,
            order,
            f"sorts every row of {biggest.name} (~{biggest.info.row_estimate:,} rows) with no LIMIT: "
            "the whole result is read and sorted before the first row arrives",
            suggestion=f"{ctx.sql_of(order)} LIMIT 100  -- and page with WHERE <sort key> > <last seen>",
        )
