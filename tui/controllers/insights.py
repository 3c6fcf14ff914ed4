"""The insights beside the editor: analyzer findings for the statement under the cursor (debounced,
in a thread), its plan and index advice, memory search, pool and cache metrics, and the word
frequencies completion ranks by. Reports with :mod:`tui.messages`: AnalysisReady, PlanReady,
MemoryHits, InsightUnavailable."""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Any

from aishell.engine.errors import AishellError, MemoryUnavailable
from aishell.tui.completion import frequencies_from_statements
from aishell.tui.controllers import Controller
from aishell.tui.messages import AnalysisReady, InsightUnavailable, MemoryHits, PlanReady, RegressionChecked

if TYPE_CHECKING:
    from textual.timer import Timer

    from aishell.engine.analyzer.advisor import Advice
    from aishell.engine.analyzer.findings import Finding
    from aishell.engine.analyzer.plan import PlanReport
    from aishell.engine.memory.regressions import Regression
    from aishell.engine.memory.search import SearchHit


SEARCH_LIMIT = 200
"""Hits a memory search brings back: the pane's filters narrow these."""

FAST_PLANS = 256
"""Statement shapes whose last fast plan is kept for regression alerts (the least recent go)."""


class InsightsController(Controller):
    """Findings, plans, advice, memory and metrics for the main screen's insight panes."""

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self.pending: tuple[str, int, int] | None = None
        """The statement under the cursor (text, line, column) the next analysis reads."""
        self.frequencies: dict[str, float] = {}
        """Word -> weight for completion: from the remembered statements and those run since."""
        self._debounce: Timer | None = None
        self.planned: tuple[str, PlanReport] | None = None
        """The statement last explained and its plan: its findings are checked against it."""
        self.fast_plans: collections.OrderedDict[str, tuple[float, float, list[dict[str, Any]]]] = collections.OrderedDict()
        """Shape fingerprint -> (start, milliseconds, plan nodes) of its last run that was not a
        regression and took at least ``analyzer.regression_plan_ms``: the plan an alert compares with."""

    # -- analyzer ---------------------------------------------------------------------------------

    def statement_changed(self, sql: str, line: int, column: int) -> None:
        """The cursor moved to another statement, or it was edited: analyze once typing pauses."""
        self.pending = (sql, line, column)
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.screen.set_timer(self.screen.app.settings.ui.analyze_debounce, self.analyze_now)

    def analyze_now(self) -> None:
        """Analyze the pending statement (none, or a backslash command: no findings)."""
        if self.session is None:
            return
        pending = self.pending
        if pending is None or pending[0].lstrip().startswith("\\"):
            self.post(AnalysisReady([], 1, 1))
            return
        sql, line, column = pending
        self.start(lambda: self._analyze(sql, line, column), group="analyze", name="analyze", thread=True)

    def _analyze(self, sql: str, line: int, column: int) -> None:
        """In a thread: the analyzer may take a while on a huge statement; typing goes on."""
        findings = self.session.analyze(sql).findings
        planned = self.planned
        if planned is not None and planned[0] == sql.strip():
            from aishell.engine.analyzer.plan_check import check_against_plan

            findings = check_against_plan(findings, planned[1])
        self.post(AnalysisReady([finding_dict(f, sql) for f in findings], line, column))

    # -- plan and advice --------------------------------------------------------------------------

    def explain(self, sql: str, *, analyze: bool = False, allow_writes: bool = False) -> None:
        """The plan of ``sql`` (EXPLAIN, or MongoDB's explain); ``analyze`` runs it (a write only
        with ``allow_writes``, in a transaction rolled back: the screen asks the user first)."""
        self.start(self._explain(sql, analyze, allow_writes), group="plan", name="explain")

    def advise(self, sql: str) -> None:
        """Index advice for ``sql``: with HypoPG, the plan before and after the best index."""
        self.start(self._advise(sql), group="plan", name="advise")

    async def _explain(self, sql: str, analyze: bool, allow_writes: bool) -> None:
        try:
            report = await self.session.explain(sql, analyze=analyze, allow_writes=allow_writes)
        except AishellError as exc:
            self.post(InsightUnavailable("suggestions", f"{exc.title}: {exc}"))
            return
        title = "EXPLAIN ANALYZE" if report.analyzed else "EXPLAIN"
        if report.analyzed and report.execution_ms is not None:
            title += f" · {report.execution_ms:,.2f} ms"
        elif report.total_cost is not None:
            title += f" · cost {report.total_cost:,.2f}"
        nodes = plan_nodes(report)
        # The tree says what the summary does; the summary stays for a plan without nodes.
        self.post(PlanReady("" if nodes else report.summary, [finding_dict(f, sql) for f in report.findings], nodes, None, (title, "")))
        await self._check_findings(sql, report)

    async def _check_findings(self, sql: str, report: "PlanReport") -> None:
        """The findings of the statement under the cursor checked against its plan: a scan the
        plan shows is named, a finding it contradicts goes (:mod:`engine.analyzer.plan_check`)."""
        import asyncio

        from aishell.engine.analyzer.plan_check import check_against_plan

        if not report.nodes:
            return
        self.planned = (sql.strip(), report)
        pending = self.pending
        if pending is None or pending[0].strip() != sql.strip():
            return
        analysis = await asyncio.to_thread(self.session.analyze, sql)
        checked = check_against_plan(analysis.findings, report)
        self.post(AnalysisReady([finding_dict(f, sql) for f in checked], pending[1], pending[2]))

    async def _advise(self, sql: str) -> None:
        try:
            advice = await self.session.advise(sql)
        except AishellError as exc:
            self.post(InsightUnavailable("suggestions", f"{exc.title}: {exc}"))
            return
        findings = [finding_dict(f, sql) for f in advice.findings]
        before, best = advice.plan_before, advice.best
        if before is None:
            self.post(PlanReady(advice_text(advice), findings))
            return
        titles = (f"Before · cost {before.total_cost:,.2f}" if before.total_cost is not None else "Before", "")
        after = None
        if best is not None and best.plan is not None:
            after = plan_nodes(best.plan)
            titles = (titles[0], f"With {best.statement} · cost {best.cost_after:,.2f}")
        self.post(PlanReady(advice_text(advice), findings, plan_nodes(before), after, titles))

    # -- memory and completion --------------------------------------------------------------------

    def search(self, text: str) -> None:
        """Remembered statements matching ``text`` ('' lists the latest)."""
        self.start(self._search(text), group="memory", name="search_memory")

    async def _search(self, text: str) -> None:
        session = self.session
        try:
            hits = await session.recall(text, limit=SEARCH_LIMIT)
            pinned = await session.memory.pinned(database=session.display_url) if session.memory is not None else []
        except AishellError as exc:
            self.post(InsightUnavailable("memory", str(exc)))
            return
        self.frequencies = frequencies_from_statements([h.text for h in hits if h.text])
        ids = {h.id for h in pinned}
        if not text.strip():  # the latest: pinned ones first
            hits = pinned + [h for h in hits if h.id not in ids]
        self.post(MemoryHits([hit_dict(h, pinned=h.id in ids) for h in hits]))

    def pin(self, statement: int, pinned: bool, text: str) -> None:
        """Pin (or unpin) a remembered statement, then search ``text`` again."""
        self.start(self._change(lambda memory: memory.pin([statement], pinned), text), group="memory", name="pin_memory")

    def forget(self, statement: int, text: str) -> None:
        """Remove a statement from memory, then search ``text`` again."""
        self.start(self._change(lambda memory: memory.forget([statement]), text), group="memory", name="forget_memory")

    async def _change(self, change: Any, text: str) -> None:
        memory = self.session.memory
        try:
            if memory is None:
                raise MemoryUnavailable("memory off: disabled in settings")
            await change(memory)
        except AishellError as exc:
            self.post(InsightUnavailable("memory", str(exc)))
            return
        await self._search(text)

    def learn(self, sql: str) -> dict[str, float]:
        """Count the words of a statement just run into :attr:`frequencies`; returns them."""
        for name, count in frequencies_from_statements([sql]).items():
            self.frequencies[name] = self.frequencies.get(name, 0.0) + count
        return self.frequencies

    # -- regressions ------------------------------------------------------------------------------

    def check_regression(self, sql: str, elapsed_ms: float) -> None:
        """Whether the run of ``sql`` just finished (in ``elapsed_ms``) was much slower than its
        shape usually is on this database: posts RegressionChecked either way."""
        session = self.session
        settings = self.screen.app.settings.analyzer
        memory = session.memory if session is not None else None
        if memory is None or not memory.enabled or not sql.strip() or settings.regression_factor <= 0:
            return
        before = time.time() - elapsed_ms / 1000.0 - 0.005  # this run's start, or a little before it
        self.start(self._check_regression(memory.path, session.display_url, sql, session.dialect, elapsed_ms, before), group="regression", name="check_regression")

    async def _check_regression(self, path: Any, database: str, sql: str, dialect: str, elapsed_ms: float, before: float) -> None:
        import asyncio

        from aishell.engine.memory.regressions import check_run, keep_plan, last_plan, shape_of

        settings = self.screen.app.settings.analyzer
        found = await check_run(
            path, database, sql, dialect, elapsed_ms, before,
            factor=settings.regression_factor, min_gap_ms=settings.regression_min_gap_ms, min_runs=settings.regression_min_runs,
        )
        keep = found is None and elapsed_ms >= settings.regression_plan_ms
        if found is None and not keep:
            self.post(RegressionChecked(None))
            return
        try:
            shape = database + "\0" + await asyncio.to_thread(shape_of, sql, dialect)
        except ValueError:
            shape = None
        nodes = await self._plan_of(sql)
        if found is None:
            self.post(RegressionChecked(None))
            if shape is not None and nodes:
                self.fast_plans[shape] = (before, elapsed_ms, nodes)
                self.fast_plans.move_to_end(shape)
                while len(self.fast_plans) > FAST_PLANS:
                    self.fast_plans.popitem(last=False)
                await keep_plan(path, database, sql, dialect, "fast", before, elapsed_ms, nodes)
            return
        fast = self.fast_plans.get(shape) if shape is not None else None
        if fast is None:  # kept on disk by an earlier session: the workbench restarted since
            kept = await last_plan(path, database, sql, dialect)
            fast = (kept.started_at, kept.duration_ms, kept.nodes) if kept is not None else None
        if nodes:
            await keep_plan(path, database, sql, dialect, "slow", before, elapsed_ms, nodes)
        titles = (f"Last fast run · {fast[1]:,.1f} ms · {_ago(max(0.0, time.time() - fast[0]))} ago" if fast else "", f"This run · {elapsed_ms:,.1f} ms")
        self.post(RegressionChecked(regression_dict(found, compared=bool(fast and nodes)), nodes, fast[2] if fast else None, titles))

    async def _plan_of(self, sql: str) -> list[dict[str, Any]] | None:
        """The plan nodes of ``sql`` now (EXPLAIN: nothing runs), None when it has none."""
        try:
            return plan_nodes(await self.session.explain(sql)) or None
        except AishellError:
            return None

    # -- metrics ----------------------------------------------------------------------------------

    def metrics(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Pool and cache snapshots as plain dicts, None where there is none (cheap: call twice a second)."""
        session = self.session
        if session is None:
            return None, None
        snapshots = session.metrics()
        pool, cache = snapshots["pool"], snapshots["cache"]
        return (pool.as_dict() if pool is not None else None, cache.as_dict() if cache is not None else None)


def finding_dict(finding: "Finding", sql: str | None = None) -> dict[str, Any]:
    """An analyzer finding as the plain dict the suggestions pane shows (widgets never see engine
    types); with the statement ``sql``, ``span`` is the text the suggestion replaces (for the
    fix preview): the whole statement for a rewrite of it, else the text the finding is about
    when it covers more than one character."""
    item: dict[str, Any] = {
        "code": finding.code,
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.message,
        "line": finding.line,
        "column": finding.column,
        "suggestion": finding.suggestion,
    }
    if sql is None:
        return item
    first = (finding.suggestion or "").split(None, 1)[:1]
    if first and first[0].upper() in _REWRITES:
        item["span"] = sql.strip()
    elif finding.end_line is not None and finding.end_column is not None:
        span = _span(sql, (finding.line, finding.column), (finding.end_line, finding.end_column))
        if len(span) > 1:
            item["span"] = span
    return item


_REWRITES = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE"})
"""A suggestion starting with one of these rewrites the whole statement."""


def _span(sql: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    r"""The text of ``sql`` from ``start`` to ``end`` (1-based line and column, both included).

    The analyzer's spans end at a node's last token, before closing parentheses: they are
    added back until the text's parentheses balance.

    >>> _span("SELECT a\nFROM t WHERE x = 1", (2, 14), (2, 18))
    'x = 1'
    >>> _span("SELECT 1 WHERE lower(name) = 'x'", (1, 16), (1, 25))
    'lower(name)'
    """
    lines = sql.splitlines(keepends=True)
    if not 1 <= start[0] <= end[0] <= len(lines):
        return ""
    begin = sum(len(line) for line in lines[: start[0] - 1]) + start[1] - 1
    stop = sum(len(line) for line in lines[: end[0] - 1]) + end[1]
    while stop < len(sql) and sql[stop] == ")" and sql.count("(", begin, stop) > sql.count(")", begin, stop):
        stop += 1
    return sql[begin:stop]


def plan_nodes(report: "PlanReport") -> list[dict[str, Any]]:
    """A plan's nodes, in pre-order with their depth, as plain dicts for the plan tree: the
    node (type, relation, index), its conditions, rows estimated and actual, its cost and
    share of the plan, and whether it is the most expensive."""
    costliest = report.costliest()
    out = []
    for node in report.nodes:
        out.append({
            "depth": node.depth,
            "node": node.node_type,
            "relation": node.relation,
            "alias": node.alias if node.alias != node.relation else None,
            "index": node.index,
            "conditions": node.conditions or ([("Detail", node.detail)] if node.detail and node.detail != node.node_type else []),
            "plan_rows": node.plan_rows,
            "actual_rows": node.actual_rows,
            "loops": node.loops,
            "cost": node.total_cost,
            "time_ms": node.exclusive_time_ms,
            "share": report.weight(node),
            "costliest": node is costliest,
        })
    return out


def regression_dict(found: "Regression", *, compared: bool = False) -> dict[str, Any]:
    """A regression as the finding dict the suggestions pane shows above the findings;
    ``compared``: the last fast run's plan is shown beside this run's."""
    suggestion = "Compare the plans below: the last fast run's beside this one's" if compared else "Press p to see this statement's plan now"
    if found.last_fast_at is not None:
        ago = max(0.0, time.time() - found.last_fast_at)
        suggestion += f"; the last fast run ({found.median_ms:,.1f} ms or less) was {_ago(ago)} ago"
    return {
        "code": "REG",
        "rule": "slower than usual",
        "severity": "warning",
        "message": found.message(),
        "line": None,
        "column": None,
        "suggestion": suggestion,
        "duration_ms": found.duration_ms,
        "median_ms": found.median_ms,
    }


def _ago(seconds: float) -> str:
    """``seconds`` as the largest whole unit: 42 s, 5 min, 3 h, 2 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def hit_dict(hit: "SearchHit", *, pinned: bool = False) -> dict[str, Any]:
    """A memory hit as the plain dict the memory pane shows."""
    return {
        "id": hit.id,
        "pinned": pinned,
        "text": hit.text,
        "database": hit.database,
        "age_s": max(0.0, time.time() - hit.started_at),
        "duration_ms": hit.duration_ms,
        "rows": hit.rows,
        "success": hit.success,
        "score": hit.score,
        "signals": hit.signals,
    }


def advice_text(advice: "Advice") -> str:
    """Index advice as lines: the advisor's message, then each recommended CREATE INDEX."""
    lines = [advice.message]
    for item in advice.recommended:
        reduction = item.reduction
        gain = f"  (cost −{reduction:.0%})" if reduction is not None else ""
        lines.append(f"✔ {item.statement}{gain}")
    for item in advice.rejected:
        reduction = item.reduction
        why = "not used by the planner" if not item.used else (f"only −{reduction:.0%}" if reduction is not None else "too little gain")
        lines.append(f"✘ {item.statement}  ({why})")
    return "\n".join(line for line in lines if line)


__all__ = ["InsightsController", "finding_dict", "hit_dict", "regression_dict", "advice_text", "plan_nodes"]
