"""Which sessions the activity view lists, in which order, and which ones it flags.

>>> from aishell.engine.drivers.server import Backend
>>> rows = [Backend(1, "d", "u", "", None, "idle", None, 9.0, None, "q"),
...         Backend(2, "d", "u", "", None, "active", None, 0.5, 0.5, "q"),
...         Backend(3, "d", "u", "", None, "idle in transaction", None, 4.0, 70.0, "q")]
>>> [b.pid for b in select(rows, "all")], [b.pid for b in select(rows, "active")]
([3, 2, 1], [2])
>>> flag(rows[2], long_after=60.0)
'idle in transaction 1m10s'
"""

from __future__ import annotations

from typing import Iterable

from aishell.engine.drivers.server import Backend

FILTERS = ("active", "all", "idle in transaction")
"""The activity view's filters, in the order a key cycles them."""


def select(backends: Iterable[Backend], mode: str) -> list[Backend]:
    """The sessions ``mode`` lists (one of :data:`FILTERS`), the longest running first: active
    and idle-in-transaction sessions by their transaction's age (their statement's when none),
    then idle ones by how long ago their last statement started."""
    if mode not in FILTERS:
        raise ValueError(f"filter {mode!r} not one of {FILTERS}")
    if mode == "active":
        chosen = [b for b in backends if b.active or b.blocked_by]
    elif mode == "idle in transaction":
        chosen = [b for b in backends if b.idle_in_transaction]
    else:
        chosen = list(backends)
    return sorted(chosen, key=lambda b: (b.state == "idle", -age(b)))


def age(backend: Backend) -> float:
    """How long it has been at it: its transaction's age, else its statement's."""
    return backend.xact_s if backend.xact_s is not None else (backend.query_s or 0.0)


def flag(backend: Backend, *, long_after: float, idle_after: float = 1.0) -> str | None:
    """Why the session deserves a look: idle in a transaction for ``idle_after`` seconds or
    more (a busy client is idle in its transactions for moments between statements), or a
    transaction or statement older than ``long_after`` seconds; None otherwise."""
    if backend.idle_in_transaction and (backend.xact_s or 0.0) >= idle_after:
        return f"{backend.state} {duration(backend.xact_s or 0.0)}"
    if backend.xact_s is not None and backend.xact_s >= long_after:
        return f"long transaction {duration(backend.xact_s)}"
    if backend.active and (backend.query_s or 0.0) >= long_after:
        return f"long query {duration(backend.query_s or 0.0)}"
    return None


def duration(seconds: float) -> str:
    """A short age.

    >>> duration(0.25), duration(42), duration(3725), duration(90000)
    ('0.25s', '42s', '1h02m', '1d01h')
    """
    if seconds < 10:
        return f"{seconds:.2f}s" if seconds < 1 else f"{seconds:.1f}s"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
