"""The server pane's refreshes and actions: a timer that samples the server only while the pane
is shown (one catalog query a refresh, on the monitor's own connection), the view model the pane
draws, and cancel, terminate and the integrity check. Reports with ServerSampled and ServerNotice.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from rich.text import Text

from aishell.engine.errors import AishellError
from aishell.engine.server import FILTERS, ServerSnapshot, age, duration, flag, select
from aishell.tui.controllers import Controller
from aishell.tui.messages import ServerNotice, ServerSampled

if TYPE_CHECKING:
    from textual.timer import Timer

    from aishell.engine.server import ServerMonitor

REFRESH_S = 1.5
"""Seconds between two samples while the pane is shown."""
LONG_AFTER_S = 60.0
"""A transaction or statement older than this is flagged."""
QUERY_WIDTH = 200
"""The query cell's characters at most (the whole text goes into a buffer with ``o``)."""


class ServerController(Controller):
    """Samples the server for the pane ``shown`` says is on screen."""

    def __init__(self, screen: Any, *, shown: Callable[[], bool]) -> None:
        super().__init__(screen)
        self._shown = shown
        self.view = "activity"
        self.filter = "all"
        self.monitor: ServerMonitor | None = None
        self.last: ServerSnapshot | None = None
        self._timer: Timer | None = None
        self._busy = False
        self._session: Any = None

    def watch(self, on: bool) -> None:
        """Start sampling (at once, then every :data:`REFRESH_S`) or stop."""
        if on:
            if self._timer is None:
                self._timer = self.screen.set_interval(REFRESH_S, self.refresh, name="server-refresh")
            else:
                self._timer.resume()
            self.refresh()
        elif self._timer is not None:
            self._timer.pause()

    def refresh(self) -> None:
        """One sample, unless one is on its way or the pane is hidden (then nothing is asked)."""
        if self._busy or self.session is None or not self._shown():
            return
        self._busy = True
        self.start(self._refresh(), group="server", name="server_refresh")

    async def _refresh(self) -> None:
        try:
            await self._ensure_monitor()
            # locks come from the activity sample; the sparklines want it on every view
            snapshot = await self.monitor.refresh(self.view if self.view != "locks" else "locks")
            if self.view in ("statements", "health") and self.last is not None:
                snapshot = _keep_rates(snapshot, self.last)
            self.last = snapshot
            self.post(ServerSampled(view_model(snapshot, self.filter, read_only=self.monitor.read_only)))
        except AishellError as exc:
            self.post(ServerSampled({"view": self.view, "summary": f"{exc.title}: {exc}", "columns": (), "rows": [], "note": ""}))
        finally:
            self._busy = False

    def show(self, view: str, filter: str) -> None:
        """The user switched view or filter: redraw from the last sample, then sample again."""
        self.view, self.filter = view, filter
        if self.last is not None and self.last.view in ("activity", "locks") and view in ("activity", "locks"):
            from dataclasses import replace

            self.post(ServerSampled(view_model(replace(self.last, view=view), filter, read_only=self.monitor.read_only if self.monitor else False)))
        self.refresh()

    def signal(self, pid: int, *, terminate: bool) -> None:
        """Cancel ``pid``'s statement or terminate its session (the screen asked first)."""
        self.start(self._signal(pid, terminate), group="server-signal", name="server_signal")

    async def _signal(self, pid: int, terminate: bool) -> None:
        try:
            await self._ensure_monitor()
            await self.monitor.signal(pid, terminate=terminate)
        except AishellError as exc:
            self.post(ServerNotice(str(exc), "error"))
            return
        self.post(ServerNotice(f"{'Terminated' if terminate else 'Cancelled'} backend {pid}."))
        self.refresh()

    def act(self, action: str) -> None:
        """``restart``: count top statements from now; ``check``: the integrity check."""
        if action == "restart" and self.monitor is not None:
            self.monitor.restart_statements()
            self.post(ServerNotice("Top statements count from now."))
        elif action == "check":
            self.start(self._check(), group="server-check", name="server_check")

    async def _check(self) -> None:
        try:
            await self._ensure_monitor()
            result = await self.monitor.check(full=True)
        except AishellError as exc:
            self.post(ServerNotice(str(exc), "warning"))
            return
        self.post(ServerNotice(f"Integrity check: {result}", "information" if result == "ok" else "error"))

    async def _ensure_monitor(self) -> "ServerMonitor":
        """The monitor of the current session (a new one after ``\\c``)."""
        if self.monitor is not None and self._session is not self.session:
            old, self.monitor, self.last = self.monitor, None, None
            await old.close()
        if self.monitor is None:
            self._session = self.session
            self.monitor = self.session.server_monitor()
        return self.monitor

    async def close(self) -> None:
        """Stop sampling and close the monitor's connection (session changed, screen closing)."""
        if self._timer is not None:
            self._timer.pause()
        monitor, self.monitor, self.last = self.monitor, None, None
        if monitor is not None:
            await monitor.close()


