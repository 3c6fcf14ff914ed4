"""Watching the server: sessions, who blocks whom, top statements and health, for the server
pane and ``aishell top``. The catalog queries live with the drivers
(:mod:`engine.drivers.server`); this package turns samples into what people read: rates, lock
trees, deltas while watched, and flags on long or idle-in-transaction sessions.

    monitor = session.server_monitor()
    snapshot = await monitor.refresh("activity")   # one catalog query
    for node in snapshot.locks: ...
    await monitor.signal(pid, terminate=False)     # refused in a read-only session
    await monitor.close()
"""

from __future__ import annotations

from aishell.engine.drivers.server import Backend, Health, ServerActionRefused, StatementStat
from aishell.engine.server.activity import FILTERS, age, duration, flag, select
from aishell.engine.server.locks import LockNode, lock_tree
from aishell.engine.server.monitor import VIEWS, ServerMonitor, ServerSnapshot
from aishell.engine.server.statements import StatementDelta, StatementWatch

__all__ = [
    "Backend", "FILTERS", "Health", "LockNode", "ServerActionRefused", "ServerMonitor", "ServerSnapshot",
    "StatementDelta", "StatementStat", "StatementWatch", "VIEWS", "age", "duration", "flag", "lock_tree", "select",
]
