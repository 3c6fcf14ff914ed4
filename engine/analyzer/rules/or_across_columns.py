"""AS006 or-across-columns: ``a = 1 OR b = 2`` in WHERE filters on different columns, so no
single index serves it (PostgreSQL can only combine two bitmap scans when both columns are
indexed; most planners fall back to a full scan). Suggests one query per branch joined by
UNION, or indexing each column. ``x = 1 OR x = 2`` is a hint to write ``x IN (1, 2)``.

Optional-filter idioms such as ``(:p IS NULL OR col = :p)`` are not reported, nor an OR with a
branch no index could serve anyway (``lower(a) = 'x' OR b = 2``, ``a <> 1 OR b = 2``: that
branch is scanned whatever is done), nor one over tables the schema knows to be small.

>>> from aishell.engine.analyzer import analyze
>>> [f.code for f in analyze("SELECT id FROM t WHERE a = 1 OR b = 2").findings]
['AS006']
>>> analyze("SELECT id FROM t WHERE (a = 1 AND b = 2) OR (a = 3 AND b = 4)").findings
[]
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.context import conjuncts, is_constant
from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import first_of, follow, or_branches, path_to, plain_column, sargable, walk_scope

RULE = Rule("AS006", "or-across-columns", "warning", "OR across different columns")


MAX_REWRITE_BRANCHES = 8
"""ORs with more branches get the short advice instead of a UNION of that many queries."""
MAX_REWRITE_TOKENS = 1_000
"""Statements longer than this get the short advice: the rewrite repeats the query per branch."""
MAX_IN_VALUES = 20
"""Values spelled out in the ``IN (…)`` suggestion; the rest are counted."""


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    conjunct_ids: dict[int, set[int]] = {}
    for node in ctx.find_all(exp.Or):
        parent = node.parent
        while isinstance(parent, exp.Paren):
            parent = parent.parent
        if isinstance(parent, exp.Or):
            continue  # reported at the top of the OR chain
        owner = ctx.predicate_owner(node)
        if not isinstance(owner, exp.Where):
            continue
        finding = _check_or(node, owner, ctx, conjunct_ids)
        if finding is not None:
            yield finding


def _column_key(column: exp.Column) -> tuple[str, str]:
    return ((column.table or "").lower(), column.name.lower())


def _columns(branch: exp.Expression) -> set[tuple[str, str]]:
    """The columns a branch reads outside subqueries (``col = literal`` without a walk)."""
    if isinstance(branch, exp.Binary) and isinstance(branch.expression, exp.Literal) and isinstance(branch.this, exp.Column):
        column = branch.this
        return set() if isinstance(column.this, exp.Star) else {_column_key(column)}
    return {_column_key(c) for c in walk_scope(branch) if isinstance(c, exp.Column) and not isinstance(c.this, exp.Star)}


def _check_or(node: exp.Or, where: exp.Where, ctx, conjunct_ids: dict[int, set[int]]) -> Finding | None:
    branches = or_branches(node)
    sets = []
    for branch in branches:
        columns = _columns(branch)
        if not columns:
            return None  # an optional-filter idiom or a constant branch
        sets.append(columns)
    same = _same_column_equalities(branches)
    if same is not None:
        column, values = same
        return ctx.finding(
            RULE, node,
            f"OR of equalities on the same column {column}: an IN list reads better and plans the same or better",
            suggestion=_in_list(column, values), severity="info",
        )
    common = set.intersection(*sets)
    if common:
        return None
    if any(not any(sargable(part) for part in conjuncts(branch)) for branch in branches):
        return None  # a branch no index could serve: it is scanned with or without the OR
    select = where.parent
    severity = "info"
    if ctx.schema is not None and isinstance(select, exp.Select):
        sources = [s for s in ctx.sources(select).values() if s.is_table]
        if sources and all(ctx.is_large(s) is False for s in sources):
            return None  # every table is known to be small: reading it whole is cheap
        unindexed = []
        for branch in branches:
            for column in walk_scope(branch):
                if not isinstance(column, exp.Column) or isinstance(column.this, exp.Star):
                    continue
                source = ctx.resolve(column, select)
                if source is not None and source.info is not None and column.name.lower() not in source.info.leading_index_columns():
                    unindexed.append(column.name)
        if not unindexed:
            return None  # every branch has its own index: bitmap OR / OR-by-union handles it
        severity = "warning"
    names = sorted({name for s in sets for _, name in s})
    return ctx.finding(
        RULE, node,
        f"OR across different columns ({first_of(names)}): no single index serves it, so the table is likely scanned",
        suggestion=_union_rewrite(node, select, branches, ctx, conjunct_ids),
        severity=severity,
    )


def _same_column_equalities(branches):
    column = None
    key = None
    values = []
    for branch in branches:
        if not isinstance(branch, exp.EQ):
            return None
        left, right = plain_column(branch.this), plain_column(branch.expression)
        if left is not None and is_constant(branch.expression):
            col, value = left, branch.expression
        elif right is not None and is_constant(branch.this):
            col, value = right, branch.this
        else:
            return None
        if key is None:
            key, column = _spelling(col), col
        elif _spelling(col) != key:
            return None
        values.append(value)
    return (column.sql(copy=False), values) if column is not None and len(values) > 1 else None


def _spelling(column: exp.Column) -> tuple:
    """What makes two column references read the same: each name part and whether it is quoted."""
    return tuple((part.name, bool(part.args.get("quoted"))) for part in column.parts)


def _in_list(column: str, values: list[exp.Expression]) -> str:
    shown = ", ".join(v.sql(copy=False) for v in values[:MAX_IN_VALUES])
    if len(values) > MAX_IN_VALUES:
        return f"{column} IN ({shown}, …)  -- {len(values):,} values"
    return f"{column} IN ({shown})"


def _union_rewrite(node: exp.Or, select, branches, ctx, conjunct_ids: dict[int, set[int]]) -> str:
    """The query once per branch, joined by UNION, when that stays readable (few branches, a
    short statement); else the advice in words."""
    fallback = "split into one query per OR branch combined with UNION, or index each column"
    if ctx.brief or len(branches) > MAX_REWRITE_BRANCHES or len(ctx.tokens) > MAX_REWRITE_TOKENS:
        return fallback
    if not isinstance(select, exp.Select):
        return fallback
    where = select.args["where"]
    ids = conjunct_ids.get(id(where))
    if ids is None:
        ids = conjunct_ids[id(where)] = {id(c) for c in conjuncts(where.this)}
    if id(node) not in ids:
        return fallback
    if any(select.args.get(k) for k in ("group", "order", "limit", "offset", "having", "distinct")):
        return fallback
    if any(p.find(exp.AggFunc) for p in select.expressions):
        return fallback
    steps = path_to(node, select)
    if steps is None:
        return fallback
    parts = []
    for branch in branches:
        copy = select.copy()
        target = follow(copy, steps)
        if target is None:
            return fallback
        target.replace(exp.paren(branch.copy(), copy=False) if isinstance(branch, exp.Or) else branch.copy())
        parts.append(ctx.sql_of(copy))
    return "\nUNION\n".join(parts)
