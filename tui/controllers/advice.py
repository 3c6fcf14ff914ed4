"""Workload advice for the advice screen: the Session's advice (memory and pg_stat_statements,
tested with HypoPG) run in a worker with its progress reported, turned into plain rows the
screen lists; and the one statement the user confirmed (a CREATE INDEX, a DROP INDEX) run
through the Session, which refuses it in a read-only session. Reports with the messages below.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

from aishell.engine.errors import AishellError
from aishell.tui.controllers import Controller

if TYPE_CHECKING:
    from aishell.engine.workload import WorkloadAdvice

PROGRESS_EVERY = 0.1
"""Seconds between two progress reports (the advisor calls back once a statement or candidate)."""
HELPS_SHOWN = 8
"""Statements listed under an index as helped (the rest are counted)."""
_LAST: "weakref.WeakKeyDictionary[Any, AdviceReady]" = weakref.WeakKeyDictionary()
"""The last advice of each open Session: the screen opened again shows it at once."""


@dataclass
class AdviceProgress(Message):
    """The advice is ``done`` of ``total`` steps into a phase (``what``: planning, trying …)."""

    done: int
    total: int
    what: str


@dataclass
class AdviceReady(Message):
    """The advice is in: ``items`` (see :func:`advice_items`) best first, then existing
    indexes; ``summary`` one line on what was read and tried."""

    items: list[dict[str, Any]]
    summary: str
    at: float = 0.0
    """When it was had (epoch seconds)."""


@dataclass
class AdviceFailed(Message):
    """The advice could not be had (no HypoPG, no statements, the server went): why."""

    reason: str


@dataclass
class StatementApplied(Message):
    """A confirmed statement from the advice ran (``error`` empty) or was refused (why)."""

    statement: str
    error: str = ""
    elapsed_ms: float = 0.0


class AdviceController(Controller):
    """Runs the workload advice and the statements the user confirmed from it, on the session
    of its screen (the advice screen's ``session``)."""

    @property
    def session(self) -> Any:
        return self.screen.session

    def advise(self) -> None:
        """Start (or start again) the advice for the current connection."""
        self.start(self._advise(), group="advise", name="workload_advice")

    async def _advise(self) -> None:
        session = self.session
        if session is None:
            self.post(AdviceFailed("not connected yet"))
            return
        self.post(AdviceProgress(0, 0, "reading the workload"))
        shown = [0.0]

        def progress(done: int, total: int, what: str) -> None:
            now = time.monotonic()
            if done < total and now - shown[0] < PROGRESS_EVERY:
                return
            shown[0] = now
            self.post(AdviceProgress(done, total, what))

        try:
            advice, sources = await session.advise_workload(progress=progress)
        except AishellError as exc:
            self.post(AdviceFailed(exc.one_line()))
            return
        ready = AdviceReady(advice_items(advice), summary(advice, sources), time.time())
        remember(session, ready)
        self.post(ready)

    def apply(self, statement: str) -> None:
        """Run ``statement`` (already confirmed) on the session."""
        self.start(self._apply(statement), group="apply", name="apply_advice")

    async def _apply(self, statement: str) -> None:
        started = time.perf_counter()
        try:
            await self.session.execute(statement)
        except AishellError as exc:
            self.post(StatementApplied(statement, exc.one_line()))
            return
        self.post(StatementApplied(statement, "", (time.perf_counter() - started) * 1000))


def remember(session: Any, ready: AdviceReady) -> None:
    """Keep ``ready`` as ``session``'s last advice (forgotten with the session)."""
    _LAST[session] = ready


def last_advice(session: Any) -> AdviceReady | None:
    """The advice last had on ``session``, or None."""
    return _LAST.get(session)


def amount(value: float, unit: str) -> str:
    """A saving as the screen shows it: ``1,234 ms`` or ``56 cost`` (a workload without times)."""
    return f"{value:,.0f} ms" if unit == "ms" else f"{value:,.0f} cost"


def summary(advice: "WorkloadAdvice", sources: list[str]) -> str:
    """One line: how many shapes from where, candidates tried, indexes found, how long."""
    if not advice.hypopg:
        return advice.message
    found = len(advice.recommendations)
    return (
        f"{advice.statements} shape(s) from {', '.join(sources)} · {advice.candidates} candidate(s) tried · "
        f"{found} worth creating · {advice.elapsed_s:.1f} s"
    )


def advice_items(advice: "WorkloadAdvice") -> list[dict[str, Any]]:
    """The advice as plain rows: ``kind`` (index, unused, duplicate), ``saves``, ``helps``,
    ``slows``, ``what`` (table and keys, or index and table), ``statement`` (the CREATE or
    DROP to run) and ``detail`` (the lines shown when the row is selected)."""
    items: list[dict[str, Any]] = []
    unit = advice.unit
    for index in advice.recommendations:
        candidate = index.candidate
        detail = [
            index.statement,
            f"saves ~{amount(index.saved, unit)} (estimated) · helps {len(index.helps)} · slows {len(index.slows)} · plan cost, calls:",
        ]
        for effect in index.helps[:HELPS_SHOWN]:
            cut = f"−{effect.reduction:.0%}" if effect.reduction is not None else ""
            detail.append(f"+ {amount(effect.saved, unit):>10} {cut:>6} ×{effect.statement.calls:<5} {_flat(effect.statement.text)}")
        if len(index.helps) > HELPS_SHOWN:
            detail.append(f"+ {len(index.helps) - HELPS_SHOWN} more")
        for effect in index.slows:
            detail.append(f"- {amount(-effect.saved, unit):>10} {'write':>6} ×{effect.statement.calls:<5} {_flat(effect.statement.text)}")
        items.append({
            "kind": "index", "saves": f"~{amount(index.saved, unit)}", "helps": len(index.helps), "slows": len(index.slows),
            "what": f"{candidate.qualified_table} ({', '.join(candidate.columns)})", "statement": index.statement, "detail": detail,
        })
    for note in advice.notes:
        detail = [note.drop_statement, f"{note.kind}: {note.reason}", note.definition]
        items.append({
            "kind": note.kind, "saves": "", "helps": "", "slows": "",
            "what": f"{note.index} on {note.table}", "statement": note.drop_statement, "detail": detail,
        })
    return items


def _flat(text: str, width: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


__all__ = ["AdviceController", "AdviceFailed", "AdviceProgress", "AdviceReady", "StatementApplied", "advice_items", "amount", "last_advice", "remember", "summary"]
