"""Mongo advice in the analyzer's shapes, so front ends show it like SQL advice.

:func:`analysis` (live, no server) gives an :class:`engine.analyzer.Analysis`;
:func:`plan_report` turns an explain output into an :class:`engine.analyzer.plan.PlanReport`;
:func:`advice` turns explain-based findings into an :class:`engine.analyzer.advisor.Advice`
whose recommended "statement" is the ``db.<collection>.createIndex(...)`` to run.
The analyzer is imported only when these are called.
"""

from __future__ import annotations

from typing import Any, Sequence

from aishell.engine.mongo.explain import (
    ExplainSummary,
    IndexSuggestion,
    MongoFinding,
    findings,
    read_explain,
    static_findings,
)
from aishell.engine.mongo.shell import ShellQuery


def to_finding(found: MongoFinding, *, line: int = 1, column: int = 1) -> Any:
    """:class:`engine.analyzer.findings.Finding` for one Mongo finding."""
    from aishell.engine.analyzer.findings import Finding, IndexCandidate

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


def analysis(text: str, schema: Any = None, settings: Any = None) -> Any:
    """The live analysis of a Mongo script: parse errors, destructive statements, filters and
    sorts no index serves (with the catalog), unindexable conditions, deep skips."""
    from aishell.engine.analyzer.findings import Analysis

    large = getattr(settings, "large_table_rows", 10_000)
    deep = getattr(settings, "deep_offset", 1_000)
    found = static_findings(text, schema, large_collection=large, deep_skip=deep)
    statements = max([f.statement for f in found], default=0) + 1
    try:
        from aishell.engine.mongo.shell import parse_script

        statements = len(parse_script(text))
    except Exception:  # noqa: BLE001 - the parse error is already a finding
        pass
    return Analysis([to_finding(f) for f in found], statements)


def plan_report(
    doc: dict[str, Any],
    query: ShellQuery | None,
    indexes: Sequence[Any] = (),
    *,
    settings: Any = None,
    analyzed: bool = True,
) -> Any:
    """:class:`engine.analyzer.plan.PlanReport` of an explain output (``raw`` keeps the output)."""
    from aishell.engine.analyzer.plan import PlanNode, PlanReport

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


def advice(found: Sequence[MongoFinding], summary: str = "") -> Any:
    """:class:`engine.analyzer.advisor.Advice` from explain-based findings: each distinct index
    suggestion becomes a recommendation whose statement is the shell command to run."""
    from aishell.engine.analyzer.advisor import Advice, IndexAdvice
    from aishell.engine.analyzer.findings import IndexCandidate

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


__all__ = ["analysis", "plan_report", "advice", "to_finding", "summary_text"]
