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
                suggestion=(
                    f"{ctx.sql_of(inner.this)} NOT IN ({', '.join(ctx.sql_of(e) for e in kept)})" if kept else None
                ),
            )
