"""Mongo analysis in the analyzer's shapes, so front ends show it like SQL's.

:func:`analysis` (live, no server) gives an :class:`engine.analyzer.Analysis`;
:func:`explain` asks the connection for the server's explain output and reads it into an
:class:`engine.analyzer.plan.PlanReport`, and :func:`advise` into an
:class:`engine.analyzer.advisor.Advice` whose recommended "statement" is the
``db.<collection>.createIndex(...)`` to run: the same calls, returning the same types, as
:func:`engine.analyzer.plan.explain` and :func:`engine.analyzer.advisor.advise` for SQL.
:func:`plan_result` is the grid a typed ``.explain()`` shows.

>>> from aishell.engine.mongo.shell import parse
>>> doc = {"queryPlanner": {"namespace": "shop.orders", "winningPlan": {"stage": "COLLSCAN"}}}
>>> plan_report(doc, parse("db.orders.find({a: 1})"), analyzed=False).summary
'collection scan (planned, not run)'
"""

from __future__ import annotations

from typing import Any, Sequence

from aishell.engine.analyzer.advisor import Advice, IndexAdvice
from aishell.engine.analyzer.findings import Analysis, Finding, IndexCandidate
from aishell.engine.analyzer.mongo.explain import (
    PLAN_COLUMNS,
    ExplainSummary,
    IndexSuggestion,
    MongoFinding,
    findings,
    plan_rows,
    read_explain,
    static_findings,
)
from aishell.engine.analyzer.plan import PlanNode, PlanReport
from aishell.engine.errors import QueryError
from aishell.engine.mongo.shell import ShellQuery, parse_script
from aishell.engine.types import Column, IndexInfo, QueryResult


async def explain(conn: Any, sql: str, *, analyze: bool = False, settings: Any = None) -> PlanReport:
    """The plan of the last statement of ``sql`` on ``conn`` (a Mongo connection): ``queryPlanner``
    only, or ``executionStats`` with ``analyze`` (the query runs; a write is planned and counted
    but never applied by explain). Raises QueryError (nothing to explain, or the server refuses),
    ConnectionLost."""
    query = _last(sql)
    if query.collection is None:
        raise QueryError(f"{query.method} cannot be explained: explain a collection method", statement=sql)
    verbosity = "executionStats" if analyze else "queryPlanner"
    doc = await conn.explain(sql, verbosity)
    indexes = await conn.indexes(query.collection, query.database)
    return plan_report(doc, query, indexes, settings=settings, analyzed=analyze)


async def explain_findings(conn: Any, sql: str, *, min_docs: int = 1000, max_ratio: float = 10.0) -> list[MongoFinding]:
    """Findings for the last statement of ``sql`` from ``explain("executionStats")`` and the
    collection's indexes, with a suggested index (equality → sort → range) where one helps."""
    query = _last(sql)
    if query.collection is None:
        return []
    doc = await conn.explain(sql, "executionStats")
    indexes = await conn.indexes(query.collection, query.database)
    return findings(read_explain(doc), query, indexes, min_docs=min_docs, max_ratio=max_ratio)


async def advise(conn: Any, sql: str) -> Advice:
    """:class:`engine.analyzer.advisor.Advice` from :func:`explain_findings` (the shell command
    that creates each suggested index is the recommendation's ``statement``)."""
    return advice(await explain_findings(conn, sql))


def plan_result(doc: dict[str, Any], query: ShellQuery) -> QueryResult:
    """The result a typed ``db.c.find(...).explain()`` shows: one row a plan stage, indented by
    depth, with the findings' messages after ``EXPLAIN`` in the status."""
    summary = read_explain(doc)
    rows = plan_rows(summary)
    notes = [f.message for f in findings(summary, query)]
    status = "EXPLAIN" + (": " + "; ".join(notes) if notes else "")
    return QueryResult(tuple(Column(c) for c in PLAN_COLUMNS), rows, len(rows), status)


def _last(sql: str) -> ShellQuery:
    return parse_script(sql)[-1]


def to_finding(found: MongoFinding, *, line: int = 1, column: int = 1) -> Finding:
    """:class:`engine.analyzer.findings.Finding` for one Mongo finding."""
    candidate = None
    if found.index is not None:
        candidate = IndexCandidate(found.index.collection, tuple(k for k, _ in found.index.keys))
    suggestion = found.index.command if found.index is not None else (found.suggestion or None)
    return Finding(
        found.code,
        found.rule,
        found.severity,
        found.message if not found.suggestion or found.index is not None else f"{found.message}: {found.suggestion}",
        found.line or line,
        found.column or column,
        suggestion,
        found.statement,
        candidate=candidate,
    )


