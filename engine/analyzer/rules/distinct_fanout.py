"""AS010 distinct-fanout: ``SELECT DISTINCT`` over a join whose joined table contributes no
column to the result — the join multiplies rows (one-to-many) and DISTINCT throws the
copies away again. A semi-join (``EXISTS``) says it without the duplicates.

>>> from aishell.engine.analyzer import analyze
>>> sql = "SELECT DISTINCT c.id, c.name FROM customers c JOIN orders o ON o.customer_id = c.id"
>>> f = analyze(sql).findings[0]
>>> f.code, f.suggestion
('AS010', 'SELECT c.id, c.name FROM customers AS c WHERE EXISTS(SELECT 1 FROM orders AS o WHERE o.customer_id = c.id)')
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.context import conjuncts
from aishell.engine.analyzer.findings import Finding, Rule

RULE = Rule("AS010", "distinct-fanout", "warning", "DISTINCT hiding a join fan-out")


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for select in ctx.find_all(exp.Select):
        distinct = select.args.get("distinct")
        if distinct is None or distinct.args.get("on") is not None or not select.args.get("joins"):
            continue
        sources = ctx.sources(select)
        if len(sources) < 2:
            continue
        used: set[str] = set()
        resolved = True
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                used.update(sources)
                continue
            for column in projection.find_all(exp.Column):
                if isinstance(column.this, exp.Star):
                    if column.table:
                        used.add(column.table.lower())
                    continue
                if ctx.select_of(column) is not select:
                    continue
                source = ctx.resolve(column, select)
                if source is None:
                    resolved = False
                    break
                used.add(source.key)
        if not resolved or not used:
            continue
        unused = [s for key, s in sources.items() if key not in used]
        if not unused:
            continue
        names = ", ".join(s.key for s in unused)
        yield ctx.finding(
            RULE,
            distinct,
            f"DISTINCT removes the duplicate rows that joining {names} creates, yet {names} adds no column: "
            "the join multiplies rows only for DISTINCT to drop them",
            suggestion=None if ctx.brief else _semi_join(select, unused, ctx),
            anchor=select.expressions[0] if select.expressions else distinct,
        )


def _semi_join(select: exp.Select, unused, ctx) -> str:
    """The query with the unused join turned into ``WHERE EXISTS`` (its WHERE conditions moved
    inside). DISTINCT is dropped only when the result keeps a key of every remaining table;
    otherwise it stays (the semi-join still removes the fan-out)."""
    fallback = "replace the join by WHERE EXISTS (SELECT 1 FROM <joined table> WHERE <join condition>)"
    if len(unused) != 1:
        return fallback
    gone = unused[0]
    joins = select.args.get("joins") or []
    target = next((j for j in joins if ctx.source_of(j.this).key == gone.key), None)
    if target is None or target.args.get("on") is None or (target.args.get("side") or "").upper() in ("LEFT", "RIGHT", "FULL"):
        return fallback
    sources = ctx.sources(select)
    inner_conditions = [target.args["on"].copy()]
    outer_conditions = []
    for condition in conjuncts(select.args.get("where")):
        keys = set()
        for column in condition.find_all(exp.Column):
            source = ctx.resolve(column, select)
            if source is None and not column.table:
                return fallback  # cannot tell which side an unqualified column belongs to
            keys.add(source.key if source is not None else column.table.lower())
        (inner_conditions if gone.key in keys else outer_conditions).append(condition.copy())
    sub = exp.Select(expressions=[exp.Literal.number(1)]).from_(target.this.copy(), copy=False)
    sub = sub.where(exp.and_(*inner_conditions, copy=False), copy=False)
    copy = select.copy()
    copy.set("joins", [j.copy() for j in joins if j is not target] or None)
    copy.set("where", None)
    condition = exp.and_(*outer_conditions, exp.Exists(this=sub), copy=False)
    copy = copy.where(condition, copy=False)
    if _keeps_keys(select, [s for k, s in sources.items() if k != gone.key], ctx):
        copy.set("distinct", None)
    return ctx.sql_of(copy)


def _keeps_keys(select: exp.Select, kept, ctx) -> bool:
    """True when the select list has a primary key (schema) or an ``id`` column (no schema)
    of every table that remains, so rows cannot repeat without DISTINCT."""
    chosen: dict[str, set[str]] = {}
    for projection in select.expressions:
        column = projection.unalias() if isinstance(projection, exp.Alias) else projection
        if isinstance(column, exp.Column) and not isinstance(column.this, exp.Star):
            source = ctx.resolve(column, select)
            if source is not None:
                chosen.setdefault(source.key, set()).add(column.name.lower())
    for source in kept:
        names = chosen.get(source.key, set())
        if source.info is not None:
            keys = [ix.columns for ix in source.info.indexes if ix.primary or ix.unique]
            if not any(key and all(c.lower() in names for c in key) for key in keys):
                return False
        elif "id" not in names:
            return False
    return True
