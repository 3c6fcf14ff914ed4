"""asyncpg's private internals, touched only here.

Two hot paths go under asyncpg's public API:

- :func:`execute` runs a statement through the connection's statement cache and returns its
  rows, its command status and the prepared statement in one round trip
  (``Connection._Connection__execute`` under ``_stmt_exclusive_section``); :func:`prepared` gets
  a statement's description from the same cache (``Connection._get_statement``) and
  :func:`attributes` reads its columns (``PreparedStatementState._get_attributes``).
- :func:`close_cursor` closes a cursor's portal before its transaction ends
  (``BaseCursor._close_portal``): a result abandoned inside the user's transaction would
  otherwise keep its snapshot (``backend_xmin``) until COMMIT; without the internals it stays
  open until then.
- :func:`acquire` takes a connection from an asyncpg pool without the per-call timeout wrapper
  (``Pool._acquire``), :func:`free_holder` says whether one is free without waiting
  (``Pool._queue``), and :func:`connection` unwraps the pool's proxy (``PoolConnectionProxy._con``)
  so the connection keeps one identity across borrowings.

They are used only on the asyncpg versions of :data:`TESTED` (the range pinned in
pyproject.toml) when every name is still there (:func:`internals`); otherwise each call takes
its public equivalent (``prepare`` + ``fetch`` + ``get_statusmsg``, ``Pool.acquire``, the
server process id), slower but with the same results, and a warning naming the version is
logged once. ``tests/unit/test_compat.py`` and ``tests/integration/test_compat_asyncpg.py`` run
both paths against the real library and server.

>>> TESTED
((0, 30), (0, 33))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aishell.engine.compat._versions import usable

TESTED = ((0, 30), (0, 33))
"""asyncpg versions whose internals this module uses: from the first (included) to the second
(excluded), as pinned in pyproject.toml."""

_fast: bool | None = None
"""Whether the internals are used; None until :func:`internals` decided."""


def missing() -> list[str]:
    """The private names used here that the installed asyncpg lacks."""
    from asyncpg import connection, cursor, pool
    from asyncpg.protocol import protocol

    wanted = (
        (connection.Connection, "_Connection__execute"),
        (connection.Connection, "_get_statement"),
        (connection.Connection, "_stmt_exclusive_section"),
        (protocol.PreparedStatementState, "_get_attributes"),
        (cursor.BaseCursor, "_close_portal"),
        (cursor.BaseCursor, "_portal_name"),
        (pool.Pool, "_acquire"),
        (pool.Pool, "_queue"),
        (pool.PoolConnectionProxy, "_con"),
    )
    return [f"{cls.__name__}.{name}" for cls, name in wanted if not (hasattr(cls, name) or name in getattr(cls, "__slots__", ()))]


def internals() -> bool:
    """The installed asyncpg is one of :data:`TESTED` and has every private name used here
    (decided on first use, then kept in ``_fast``, which the hot paths read directly)."""
    global _fast
    if _fast is None:
        _fast = usable("asyncpg", TESTED, missing())
    return _fast


# -- statements ---------------------------------------------------------------------------------


async def execute(con: Any, sql: str, args: tuple) -> tuple[list, str | bytes, Any]:
    """Run ``sql`` with ``args`` on ``con``: ``(rows, status, statement)``, the statement being a
    stable key for its columns (see :func:`attributes`). One round trip on the tested versions."""
    if not (_fast or internals()):
        return await execute_public(con, sql, args)
    with con._stmt_exclusive_section:
        (rows, status, _), state = await con._Connection__execute(sql, args, 0, None, return_status=True)
    return rows, status, state


async def execute_public(con: Any, sql: str, args: tuple) -> tuple[list, str, Any]:
    """:func:`execute` through the public API: prepare, then fetch (two round trips)."""
    statement = await con.prepare(sql)
    rows = await statement.fetch(*args)
    return rows, statement.get_statusmsg(), statement


async def prepared(con: Any, sql: str) -> Any:
    """The prepared statement of ``sql`` (from the connection's statement cache when it can)."""
    if not (_fast or internals()):
        return await con.prepare(sql)
    return await con._get_statement(sql, None)


def attributes(statement: Any) -> tuple:
    """The result columns of a statement from :func:`execute` or :func:`prepared`: each with a
    ``name`` and a ``type.name``."""
    get = getattr(statement, "get_attributes", None)  # a public PreparedStatement (the fallback's)
    return tuple(get() if get is not None else statement._get_attributes())


async def close_cursor(cur: Any) -> None:
    """Close the portal of ``cur`` (an asyncpg ``Cursor``) now, releasing the snapshot it
    holds; a no-op when it is closed already or the internals are not used (asyncpg has no
    public close: the portal then lasts until the transaction ends)."""
    if not (_fast or internals()):
        return
    if cur._portal_name:
        await cur._close_portal(None)


# -- the pool -----------------------------------------------------------------------------------


def free_holder(pool: Any) -> bool:
    """True when ``pool`` can hand out a connection without waiting for a release."""
    if not (_fast or internals()):
        return pool.get_size() - pool.get_idle_size() < pool.get_max_size()
    return bool(pool._queue._queue)


async def acquire(pool: Any) -> Any:
    """A connection proxy from ``pool``, waiting as long as it takes (callers bound the wait)."""
    if not (_fast or internals()):
        return await pool.acquire()
    return await pool._acquire(None)


def connection(proxy: Any, by_pid: Mapping[int, Any]) -> Any:
    """The asyncpg ``Connection`` behind a pool's ``proxy``, or None once the proxy was released
    or its connection closed. ``by_pid`` maps the pool's connections by server process id: the
    public way to tell which connection a proxy wraps."""
    if not (_fast or internals()):
        return connection_public(proxy, by_pid)
    return proxy._con


def connection_public(proxy: Any, by_pid: Mapping[int, Any]) -> Any:
    """:func:`connection` through the public API: the proxy's server process id."""
    from asyncpg import InterfaceError

    try:
        pid = proxy.get_server_pid()
    except InterfaceError:  # released, or its connection closed
        return None
    return by_pid.get(pid)


__all__ = ["TESTED", "internals", "missing", "execute", "execute_public", "prepared", "attributes",
           "close_cursor", "free_holder", "acquire", "connection", "connection_public"]
