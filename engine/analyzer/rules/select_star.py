"""AS001 select-star: ``SELECT *`` in the query whose rows are the result.

Not in ``EXISTS (SELECT * …)`` or subqueries, not ``count(*)``. With the schema known the
suggestion lists the columns.

>>> from aishell.engine.analyzer import analyze
>>> [f.code for f in analyze("SELECT * FROM orders").findings]
['AS001']
>>> [f.code for f in analyze("SELECT count(*) FROM orders WHERE EXISTS (SELECT * FROM t)").findings]
[]
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import outer_selects

RULE = Rule("AS001", "select-star", "warning", "SELECT * in the outer query")


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for select in outer_selects(tree):
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                qualifier = None
            elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                qualifier = projection.table
            else:
                continue
            yield ctx.finding(
                RULE,
                projection,
                "SELECT * returns every column: the result changes shape when the table does, "
                "and unused columns are read and sent (no index-only scans)",
                suggestion=_expanded(select, qualifier, ctx),
            )


def _expanded(select: exp.Select, qualifier: str | None, ctx) -> str | None:
    if ctx.schema is None:
        return None
    sources = ctx.sources(select)
    chosen = [sources.get(qualifier.lower())] if qualifier else list(sources.values())
    if not chosen or any(s is None or s.info is None or not s.info.columns for s in chosen):
        return None
    prefix = len(chosen) > 1 or bool(qualifier)
    names = [f"{s.key}.{c.name}" if prefix else c.name for s in chosen for c in s.info.columns]  # type: ignore[union-attr]
    return "SELECT " + ", ".join(names)