def analysis(text: str, schema: Any = None, settings: Any = None) -> Analysis:
    """The live analysis of a Mongo script: parse errors, destructive statements, filters and
    sorts no index serves (with the catalog), unindexable conditions, deep skips."""
    large = getattr(settings, "large_table_rows", 10_000)
    deep = getattr(settings, "deep_offset", 1_000)
    found = static_findings(text, schema, large_collection=large, deep_skip=deep)
    statements = max([f.statement for f in found], default=0) + 1
    try:
        statements = len(parse_script(text))
    except Exception:  # noqa: BLE001 - the parse error is already a finding
        pass
    return Analysis([to_finding(f) for f in found], statements)


def plan_report(
    doc: dict[str, Any],
    query: ShellQuery | None,
    indexes: Sequence[IndexInfo] = (),
    *,
    settings: Any = None,
    analyzed: bool = True,
) -> PlanReport:
    """:class:`engine.analyzer.plan.PlanReport` of an explain output (``raw`` keeps the output)."""
    summary = read_explain(doc)
    found = findings(summary, query, indexes)
    collection = summary.namespace.split(".", 1)[1] if "." in summary.namespace else (query.collection if query else None)
    nodes = [
        PlanNode(
            depth=s.depth,
            node_type=s.stage,
            relation=collection if s.stage in ("COLLSCAN", "IXSCAN", "FETCH", "COUNT_SCAN", "DISTINCT_SCAN", "IDHACK") else None,
            index=s.index_name,
            actual_rows=float(s.n_returned) if s.n_returned is not None else None,
            total_time_ms=float(s.time_ms) if s.time_ms is not None else None,
            detail=_detail(s),
            raw={},
        )
        for s in summary.stages
    ]
    return PlanReport(
        dialect="mongo",
        findings=[to_finding(f) for f in found],
        summary=summary_text(summary),
        total_cost=None,
        nodes=nodes,
        analyzed=analyzed and summary.has_execution_stats,
        execution_ms=float(summary.time_ms) if summary.time_ms is not None else None,
        raw=doc,
    )


def _detail(stage: Any) -> str:
    parts = []
    if stage.shard:
        parts.append(f"shard {stage.shard}")
    if stage.docs_examined is not None:
        parts.append(f"{stage.docs_examined:,} docs examined")
    if stage.keys_examined is not None:
        parts.append(f"{stage.keys_examined:,} keys examined")
    if stage.used_disk:
        parts.append("spilled to disk")
    return ", ".join(parts)


def summary_text(summary: ExplainSummary) -> str:
    """One line: how the query was answered and what it cost."""
    access = "collection scan" if summary.collscans else (
        "index " + ", ".join(summary.index_names) if summary.index_names else (summary.stages[0].stage if summary.stages else "no plan")
    )
    if not summary.has_execution_stats:
        return f"{access} (planned, not run)"
    text = (
        f"{access}: {summary.docs_examined or 0:,} documents and {summary.keys_examined or 0:,} keys examined, "
        f"{summary.n_returned or 0:,} returned"
    )
    if summary.time_ms is not None:
        text += f" in {summary.time_ms} ms"
    if summary.shards:
        text += f" across {len(summary.shards)} shards"
    return text


def advice(found: Sequence[MongoFinding], summary: str = "") -> Advice:
    """:class:`engine.analyzer.advisor.Advice` from explain-based findings: each distinct index
    suggestion becomes a recommendation whose statement is the shell command to run."""
    seen: dict[tuple, IndexSuggestion] = {}
    for f in found:
        if f.index is not None:
            seen.setdefault(f.index.keys, f.index)
    recommended = [
        IndexAdvice(IndexCandidate(s.collection, tuple(k for k, _ in s.keys)), s.command, used=False)
        for s in seen.values()
    ]
    message = summary or ("no index would help this query" if not recommended else f"{len(recommended)} index suggested (equality → sort → range)")
    return Advice(False, message, None, recommended, [], [to_finding(f) for f in found])


__all__ = ["analysis", "explain", "explain_findings", "advise", "plan_result", "plan_report", "advice", "to_finding", "summary_text"]
