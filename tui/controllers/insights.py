"""The insights beside the editor: analyzer findings for the statement under the cursor (debounced,
in a thread), its plan and index advice, memory search, pool and cache metrics, and the word
frequencies completion ranks by. Reports with :mod:`tui.messages`: AnalysisReady, PlanReady,
MemoryHits, InsightUnavailable."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aishell.engine.errors import AishellError
from aishell.tui.completion import frequencies_from_statements
from aishell.tui.controllers import Controller
from aishell.tui.messages import AnalysisReady, InsightUnavailable, MemoryHits, PlanReady

if TYPE_CHECKING:
    from textual.timer import Timer

    from aishell.engine.analyzer.advisor import Advice
    from aishell.engine.analyzer.findings import Finding
    from aishell.engine.memory.search import SearchHit


class InsightsController(Controller):
    """Findings, plans, advice, memory and metrics for the main screen's insight panes."""

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self.pending: tuple[str, int, int] | None = None
        """The statement under the cursor (text, line, column) the next analysis reads."""
        self.frequencies: dict[str, float] = {}
        """Word -> weight for completion: from the remembered statements and those run since."""
        self._debounce: Timer | None = None

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
        analysis = self.session.analyze(sql)
        self.post(AnalysisReady([finding_dict(f) for f in analysis.findings], line, column))

    # -- plan and advice --------------------------------------------------------------------------

    def explain(self, sql: str) -> None:
        """The plan of ``sql`` (EXPLAIN, or MongoDB's explain)."""
        self.start(self._plan("explain", sql), group="plan", name="explain")

    def advise(self, sql: str) -> None:
        """Index advice for ``sql``."""
        self.start(self._plan("advise", sql), group="plan", name="advise")

    async def _plan(self, kind: str, sql: str) -> None:
        session = self.session
        try:
            if kind == "explain":
                report = await session.explain(sql)
                text, findings = report.summary, report.findings
            else:
                advice = await session.advise(sql)
                text, findings = advice_text(advice), advice.findings
        except AishellError as exc:
            self.post(InsightUnavailable("suggestions", f"{exc.title}: {exc}"))
            return
        self.post(PlanReady(text, [finding_dict(f) for f in findings]))

    # -- memory and completion --------------------------------------------------------------------

    def search(self, text: str) -> None:
        """Remembered statements matching ``text`` ('' lists the latest)."""
        self.start(self._search(text), group="memory", name="search_memory")

    async def _search(self, text: str) -> None:
        try:
            hits = await self.session.recall(text, limit=50)
        except AishellError as exc:
            self.post(InsightUnavailable("memory", str(exc)))
            return
        self.frequencies = frequencies_from_statements([h.text for h in hits if h.text])
        self.post(MemoryHits([hit_dict(h) for h in hits]))

    def learn(self, sql: str) -> dict[str, float]:
        """Count the words of a statement just run into :attr:`frequencies`; returns them."""
        for name, count in frequencies_from_statements([sql]).items():
            self.frequencies[name] = self.frequencies.get(name, 0.0) + count
        return self.frequencies

    # -- metrics ----------------------------------------------------------------------------------

    def metrics(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Pool and cache snapshots as plain dicts, None where there is none (cheap: call twice a second)."""
        session = self.session
        if session is None:
            return None, None
        snapshots = session.metrics()
        pool, cache = snapshots["pool"], snapshots["cache"]
        return (pool.as_dict() if pool is not None else None, cache.as_dict() if cache is not None else None)


def finding_dict(finding: "Finding") -> dict[str, Any]:
    """An analyzer finding as the plain dict the suggestions pane shows (widgets never see engine types)."""
    return {
        "code": finding.code,
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.message,
        "line": finding.line,
        "column": finding.column,
        "suggestion": finding.suggestion,
    }


def hit_dict(hit: "SearchHit") -> dict[str, Any]:
    """A memory hit as the plain dict the memory pane shows."""
    return {
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


__all__ = ["InsightsController", "finding_dict", "hit_dict", "advice_text"]