def _keep_rates(snapshot: ServerSnapshot, last: ServerSnapshot) -> ServerSnapshot:
    from dataclasses import replace

    return replace(snapshot, tps=last.tps, hit_ratio=last.hit_ratio, active=last.active, own_pid=last.own_pid)


def view_model(snapshot: ServerSnapshot, filter: str = "all", *, read_only: bool = False) -> dict[str, Any]:
    """What the pane draws for ``snapshot``: plain strings, a stable key a row."""
    figures = []
    if snapshot.tps is not None:
        figures.append(f"TPS {int(snapshot.tps):,}")
    if snapshot.active is not None:
        figures.append(f"active {snapshot.active}")
    if snapshot.hit_ratio is not None:
        figures.append(f"hit {snapshot.hit_ratio:.1%}")
    view = snapshot.view
    label = {"activity": f"sessions · {filter}", "locks": "locks", "statements": "top statements", "health": "health"}[view]
    summary = " · ".join([label, *figures]) + (" · read-only" if read_only else "")
    # whole transactions a second: the stray fraction an idle server's own pollers make would
    # redraw the sparkline at every refresh
    history = {k: tuple(float(int(x)) for x in v) if k == "tps" else v for k, v in snapshot.history.items() if v}
    model: dict[str, Any] = {"view": view, "filter": filter, "summary": summary, "history": history, "note": snapshot.unavailable or ""}
    if snapshot.unavailable:
        model.update(columns=(), rows=[])
    elif view == "activity":
        model.update(_activity(snapshot, filter))
    elif view == "locks":
        model.update(_locks(snapshot))
    elif view == "statements":
        model.update(_statements(snapshot))
    else:
        model.update(_health(snapshot))
    return model


