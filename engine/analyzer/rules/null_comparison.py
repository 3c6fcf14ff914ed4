"""AS012 null-comparison: ``x = NULL`` / ``x <> NULL`` is never true (NULL compares as
unknown), and ``x NOT IN (…, NULL)`` never returns a row. Use ``IS [NOT] NULL``.

>>> from aishell.engine.analyzer import analyze
>>> f = analyze("SELECT id FROM t WHERE deleted_at = NULL").findings[0]
>>> f.code, f.severity, f.suggestion
('AS012', 'error', 'deleted_at IS NULL')
>>> analyze("UPDATE t SET deleted_at = NULL WHERE id = 1").findings
[]
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import unparen

RULE = Rule("AS012", "null-comparison", "error", "Comparison with NULL")
MAX_LISTED = 20
"""Values spelled out in a suggested ``NOT IN (…)`` list; longer lists are described."""
_ASSIGNMENTS = (exp.Update, exp.OnConflict, exp.SetItem, exp.Merge, exp.When, exp.Properties, exp.Property)


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for node in ctx.find_all(exp.EQ, exp.NEQ):
        left, right = unparen(node.this), unparen(node.expression)
        if isinstance(right, exp.Null):
            subject = left
        elif isinstance(left, exp.Null):
            subject = right
        else:
            continue
        if isinstance(node.parent, _ASSIGNMENTS):
            continue  # SET x = NULL is an assignment
        negated = isinstance(node, exp.NEQ)
        yield ctx.finding(
            RULE,
            node,
            f"{ctx.sql_of(node)} is never true: a comparison with NULL is unknown",
            suggestion=f"{ctx.sql_of(subject)} IS {'NOT ' if negated else ''}NULL",
        )
    for node in ctx.find_all(exp.Not):
        inner = unparen(node.this)
        if isinstance(inner, exp.In) and any(isinstance(unparen(e), exp.Null) for e in inner.expressions):
            kept = [e for e in inner.expressions if not isinstance(unparen(e), exp.Null)]
            yield ctx.finding(
                RULE,
                node,
                "NOT IN (…) with a NULL in the list is never true: no row is returned",
                suggestion=_without_null(inner, kept, ctx) if kept else None,
            )


def _without_null(inner: exp.In, kept: list[exp.Expression], ctx) -> str:
    subject = ctx.sql_of(inner.this)
    if len(kept) > MAX_LISTED:
        return f"{subject} NOT IN (…)  -- the same {len(kept):,} values without the NULL"
    return f"{subject} NOT IN ({', '.join(ctx.sql_of(e) for e in kept)})"
