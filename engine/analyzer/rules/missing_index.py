"""AS014 missing-index: a filter, join or top-N sort on a column of a large table that no index
starts with, so the table is read in full. Needs the schema (indexes and row estimates).

Filters (``col = …``, ranges, ``IN``, ``BETWEEN``, prefix ``LIKE``) are warnings; join keys and
sort keys are hints (hash joins and sorts work without an index). The finding carries an
:class:`IndexCandidate` for the advisor to try with HypoPG; equality columns come first.

>>> from aishell.engine.analyzer import analyze
>>> from aishell.engine.types import SchemaInfo, TableInfo, ColumnInfo
>>> schema = SchemaInfo()
>>> schema.add(TableInfo("public", "events", row_estimate=2_000_000, columns=[ColumnInfo("kind", "text")]))
>>> f = analyze("SELECT kind FROM events WHERE kind = 'login'", schema=schema).findings[0]
>>> f.code, f.suggestion
('AS014', 'CREATE INDEX ON events (kind);')
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.context import conjuncts
from aishell.engine.analyzer.findings import Finding, IndexCandidate, Rule
from aishell.engine.analyzer.rules._common import plain_column, sargable

RULE = Rule("AS014", "missing-index", "warning", "Filter, join or sort on a column without an index")


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    if ctx.schema is None:
        return
    reported: set[tuple[str, tuple[str, ...]]] = set()
    for scope in ctx.find_all(exp.Select, exp.Update, exp.Delete):
        if isinstance(scope, exp.Select):
            sources = ctx.sources(scope)
        else:
            target = scope.this
            if not isinstance(target, exp.Table):
                continue
            source = ctx.source_of(target)
            sources = {source.key: source}
        if not sources:
            continue
        yield from _filters(scope, sources, ctx, reported)
        if isinstance(scope, exp.Select):
            yield from _joins(scope, sources, ctx, reported)
            yield from _sorts(scope, sources, ctx, reported)


def _candidate(source, columns: tuple[str, ...]) -> IndexCandidate:
    """The index on ``source`` with the catalog's spelling of its names (quoted when printed)."""
    schema, table = source.catalog_name()
    return IndexCandidate(table, columns, schema)


def _source(column: exp.Column, scope, sources, ctx):
    if column.table:
        return sources.get(column.table.lower())
    if len(sources) == 1:
        return next(iter(sources.values()))
    if isinstance(scope, exp.Select):
        return ctx.resolve(column, scope)
    return None


def _needs_index(source, column_name: str, ctx) -> bool | None:
    """True (large), None (size unknown) when no index leads with the column; False otherwise."""
    if source is None or source.info is None or not source.name:
        return False
    info = source.info
    if not info.columns or info.column(column_name) is None:
        return False
    if column_name.lower() in info.leading_index_columns():
        return False
    if info.kind not in ("table", "partitioned table", "materialized view"):
        return False
    large = ctx.is_large(source)
    if large is False:
        return False
    return True if large else None


def _filters(scope, sources, ctx, reported) -> Iterator[Finding]:
    by_source: dict[str, list[tuple[exp.Column, bool]]] = {}
    for condition in conjuncts(scope.args.get("where")):
        hit = sargable(condition)
        if hit is None:
            continue
        column, equality = hit
        source = _source(column, scope, sources, ctx)
        if source is None or source.info is None:
            continue
        by_source.setdefault(source.key, []).append((column, equality))
    for key, hits in by_source.items():
        source = sources[key]
        info = source.info
        indexed = info.leading_index_columns()
        if any(c.name.lower() in indexed for c, _ in hits):
            continue  # one of the filters already has an index
        verdicts = [_needs_index(source, c.name, ctx) for c, _ in hits]
        if not any(v is not False for v in verdicts):
            continue
        ordered = [c for c, eq in hits if eq] + [c for c, eq in hits if not eq][:1]
        names: list[str] = []
        for c in ordered:
            if info.column(c.name) is not None and info.column(c.name).name not in names:
                names.append(info.column(c.name).name)
        if not names:
            continue
        candidate = _candidate(source, tuple(names[:3]))
        if (candidate.qualified_table, candidate.columns) in reported:
            continue
        reported.add((candidate.qualified_table, candidate.columns))
        large = any(v is True for v in verdicts)
        size = f"~{info.row_estimate:,} rows" if info.row_estimate >= 0 else "size unknown"
        yield ctx.finding(
            RULE,
            hits[0][0],
            f"{source.name} ({size}) is filtered on {', '.join(names)} but no index starts with "
            f"{'it' if len(names) == 1 else 'any of them'}: the whole table is read",
            suggestion=candidate.create_statement(dialect=ctx.dialect),
            severity="warning" if large else "info",
            candidate=candidate,
        )


def _joins(select, sources, ctx, reported) -> Iterator[Finding]:
    for join in select.args.get("joins") or ():
        for condition in conjuncts(join.args.get("on")):
            if not isinstance(condition, exp.EQ):
                continue
            left, right = plain_column(condition.this), plain_column(condition.expression)
            if left is None or right is None:
                continue
            for column in (left, right):
                source = _source(column, select, sources, ctx)
                verdict = _needs_index(source, column.name, ctx)
                if verdict is not True:
                    continue
                name = source.info.column(column.name).name
                candidate = _candidate(source, (name,))
                if (candidate.qualified_table, candidate.columns) in reported:
                    continue
                reported.add((candidate.qualified_table, candidate.columns))
                yield ctx.finding(
                    RULE,
                    column,
                    f"join key {source.name}.{name} (~{source.info.row_estimate:,} rows) has no index: "
                    "a nested loop into it reads the whole table each time",
                    suggestion=candidate.create_statement(dialect=ctx.dialect),
                    severity="info",
                    candidate=candidate,
                )


def _sorts(select, sources, ctx, reported) -> Iterator[Finding]:
    order = select.args.get("order")
    if order is None or select.args.get("limit") is None or not order.expressions:
        return
    column = plain_column(order.expressions[0].this)
    if column is None:
        return
    source = _source(column, select, sources, ctx)
    if _needs_index(source, column.name, ctx) is not True or select.args.get("where") is not None:
        return
    name = source.info.column(column.name).name
    candidate = _candidate(source, (name,))
    if (candidate.qualified_table, candidate.columns) in reported:
        return
    reported.add((candidate.qualified_table, candidate.columns))
    yield ctx.finding(
        RULE,
        column,
        f"top-N by {name} sorts all ~{source.info.row_estimate:,} rows of {source.name}: an index on {name} returns the first rows directly",
        suggestion=candidate.create_statement(dialect=ctx.dialect),
        severity="info",
        candidate=candidate,
    )
