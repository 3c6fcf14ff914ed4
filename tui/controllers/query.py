"""Running statements for the main screen: streamed results a page at a time as the grid asks,
backslash commands and cancel. Reports with :mod:`tui.messages`: QueryStarted,
ColumnsReady, RowsFetched, QueryFinished or QueryFailed, BackslashDone."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aishell.engine import commands
from aishell.engine.errors import AishellError, ConnectionLost, QueryError
from aishell.tui.controllers import Controller
from aishell.tui.messages import (
    BackslashDone,
    ColumnsReady,
    QueryFailed,
    QueryFinished,
    QueryStarted,
    ResultReleased,
    RowsFetched,
    TransactionChanged,
)


class QueryController(Controller):
    """One statement at a time: a new one replaces the running one (worker group ``query``)."""

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self._need: asyncio.Event | None = None
        self._paused = False
        self.sql = ""
        """The statement last run: exported again in full while it streams, learned when done."""
        self._view = ("", "")
        """(wrapped statement, the statement it wraps) of the last :meth:`run_view`."""
        self.commands = commands.Context(session=None)
        """What backslash commands share for as long as the app runs (variables, settings)."""

    @property
    def streaming(self) -> bool:
        """A result is open: more pages may come."""
        return self._need is not None

    @property
    def rows_waiting(self) -> bool:
        """The stream waits for the grid to ask for more (rows wait on the server)."""
        return self._need is not None and self._paused

    def run(self, sql: str, line: int = 1, column: int = 1) -> None:
        """Stream ``sql``, typed at ``line``/``column`` of the buffer (error positions map there)."""
        self.start(self._stream(sql, line, column), group="query", name="run_query")

    def more(self) -> None:
        """The grid wants the next page."""
        if self._need is not None:
            self._need.set()

    def stop(self) -> None:
        """Stop fetching: the server's cursor closes, the rows already shown stay."""
        self.screen.workers.cancel_group(self.screen, "query")
        self._need = None

    async def cancel(self) -> bool:
        """Cancel the running statement on the server; True if one was running."""
        session = self.session
        return await session.cancel() if session is not None else False

    def backslash(self, line: str) -> None:
        """Run a backslash command (``\\dt``, ``\\c URL``, ``\\timing``…)."""
        self.start(self._backslash(line), group="query", name="run_backslash")

    def run_view(self, where: Any, order: tuple[str, bool] | None) -> str:
        """Run the statement shown again, wrapped so the server filters (``where``, a sqlglot
        condition) and sorts (``order``: column, descending) all of it, not only the rows loaded.
        Returns '' once started, else why it cannot be wrapped (MongoDB, not a query that reads)."""
        from aishell.engine.statements.wrap import NotWrappable, wrap_view

        wrapped, base = self._view
        base = base if wrapped == self.sql else self.sql
        try:
            sql = wrap_view(base, self.session.dialect, where=where, order=order) if where is not None or order is not None else base
        except NotWrappable as exc:
            return str(exc)
        self._view = (sql, base)
        self.start(self._stream(sql, None, None), group="query", name="run_view")
        return ""

    # -- workers ----------------------------------------------------------------------------------

    async def _stream(self, sql: str, line: int, column: int) -> None:
        """The first page at once, the next ones when the grid asks (:meth:`more`)."""
        session = self.session
        self.sql = sql
        need = self._need = asyncio.Event()
        self.post(QueryStarted(sql))
        started = time.perf_counter()
        idle = self.screen.app.settings.ui.release_result_after or None
        released: int | None = None
        try:
            async with session.stream(sql) as rows:
                self.post(ColumnsReady([(c.name, c.type_name) for c in rows.columns]))
                async for page in rows:
                    self.post(RowsFetched(page))
                    if rows.holds_snapshot:
                        self.post(TransactionChanged(session.transaction))
                    need.clear()
                    self._paused = True
                    try:
                        # An open cursor holds a snapshot on the server: let it go when nobody asks.
                        await asyncio.wait_for(need.wait(), idle if rows.holds_snapshot else None)
                    except asyncio.TimeoutError:
                        released = rows.rowcount
                        break
                    finally:
                        self._paused = False
                if released is None:
                    self.post(QueryFinished(rows.rowcount, (time.perf_counter() - started) * 1000, rows.status))
            if released is not None:
                self.post(ResultReleased(released, idle))
        except QueryError as exc:
            at_line = at_col = None
            if exc.line_column is not None:
                err_line, err_col = exc.line_column
                at_line = line + err_line - 1
                at_col = err_col + (column - 1 if err_line == 1 else 0)
            text = exc.message + (f"\n{exc.detail}" if exc.detail else "") + (f"\nHint: {exc.hint}" if exc.hint else "")
            self.post(QueryFailed(exc.title, text, at_line, at_col))
        except ConnectionLost as exc:
            self.post(QueryFailed(exc.title, str(exc), connection_lost=True))
        except AishellError as exc:
            self.post(QueryFailed(exc.title, str(exc)))
        finally:
            if self._need is need:
                self._need = None
            self.post(TransactionChanged(session.transaction))

    async def _backslash(self, line: str) -> None:
        started = time.perf_counter()
        try:
            self.commands.session = self.session
            outcome = await commands.run(self.commands, line)
        except commands.CommandError as exc:
            self.post(QueryFailed("", str(exc)))
            return
        except AishellError as exc:
            self.post(QueryFailed(exc.title, str(exc), connection_lost=isinstance(exc, ConnectionLost)))
            return
        self.post(BackslashDone(outcome, (time.perf_counter() - started) * 1000))


__all__ = ["QueryController"]
