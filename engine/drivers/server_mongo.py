"""MongoDB's side of the server pane, through the driver's client: ``currentOp`` for the
sessions (``killOp`` both cancels and ends an operation), ``serverStatus`` for the health
basics. No per-statement view: the profiler is a collection per database, not a server view.

Only checked at unit level here: the FerretDB the tests run answers neither command the way
MongoDB does.
"""

from __future__ import annotations

import json
from typing import Any

from aishell.engine.drivers.server import Activity, Backend, Health, ServerViewUnavailable, Statements, refusal
from aishell.engine.errors import QueryError


class MongoProbe:
    """``currentOp``/``killOp``/``serverStatus`` on the admin database."""

    ACTIVITY = True
    STATEMENTS = False
    SIGNALS = True

    async def activity(self, conn: Any) -> Activity:
        reply = await _admin(conn, {"currentOp": 1, "$all": True})
        return activity_from(reply)

    async def statements(self, conn: Any, *, limit: int = 200) -> Statements:
        raise ServerViewUnavailable("MongoDB keeps statement times in each database's profiler (db.setProfilingLevel(1))")

    async def health(self, conn: Any) -> Health:
        return health_from(await _admin(conn, {"serverStatus": 1}))

    async def signal(self, conn: Any, pid: int, *, terminate: bool) -> bool:
        try:
            await _admin(conn, {"killOp": 1, "op": pid})
        except QueryError as exc:
            raise refusal(exc, pid, "terminate" if terminate else "cancel") from None
        return True

    async def check(self, conn: Any, *, full: bool) -> str:
        raise ServerViewUnavailable("use db.collection.validate() to check a collection")


async def _admin(conn: Any, command: dict[str, Any]) -> dict[str, Any]:
    name = next(iter(command))
    try:
        return await conn.client.admin.command(command)
    except Exception as exc:  # noqa: BLE001 - the driver says what it was, in one line
        raise conn._translate(exc, name, None) from None


def activity_from(reply: dict[str, Any]) -> Activity:
    """Sessions from a ``currentOp`` reply (client operations with a numeric opid).

    >>> reply = {"inprog": [{"opid": 12, "active": True, "secs_running": 3, "ns": "shop.orders",
    ...   "client": "10.0.0.5:5120", "appName": "mongosh", "op": "query", "command": {"find": "orders"},
    ...   "effectiveUsers": [{"user": "ann", "db": "admin"}], "waitingForLock": False}]}
    >>> b = activity_from(reply).backends[0]
    >>> b.pid, b.database, b.user, b.state, b.query
    (12, 'shop', 'ann', 'active', '{"find": "orders"}')
    """
    backends = []
    for op in reply.get("inprog", []):
        opid = op.get("opid")
        if not isinstance(opid, int) or op.get("type", "op") != "op":
            continue
        users = op.get("effectiveUsers") or [{}]
        micros = op.get("microsecs_running")
        running = micros / 1e6 if isinstance(micros, (int, float)) else op.get("secs_running")
        txn = op.get("transaction") or {}
        txn_micros = txn.get("timeOpenMicros")
        backends.append(Backend(
            pid=opid,
            database=(op.get("ns") or "").split(".", 1)[0] or None,
            user=users[0].get("user"),
            application=op.get("appName") or "",
            client=op.get("client"),
            state="active" if op.get("active") else "idle",
            wait="Lock" if op.get("waitingForLock") else None,
            query_s=float(running) if running is not None else None,
            xact_s=txn_micros / 1e6 if isinstance(txn_micros, (int, float)) else None,
            query=json.dumps(op.get("command") or {}, default=str),
            kind=op.get("op") or "",
        ))
    return Activity(tuple(backends))


def health_from(status: dict[str, Any]) -> Health:
    """Health basics from a ``serverStatus`` reply.

    >>> h = health_from({"connections": {"current": 5, "available": 95}, "uptime": 7200,
    ...   "version": "7.0.2", "opcounters": {"query": 10, "insert": 2}, "mem": {"resident": 300}})
    >>> h.connections, h.max_connections, dict(h.facts)["operations"]
    (5, 100, '12')
    """
    conns = status.get("connections") or {}
    current, available = conns.get("current"), conns.get("available")
    ops = status.get("opcounters") or {}
    facts = [
        ("version", str(status.get("version", "–"))),
        ("uptime", f"{int(status.get('uptime', 0)) // 3600} h"),
        ("operations", f"{sum(v for v in ops.values() if isinstance(v, (int, float))):,}"),
    ]
    resident = (status.get("mem") or {}).get("resident")
    if resident is not None:
        facts.append(("resident memory", f"{resident} MB"))
    return Health(
        connections=current,
        max_connections=current + available if isinstance(current, int) and isinstance(available, int) else None,
        facts=tuple(facts),
    )
