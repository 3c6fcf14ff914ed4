"""AS002 missing-where: ``UPDATE`` or ``DELETE`` without ``WHERE`` changes every row (error).

>>> from aishell.engine.analyzer import analyze
>>> [f.severity for f in analyze("UPDATE accounts SET balance = 0").findings]
['error']
>>> analyze("DELETE FROM accounts WHERE id = 1").findings
[]
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.findings import Finding, Rule

RULE = Rule("AS002", "missing-where", "error", "UPDATE or DELETE without WHERE")
_SHOWN = 20
"""Assignments repeated in the suggested UPDATE; the rest are elided."""


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for node in ctx.find_all(exp.Update, exp.Delete):
        if node.args.get("where") is not None:
            continue
        target = node.this
        name = ctx.sql_of(target) if isinstance(target, exp.Expression) else "the table"
        if isinstance(node, exp.Delete):
            message = f"DELETE without WHERE removes every row of {name}"
            suggestion = f"DELETE FROM {name} WHERE <condition>;  -- or, to empty it on purpose: TRUNCATE {name};"
        else:
            message = f"UPDATE without WHERE changes every row of {name}"
            shown = node.expressions[:_SHOWN]
            sets = ", ".join(ctx.sql_of(e) for e in shown) + (", …" if len(node.expressions) > _SHOWN else "") or "…"
            suggestion = f"UPDATE {name} SET {sets} WHERE <condition>;"
        yield ctx.finding(RULE, node, message, suggestion=suggestion, at_start=node is tree)
