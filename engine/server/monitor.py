"""The server monitor: one connection of its own, one catalog query per refresh for the view
shown, rates and sparkline histories computed here, and the only way to signal a backend.

It never uses the session's pool: a pinned transaction would freeze the statistics snapshot
(PostgreSQL keeps one per transaction), and a busy pool would delay the pane.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aishell.engine.drivers.server import (
    Activity, Backend, Health, ServerActionRefused, ServerViewUnavailable,
)
from aishell.engine.drivers.server_probes import probe_for
from aishell.engine.server.locks import LockNode, lock_tree
from aishell.engine.server.statements import StatementDelta, StatementWatch

VIEWS = ("activity", "locks", "statements", "health")
HISTORY = 120
"""Samples each sparkline keeps (three minutes at the default refresh)."""
STATEMENTS_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ServerSnapshot:
    """What one refresh learned, for the view it was asked for (the others stay empty)."""

    view: str
    backends: tuple[Backend, ...] = ()
    locks: tuple[LockNode, ...] = ()
    statements: tuple[StatementDelta, ...] = ()
    statements_reset_at: float | None = None
    health: Health | None = None
    unavailable: str | None = None
    """Why the view is empty: the one line saying how to get it, where there is a way."""
    tps: float | None = None
    hit_ratio: float | None = None
    """Share of block reads served from shared buffers over the last interval (0–1)."""
    active: int | None = None
    history: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """``tps``, ``active``, ``hit``: their values in the recent intervals in which the server
    was busy (a transaction a second or an active session), oldest first."""
    elapsed_ms: float = 0.0
    """The refresh's round trip."""
    own_pid: int | None = None


class ServerMonitor:
    """Samples the server ``driver`` talks to. ``refresh(view)`` is the only call on a timer."""

    def __init__(self, driver: Any, *, read_only: bool, statements_limit: int = STATEMENTS_LIMIT) -> None:
        self._driver = driver
        self._read_only = read_only
        self._conn: Any = None
        self._probe: Any = None
        self._lock = asyncio.Lock()
        self._watch = StatementWatch(limit=statements_limit)
        self._limit = statements_limit
        self._last: tuple[float, Activity] | None = None
        self._history: dict[str, deque[float]] = {name: deque(maxlen=HISTORY) for name in ("tps", "active", "hit")}
        self.backends: dict[int, Backend] = {}
        """The sessions of the last activity sample, by pid (what cancel confirms against)."""

    @property
    def read_only(self) -> bool:
        return self._read_only

    async def capabilities(self) -> dict[str, bool]:
        """What this server answers: ``activity``, ``statements``, ``signals``."""
        probe = await self._ready()
        return {"activity": probe.ACTIVITY, "statements": probe.STATEMENTS, "signals": probe.SIGNALS}

    async def _ready(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = await self._driver.connect()
            self._probe = probe_for(self._conn)
        return self._probe

    async def refresh(self, view: str) -> ServerSnapshot:
        """One sample for ``view`` (one of :data:`VIEWS`). Raises QueryError and ConnectionLost;
        a view this server cannot give comes back with ``unavailable`` set."""
        if view not in VIEWS:
            raise ValueError(f"view {view!r} not one of {VIEWS}")
        async with self._lock:
            probe = await self._ready()
            started = time.perf_counter()
            try:
                if view in ("activity", "locks"):
                    snapshot = await self._activity(probe, view)
                elif view == "statements":
                    sample = await probe.statements(self._conn, limit=self._limit)
                    snapshot = ServerSnapshot(view, statements=tuple(self._watch.update(sample)), statements_reset_at=sample.reset_at)
                else:
                    snapshot = ServerSnapshot(view, health=await probe.health(self._conn))
            except ServerViewUnavailable as exc:
                snapshot = ServerSnapshot(view, unavailable=str(exc))
            elapsed = (time.perf_counter() - started) * 1000
        return _with(snapshot, elapsed_ms=elapsed, history={k: tuple(v) for k, v in self._history.items()})

    async def _activity(self, probe: Any, view: str) -> ServerSnapshot:
        sample = await probe.activity(self._conn)
        now = time.monotonic()
        self.backends = {b.pid: b for b in sample.backends}
        active = sum(1 for b in sample.backends if b.active and b.kind == "client backend")
        tps = hit = None
        if self._last is not None:
            then, before = self._last
            span = now - then
            if span > 0 and sample.transactions is not None and before.transactions is not None:
                # less the monitor's own sample, one transaction a refresh: an idle server reads 0
                tps = max(0.0, (sample.transactions - before.transactions - 1) / span)
            if None not in (sample.blocks_hit, sample.blocks_read, before.blocks_hit, before.blocks_read):
                hits, reads = sample.blocks_hit - before.blocks_hit, sample.blocks_read - before.blocks_read
                hit = hits / (hits + reads) if hits + reads > 0 else None
        self._last = (now, sample)
        # The sparklines keep the intervals in which the server did something (a transaction
        # a second or an active session): an idle server's picture stands still and the pane
        # writes nothing to the terminal, as the metrics pane does for an idle pool.
        if active or (tps or 0.0) >= 1.0:
            self._history["active"].append(float(active))
            if tps is not None:
                self._history["tps"].append(tps)
            if hit is not None:
                self._history["hit"].append(hit)
        return ServerSnapshot(
            view, backends=sample.backends, locks=tuple(lock_tree(sample.backends)), tps=tps, hit_ratio=hit,
            active=active, own_pid=sample.own_pid,
        )

    def restart_statements(self) -> None:
        """Top statements count from the next refresh on (the watched interval starts again)."""
        self._watch.restart()

    async def signal(self, pid: int, *, terminate: bool) -> bool:
        """Cancel ``pid``'s statement, or (``terminate``) end its session. True once sent.

        Raises ServerActionRefused: in a read-only session (before anything is sent), for the
        monitor's own backend, where the server cannot signal, and when the role may not (with
        the server's reason); a pid that is no backend any more says so."""
        verb = "terminate" if terminate else "cancel"
        if self._read_only:
            raise ServerActionRefused(f"read-only session: will not {verb} backend {pid}")
        async with self._lock:
            probe = await self._ready()
            if not probe.SIGNALS:
                raise ServerActionRefused(f"cannot {verb} here: this database has no server sessions")
            if self._last is not None and pid == self._last[1].own_pid:
                raise ServerActionRefused(f"backend {pid} is the monitor's own connection")
            sent = await probe.signal(self._conn, pid, terminate=terminate)
        if not sent:
            raise ServerActionRefused(f"cannot {verb} backend {pid}: no such backend (it has ended)")
        return True

    async def check(self, *, full: bool = False) -> str:
        """The database's consistency check, on demand (see ServerProbe.check)."""
        async with self._lock:
            probe = await self._ready()
            return await probe.check(self._conn, full=full)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


def _with(snapshot: ServerSnapshot, **changes: Any) -> ServerSnapshot:
    from dataclasses import replace

    return replace(snapshot, **changes)
