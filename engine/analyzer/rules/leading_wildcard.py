"""AS005 leading-wildcard: ``LIKE '%…'`` (or ``'_…'``) in a condition cannot use a b-tree
index: every row is read and matched. On a table the schema knows to be small it is only a hint.

>>> from aishell.engine.analyzer import analyze
>>> [f.code for f in analyze("SELECT id FROM p WHERE name LIKE '%shoe'").findings]
['AS005']
>>> analyze("SELECT id FROM p WHERE name LIKE 'shoe%'").findings
[]
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import unparen, unqualified

RULE = Rule("AS005", "leading-wildcard", "warning", "LIKE pattern with a leading wildcard")


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for node in ctx.find_all(exp.Like, exp.ILike):
        pattern = unparen(node.expression)
        if not isinstance(pattern, exp.Literal) or not pattern.is_string:
            continue
        text = pattern.this
        if not text[:1] in ("%", "_") or text.strip("%") == "":
            continue  # '%' alone matches everything: nothing to look up
        if ctx.predicate_owner(node) is None:
            continue
        subject = unparen(node.this)
        column = subject if isinstance(subject, exp.Column) else (subject.find(exp.Column) if subject is not None else None)
        source = ctx.resolve(column) if isinstance(column, exp.Column) else None
        table = source.name if source is not None and source.name else "<table>"
        target = ctx.sql_of(unqualified(subject)) if subject is not None and not ctx.brief else "<column>"
        if ctx.dialect == "postgres":
            suggestion = (
                "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
                f"CREATE INDEX ON {table} USING gin ({target} gin_trgm_ops);"
            )
        elif ctx.dialect == "sqlite":
            suggestion = f"a full-text index: CREATE VIRTUAL TABLE {table}_fts USING fts5({target}); then MATCH against it"
        else:
            suggestion = "a trigram or full-text index on the column"
        message = f"the {node.key.upper()} pattern starts with a wildcard: no b-tree index can serve it, every row is scanned"
        severity = None
        if source is not None and ctx.is_large(source) is False:
            severity = "info"  # the schema knows the table is small: scanning it is cheap
            message += f" (only ~{source.info.row_estimate:,} rows in {source.name})"
        yield ctx.finding(RULE, pattern, message, suggestion=suggestion, severity=severity)