def _query(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= QUERY_WIDTH else one[: QUERY_WIDTH - 1] + "…"


def _activity(snapshot: ServerSnapshot, filter: str) -> dict[str, Any]:
    rows = []
    for b in select(snapshot.backends, filter):
        idle = b.state == "idle"
        note = flag(b, long_after=LONG_AFTER_S)
        shown = b.state.replace("idle in transaction", "idle in tx")
        state = Text(f"⚠ {shown}", style="bold") if note else shown
        rows.append((f"pid{b.pid}", (
            str(b.pid), state,
            "" if idle or b.query_s is None else duration(b.query_s),
            "" if b.xact_s is None else duration(b.xact_s),
            b.wait or "", b.database or "", b.user or "", b.application, b.client or "local",
            _query(b.query),
        ), {"pid": b.pid, "query": b.query, "statement": b.query if b.query.strip() else None}))
    counts = {mode: len(select(snapshot.backends, mode)) for mode in FILTERS}
    note = " · ".join(f"{n} {mode}" for mode, n in counts.items()) + " · f: filter  x: cancel  X: terminate  o: open"
    return {"columns": ("pid", "state", "query", "xact", "wait", "db", "user", "app", "client", "statement"), "rows": rows, "note": note,
            "drop": ("client", "app", "user", "db", "wait", "xact", "query", "state")}


def _locks(snapshot: ServerSnapshot) -> dict[str, Any]:
    rows = []
    for node in snapshot.locks:
        b = node.backend
        head = "  " * node.depth + ("▶ " if node.root else "└ ")
        mark = Text(f"{head}{b.pid}", style="bold" if node.root else "")
        what = f"blocks {node.blocks}" if node.root else (b.waiting_for or "waits")
        rows.append((f"lock{b.pid}", (
            mark, b.state, what, duration(age(b)), flag(b, long_after=LONG_AFTER_S) or "", _query(b.query),
        ), {"pid": b.pid, "query": b.query, "statement": b.query if b.query.strip() else None}))
    flagged = [b for b in snapshot.backends if flag(b, long_after=LONG_AFTER_S) and b.pid not in {n.backend.pid for n in snapshot.locks}]
    for b in sorted(flagged, key=age, reverse=True):
        rows.append((f"lock{b.pid}", (str(b.pid), b.state, "", duration(age(b)), flag(b, long_after=LONG_AFTER_S) or "", _query(b.query)),
                     {"pid": b.pid, "query": b.query, "statement": b.query or None}))
    note = "nobody waits for a lock" if not snapshot.locks else "▶ blocking root: ending it frees the sessions under it"
    return {"columns": ("pid", "state", "lock", "age", "flag", "statement"), "rows": rows, "note": note, "drop": ("flag", "age")}


def _statements(snapshot: ServerSnapshot) -> dict[str, Any]:
    rows = []
    for r in snapshot.statements[:100]:
        s = r.stat
        rows.append(("q" + "-".join(map(str, s.key)), (
            f"{r.total_ms:,.1f}", f"{r.calls:,}", f"{r.mean_ms:,.2f}", f"{r.rows:,}", f"{r.blocks_hit:,}", f"{r.blocks_read:,}",
            f"{s.total_ms:,.0f}", f"{s.calls:,}", f"{s.mean_ms:,.2f}", _query(s.query),
        ), {"pid": None, "query": s.query, "statement": s.query}))
    since = "" if snapshot.statements_reset_at is None else f" · totals since {time.strftime('%Y-%m-%d %H:%M', time.localtime(snapshot.statements_reset_at))}"
    note = f"while watched: ms, calls, mean, rows, hit, read{since} · z: count from now  o: open"
    return {"columns": ("ms", "calls", "mean ms", "rows", "hit", "read", "total ms", "total calls", "total mean", "statement"), "rows": rows, "note": note,
            "drop": ("total calls", "total mean", "total ms", "read", "hit", "rows")}


def _health(snapshot: ServerSnapshot) -> dict[str, Any]:
    h = snapshot.health
    rows: list[tuple[str, tuple, dict[str, Any]]] = []

    def add(key: str, section: str, name: str, value: str, statement: str | None = None) -> None:
        rows.append((key, (section, name, value), {"pid": None, "query": statement or "", "statement": statement}))

    if h is None:
        return {"columns": (), "rows": [], "note": ""}
    if h.connections is not None:
        share = f" ({h.connections / h.max_connections:.0%})" if h.max_connections else ""
        add("connections", "server", "connections", f"{h.connections} of {h.max_connections}{share}")
    for label, value in (("temp files", h.temp_files), ("deadlocks", h.deadlocks), ("checkpoints timed", h.checkpoints_timed),
                         ("checkpoints requested", h.checkpoints_requested)):
        if value is not None:
            add(label, "server", label, f"{value:,}")
    if h.temp_bytes is not None:
        add("temp bytes", "server", "temp bytes", _size(h.temp_bytes))
    for name, value in h.facts:
        add(f"fact {name}", "database", name, value)
    for name, size in h.sizes:
        add(f"size {name}", "size", name, "–" if size is None else _size(size))
    for name, client, state, lag, lag_s in h.replicas:
        add(f"replica {name}{client}", "replica", f"{name} {client or ''}".strip(), f"{state} · lag {_size(lag) if lag is not None else '–'}"
            + (f" · {duration(lag_s)}" if lag_s is not None else ""))
    for pid, what, phase in h.vacuums:
        add(f"vacuum {pid}", "autovacuum", what, phase)
    if not h.vacuums and h.connections is not None:
        add("vacuum", "autovacuum", "workers", "none running")
    for table, dead, live, since in h.dead_tuples:
        add(f"dead {table}", "dead tuples", table, f"{dead:,} dead of {dead + live:,}" + (f" · vacuumed {duration(since)} ago" if since is not None else " · never vacuumed"))
    for index, table, size, drop in h.unused_indexes:
        add(f"unused {index}", "unused index", index, f"{_size(size)} on {table} · o: {drop}", drop)
    for index, of, table, size, drop in h.duplicate_indexes:
        add(f"duplicate {index}", "duplicate index", index, f"same as {of} · {_size(size)} · o: {drop}", drop)
    return {"columns": ("", "name", "value"), "rows": rows, "note": "o on an index opens its DROP in a new buffer: nothing runs without you"}


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"  # pragma: no cover
