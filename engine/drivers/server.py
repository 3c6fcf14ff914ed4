"""What a server is doing, as each backend can tell: its sessions, its costliest statements and
its health, read by one catalog query each (the server pane and ``aishell top``).

A *probe* answers for one backend and declares what it can answer with flags (``ACTIVITY``,
``STATEMENTS``, ``SIGNALS``), so front ends adapt instead of failing; :func:`engine.drivers.server_probes.probe_for`
picks the probe by the connection's dialect (this package is where backends are told apart). The
values are plain, frozen and carry no driver type; :mod:`engine.server` turns samples into
rates, deltas and lock trees.

>>> Backend(pid=7, database="shop", user="ann", application="psql", client=None, state="active",
...         wait=None, query_s=1.5, xact_s=2.0, query="SELECT 1").idle_in_transaction
False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from aishell.engine.errors import AishellError, QueryError


class ServerActionRefused(AishellError):
    """Cancelling or terminating a backend was not done: read-only session, a role without the
    right, a backend that is gone; the message says which."""

    title = "Not done"


class ServerViewUnavailable(AishellError):
    """A view this server cannot give (no ``pg_stat_statements``, no sessions to list); the
    message says how to get it where there is a way."""

    title = "Not available"


@dataclass(frozen=True, slots=True)
class Backend:
    """One session on the server, as ``pg_stat_activity`` (or ``currentOp``) shows it."""

    pid: int
    database: str | None
    user: str | None
    application: str
    client: str | None
    state: str
    """``active``, ``idle``, ``idle in transaction``, ``idle in transaction (aborted)``…"""
    wait: str | None
    """What it waits for (``Lock:transactionid``), None when it runs or sleeps."""
    query_s: float | None
    """Seconds since its current (or, idle, its last) statement started."""
    xact_s: float | None
    """Seconds since its transaction started; None outside a transaction."""
    query: str
    blocked_by: tuple[int, ...] = ()
    """The pids holding the locks it waits for (``pg_blocking_pids``)."""
    kind: str = "client backend"
    """The server's backend type (``client backend``, ``autovacuum worker``…)."""
    waiting_for: str | None = None
    """The lock it waits for, when it waits for one (``ExclusiveLock on transactionid``)."""

    @property
    def idle_in_transaction(self) -> bool:
        return self.state.startswith("idle in transaction")

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True, slots=True)
class Activity:
    """One sample of the server's sessions with the counters rates are made of."""

    backends: tuple[Backend, ...]
    transactions: int | None = None
    """Transactions committed and rolled back on the whole server since its statistics reset."""
    blocks_hit: int | None = None
    blocks_read: int | None = None
    own_pid: int | None = None
    """The monitor's own backend (left out of ``backends``)."""


@dataclass(frozen=True, slots=True)
class StatementStat:
    """One normalized statement's totals since the statistics were reset."""

    key: tuple[Any, ...]
    """Stable identity across samples (queryid, database, user)."""
    query: str
    database: str | None
    calls: int
    total_ms: float
    rows: int
    blocks_hit: int
    blocks_read: int

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class Statements:
    stats: tuple[StatementStat, ...]
    reset_at: float | None = None
    """When the statistics were last reset (Unix time), when the server says."""


@dataclass(frozen=True, slots=True)
class Health:
    """Figures about the whole server; None where this server has no such figure.

    Lists hold plain tuples: ``sizes`` (database, bytes), ``replicas`` (name, client, state,
    lag bytes, lag seconds), ``vacuums`` (pid, relation or query, phase), ``dead_tuples``
    (table, dead, live, last autovacuum seconds ago), ``unused_indexes`` (index, table, bytes,
    drop statement), ``duplicate_indexes`` (index, duplicate of, table, bytes, drop statement),
    ``facts`` (label, value) for backends with little else to say (SQLite, MongoDB).
    """

    connections: int | None = None
    max_connections: int | None = None
    temp_files: int | None = None
    temp_bytes: int | None = None
    deadlocks: int | None = None
    checkpoints_timed: int | None = None
    checkpoints_requested: int | None = None
    sizes: tuple[tuple[str, int | None], ...] = ()
    replicas: tuple[tuple[str, str | None, str, int | None, float | None], ...] = ()
    vacuums: tuple[tuple[int, str, str], ...] = ()
    dead_tuples: tuple[tuple[str, int, int, float | None], ...] = ()
    unused_indexes: tuple[tuple[str, str, int, str], ...] = ()
    duplicate_indexes: tuple[tuple[str, str, str, int, str], ...] = ()
    facts: tuple[tuple[str, str], ...] = field(default=())


class ServerProbe(Protocol):
    """The catalog queries for one backend. Each method is one round trip on ``conn`` (a driver
    connection used for nothing else meanwhile) and raises QueryError, ConnectionLost, or
    ServerViewUnavailable for a view this server cannot give."""

    ACTIVITY: bool
    """Sessions can be listed (``activity`` answers)."""
    STATEMENTS: bool
    """Per-statement totals exist where the server is set up for them (``statements``)."""
    SIGNALS: bool
    """A session's statement can be cancelled and the session terminated (``signal``)."""

    async def activity(self, conn: Any) -> Activity: ...

    async def statements(self, conn: Any, *, limit: int = 200) -> Statements: ...

    async def health(self, conn: Any) -> Health: ...

    async def signal(self, conn: Any, pid: int, *, terminate: bool) -> bool:
        """Cancel ``pid``'s statement (or end its session); True when the server sent the
        signal, False when no such backend exists. Raises ServerActionRefused with the server's
        reason when the role may not."""

    async def check(self, conn: Any, *, full: bool) -> str:
        """A consistency check of the database on demand (SQLite's ``quick_check``, or
        ``integrity_check`` when ``full``): ``ok`` or the problems found."""


def refusal(exc: QueryError, pid: int, verb: str) -> ServerActionRefused:
    """The server's refusal to signal ``pid`` as one line naming the backend."""
    return ServerActionRefused(f"cannot {verb} backend {pid}: {exc.one_line()}")


__all__ = [
    "Activity", "Backend", "Health", "ServerActionRefused", "ServerProbe", "ServerViewUnavailable",
    "StatementStat", "Statements", "refusal",
]
