"""Scan findings checked against the plan: what the rules guessed from the text, the plan knows.

A kept finding says what the plan showed ("the plan shows a Seq Scan on orders (26,000 rows)");
one the plan contradicts is dropped: a missing-index or function-on-column finding about a table
the plan reads through an index only, or a leading-wildcard / OR-across-columns finding when the
plan scans no table in full.

    report = await session.explain(sql)
    findings = check_against_plan(session.analyze(sql).findings, report)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from aishell.engine.analyzer.findings import Finding
from aishell.engine.analyzer.plan import PlanNode, PlanReport

SCAN_CODES = frozenset({"AS004", "AS005", "AS006", "AS014"})
"""Findings that claim a table is read in full: function on a column, leading wildcard, OR across
columns, missing index."""

_FULL_SCANS = ("Seq Scan", "SCAN", "Parallel Seq Scan")


def full_scan(node: PlanNode) -> bool:
    """Whether ``node`` reads its whole table (PostgreSQL's Seq Scan, SQLite's SCAN of a table)."""
    if node.relation is None:
        return False
    return node.node_type in _FULL_SCANS  # SQLite's SCAN t USING COVERING INDEX too: every entry is read


def _bare(name: str) -> str:
    return name.rsplit(".", 1)[-1].strip('"`[]').lower()


def check_against_plan(findings: Iterable[Finding], report: PlanReport) -> list[Finding]:
    """``findings`` with the scan findings checked against ``report``: contradicted ones dropped,
    kept ones saying what the plan showed. Others pass unchanged; a plan without nodes changes
    nothing."""
    nodes = [node for node in report.nodes if node.relation]
    if not nodes:
        return list(findings)
    scans = [node for node in nodes if full_scan(node)]
    out = []
    for finding in findings:
        if finding.code not in SCAN_CODES:
            out.append(finding)
            continue
        table = _bare(finding.candidate.table) if finding.candidate is not None else None
        if table is not None:
            on_table = [node for node in nodes if _bare(node.relation or "") == table]
            if not on_table:  # the plan never names it (a view, a CTE): nothing to say
                out.append(finding)
                continue
            seen = [node for node in on_table if full_scan(node)]
        else:
            seen = scans
        if not seen:
            continue  # the plan reads it through an index: the finding is wrong here
        out.append(replace(finding, message=f"{finding.message.rstrip('.')}. {shown(seen)}"))
    return out


def shown(nodes: list[PlanNode]) -> str:
    """What the plan showed: ``The plan shows a Seq Scan on orders (26,000 rows).``"""
    parts = []
    for node in nodes[:3]:
        rows = f" ({node.plan_rows:,.0f} rows)" if node.plan_rows is not None else ""
        kind = "full scan" if node.node_type == "SCAN" else node.node_type  # SQLite's SCAN t
        parts.append(f"a {kind} on {node.relation}{rows}")
    more = f" and {len(nodes) - 3} more" if len(nodes) > 3 else ""
    return f"The plan shows {', '.join(parts)}{more}."


__all__ = ["check_against_plan", "full_scan", "shown", "SCAN_CODES"]
