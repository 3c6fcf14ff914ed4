"""aiosqlite's private internals, touched only here.

:func:`run` calls ``fn(db, *args)`` with the ``sqlite3.Connection`` on the connection's own
thread in one hop (``Connection._execute`` and ``Connection._conn``, how aiosqlite's own methods
queue work): a transaction of many statements then waits for the event loop once, not once per
statement. It does so on the aiosqlite versions of :data:`TESTED` (the range pinned in
pyproject.toml) when both names are still there; otherwise it takes :func:`run_public`, which
hands ``fn`` a stand-in whose ``execute`` sends each statement through the public
``execute_fetchall`` (slower, same results), and a warning naming the version is logged once.
``tests/unit/test_compat.py`` runs both against a real SQLite file.

>>> TESTED
((0, 21), (0, 23))
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from aishell.engine.compat._versions import usable

TESTED = ((0, 21), (0, 23))
"""aiosqlite versions whose internals this module uses: from the first (included) to the second
(excluded), as pinned in pyproject.toml."""

_fast: bool | None = None
"""Whether the internals are used; None until :func:`internals` decided."""

_T = TypeVar("_T")


def missing() -> list[str]:
    """The private names used here that the installed aiosqlite lacks."""
    from aiosqlite import Connection

    return [f"Connection.{name}" for name in ("_execute", "_conn") if not hasattr(Connection, name)]


def internals() -> bool:
    """The installed aiosqlite is one of :data:`TESTED` and has every private name used here
    (decided on first use, then kept in ``_fast``, which the hot paths read directly)."""
    global _fast
    if _fast is None:
        _fast = usable("aiosqlite", TESTED, missing())
    return _fast


async def run(conn: Any, fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(db, *args)`` on ``conn``'s thread, ``db`` being the ``sqlite3.Connection`` (on the
    fallback, a stand-in with ``execute``/``executemany`` returning rows to fetch)."""
    if not (_fast or internals()):
        return await run_public(conn, fn, *args)
    return await conn._execute(fn, conn._conn, *args)


async def run_public(conn: Any, fn: Callable[..., _T], *args: Any) -> _T:
    """:func:`run` through the public API: ``fn`` runs in a worker thread and each of its
    statements goes to ``conn`` through ``execute_fetchall``. Statements of other tasks on the
    same connection may run between them, so callers serialize their writes (as the memory store
    does with its write lock)."""
    loop = asyncio.get_running_loop()
    return await asyncio.to_thread(fn, _Relay(conn, loop), *args)


class _Rows:
    """The fetched rows of one statement, read like a sqlite3 cursor."""

    __slots__ = ("_rows", "_next")

    def __init__(self, rows: Iterable[Any]) -> None:
        self._rows = list(rows)
        self._next = 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class _Relay:
    """A ``sqlite3.Connection`` stand-in for a worker thread: each call runs on the event loop."""

    __slots__ = ("_conn", "_loop")

    def __init__(self, conn: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._conn = conn
        self._loop = loop

    def execute(self, sql: str, parameters: Iterable[Any] = ()) -> _Rows:
        return _Rows(asyncio.run_coroutine_threadsafe(self._conn.execute_fetchall(sql, tuple(parameters)), self._loop).result())

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> _Rows:
        asyncio.run_coroutine_threadsafe(self._conn.executemany(sql, [tuple(r) for r in rows]), self._loop).result()
        return _Rows(())


__all__ = ["TESTED", "internals", "missing", "run", "run_public"]
