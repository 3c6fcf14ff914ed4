"""AS011 correlated-subquery: a subquery in the SELECT list that refers to the outer query
runs once per outer row. A join (LATERAL in PostgreSQL, a grouped derived table elsewhere)
computes the same in one pass.

>>> from aishell.engine.analyzer import analyze
>>> sql = "SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n FROM customers c"
>>> [f.code for f in analyze(sql).findings]
['AS011']
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.findings import Finding, Rule

RULE = Rule("AS011", "correlated-subquery", "warning", "Correlated subquery in the SELECT list")


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for select in ctx.find_all(exp.Select):
        outer_sources = None
        for projection in select.expressions:
            for sub in projection.find_all(exp.Subquery):
                inner = sub.this
                if not isinstance(inner, exp.Select):
                    continue
                if outer_sources is None:
                    outer_sources = ctx.sources(select)
                if not outer_sources:
                    break
                refs = _outer_refs(inner, outer_sources, ctx)
                if not refs:
                    continue
                yield ctx.finding(
                    RULE,
                    sub,
                    f"the subquery refers to the outer {', '.join(sorted(refs))} and runs once for every outer row",
                    suggestion=_suggest(sub, projection, ctx),
                )


def _outer_refs(inner: exp.Select, outer_sources: dict, ctx) -> set[str]:
    inner_keys: set[str] = set()
    for nested in inner.find_all(exp.Select):
        inner_keys.update(ctx.sources(nested))
    refs: set[str] = set()
    for column in inner.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            continue
        qualifier = column.table.lower() if column.table else ""
        if qualifier:
            if qualifier not in inner_keys and qualifier in outer_sources:
                refs.add(qualifier)
            continue
        if ctx.schema is None:
            continue
        own = ctx.select_of(column)
        if own is not None and ctx.resolve(column, own) is None:
            owners = [s.key for s in outer_sources.values() if s.info is not None and s.info.column(column.name) is not None]
            inner_has = any(
                s.info is not None and s.info.column(column.name) is not None
                for nested in inner.find_all(exp.Select)
                for s in ctx.sources(nested).values()
            )
            if len(owners) == 1 and not inner_has:
                refs.add(owners[0])
    return refs


def _suggest(sub: exp.Subquery, projection: exp.Expression, ctx) -> str:
    alias = projection.alias if isinstance(projection, exp.Alias) and projection.alias else "sub"
    if ctx.dialect == "postgres":
        name = ctx.sql_of(exp.to_identifier(alias))
        return f"LEFT JOIN LATERAL ({ctx.sql_of(sub.this)}) AS {name} ON true  -- then select {name}.<column>"
    return f"LEFT JOIN (<the subquery grouped by its correlation columns>) AS {alias} ON <correlation columns>"
