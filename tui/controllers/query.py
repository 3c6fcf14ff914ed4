"""Running statements for the main screen: streamed results a page at a time as the grid asks,
scripts statement by statement (Run all, ``\\i FILE``), backslash commands and cancel. Reports
with :mod:`tui.messages`: QueryStarted, ColumnsReady, RowsFetched, QueryFinished or QueryFailed,
BackslashDone; a script wraps them in ScriptStarted, ResultStarted (one a result) and
ScriptFinished."""

from __future__ import annotations

import asyncio
import time
from typing import Any

KEPT_ROWS = 10_000
"""Rows kept of each statement of a script but the last (which pages like a single statement)."""
MODES = ("statements", "transaction")
"""How a script runs: one by one, stopping at the first error, or in one transaction."""
_SAVEPOINT = "aishell_run_all"
from aishell.engine import commands
from aishell.engine.commands import files, script
from aishell.engine.commands.variables import interpolate
from aishell.engine.errors import AishellError, ConnectionLost, QueryError
from aishell.tui.controllers import Controller
from aishell.tui.widgets.result_tabs import MAX_TABS
from aishell.tui.messages import (
    BackslashDone,
    ColumnsReady,
    QueryFailed,
    QueryFinished,
    QueryStarted,
    ResultReleased,
    ResultStarted,
    RowsFetched,
    ScriptFinished,
    ScriptStarted,
    TransactionChanged,
    Watching,
)


WATCH_ROWS = 10_000
"""Rows each ``\\watch`` run keeps: what a person can read, refreshed every few seconds."""


class QueryController(Controller):
    """One statement at a time: a new one replaces the running one (worker group ``query``)."""

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self._need: asyncio.Event | None = None
        self._paused = False
        self._ahead = 0
        """Rows the grid asked for beyond the next page: streamed without waiting (End)."""
        self._watching = False
        self.sql = ""
        """The statement last run: exported again in full while it streams, learned when done."""
        self._view = ("", "")
        """(wrapped statement, the statement it wraps) of the last :meth:`run_view`."""
        self.commands = commands.Context(session=None)
        """What backslash commands share for as long as the app runs (variables, settings)."""
        self._current_script: object | None = None
        self.mode = screen.app.settings.ui.run_all if screen.app.settings.ui.run_all in MODES else MODES[0]
        """How scripts run (:data:`MODES`; ``ui.run_all`` in the settings, Shift-F6 switches)."""

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
        self.commands.last_statement = sql
        self.start(self._stream(sql, line, column), group="query", name="run_query")

    def watch(self, sql: str, watch: Any) -> None:
        """psql's ``\\watch``: run ``sql`` every ``watch.seconds`` until Escape (or
        ``watch.count`` times), each run's result replacing the last."""
        self.start(self._watch(sql, watch), group="query", name="watch")

    @property
    def watching(self) -> bool:
        """``\\watch`` is running: Escape stops it."""
        return self._watching

    def run_script(self, text: str, line: int = 1, column: int = 1) -> None:
        """Run ``text``, typed at ``line``/``column`` of the buffer, statement by statement in
        :attr:`mode`: one result a statement, stopping at the first error."""
        self.start(self._script(text, (line, column)), group="query", name="run_script")

    def toggle_mode(self) -> str:
        """Switch between statement by statement and one transaction; the new mode."""
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        return self.mode

    def more(self, rows: int = 0) -> None:
        """The grid wants the next page, or ``rows`` more without waiting between pages
        (fetching to the end)."""
        self._ahead = max(self._ahead, rows)
        if self._need is not None:
            self._need.set()

    def stop(self) -> None:
        """Stop fetching: the server's cursor closes, the rows already shown stay."""
        self.screen.workers.cancel_group(self.screen, "query")
        self._need = None

    @property
    def scripting(self) -> bool:
        """A script (Run all, ``\\i``) is running: Escape stops it."""
        return self._current_script is not None

    async def cancel(self) -> bool:
        """Cancel the running statement on the server (a script stops at it: it fails); between
        two statements of a script, stop the script. True if there was something to stop."""
        session = self.session
        cancelled = await session.cancel() if session is not None else False
        if self._watching or (not cancelled and self._current_script is not None):
            # a watch stops even when the cancel reached a run that was already ending (it went on
            # to the next run: Escape pressed under load left the watch running)
            self.screen.workers.cancel_group(self.screen, "query")
            return True
        return cancelled

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
        self.start(self._view_stream(sql, base), group="query", name="run_view")
        return ""

    async def _view_stream(self, sql: str, base: str) -> None:
        """The wrapped statement streamed; memory keeps the statement the user ran, not the
        wrapper the app built around it."""
        async with self.session.typed(base):
            await self._stream(sql, None, None)

    # -- workers ----------------------------------------------------------------------------------

    async def _watch(self, sql: str, watch: Any) -> None:
        """Each run keeps up to :data:`WATCH_ROWS` rows (the cursor then closes: a watch holds
        no snapshot between runs); a failed run ends the watch."""
        self._watching = True
        runs = 0
        try:
            while True:
                if not await self._stream(sql, None, None, keep=WATCH_ROWS):
                    return
                runs += 1
                if watch.count is not None and runs >= watch.count:
                    return
                self.post(Watching(time.strftime("%H:%M:%S"), watch.seconds))
                await asyncio.sleep(watch.seconds)
        finally:
            self._watching = False
            self.post(Watching(time.strftime("%H:%M:%S"), 0))

    async def _stream(self, sql: str, line: int | None, column: int | None, *, keep: int | None = None, where: str = "") -> bool:
        """The first page at once, the next ones when the grid asks (:meth:`more`); with
        ``keep``, pages without waiting up to that many rows, then the cursor closes (a
        script's statement that is not its last). ``line``/``column``: where ``sql`` starts in
        the buffer (None: not typed there); ``where`` names its file and line in errors.
        False when it failed."""
        session = self.session
        self.sql = sql
        need = self._need = asyncio.Event() if keep is None else None
        self._ahead = 0
        self.post(QueryStarted(sql))
        started = time.perf_counter()
        idle = self.screen.app.settings.ui.release_result_after or None
        released: int | None = None
        kept = 0
        try:
            async with session.stream(sql) as rows:
                self.post(ColumnsReady([(c.name, c.type_name) for c in rows.columns]))
                async for page in rows:
                    self.post(RowsFetched(page))
                    kept += len(page)
                    if need is None:
                        if kept >= keep:  # type: ignore[operator]
                            released = kept
                            break
                        continue
                    if self._ahead > len(page):
                        self._ahead -= len(page)
                        continue
                    self._ahead = 0
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
            if released is not None and need is None:
                elapsed = (time.perf_counter() - started) * 1000
                self.post(QueryFinished(released, elapsed, f"first {released:,} rows kept (not the last statement)"))
            elif released is not None:
                self.post(ResultReleased(released, idle))
        except AishellError as exc:
            self.post(_failure(exc, line, column, where))
            return False
        finally:
            if need is not None and self._need is need:
                self._need = None
            self.post(TransactionChanged(session.transaction))
        return True

    async def _to_output(self, sql: str, path: str, line: int | None, column: int | None, *, where: str = "") -> bool:
        """``\\o FILE`` in a script: the result appended to ``path`` (in the format its name asks
        for, as ``aishell run -f`` writes it); its tab says where it went. False when it failed."""
        from aishell.tui.output import open_output, write_result

        self.post(QueryStarted(sql))
        started = time.perf_counter()
        try:
            fmt, out = open_output(path)
            with out:
                rowcount, status = await write_result(self.session.stream(sql), fmt, out)
        except AishellError as exc:
            self.post(_failure(exc, line, column, where))
            return False
        except OSError as exc:
            self.post(QueryFailed("", f"\\o {path}: {exc.strerror or exc}"))
            return False
        finally:
            self.post(TransactionChanged(self.session.transaction))
        self.post(QueryFinished(rowcount, (time.perf_counter() - started) * 1000, f"{status} · written to {path}"))
        return True

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
        if outcome.action == script.INCLUDE:  # \\i FILE: its statements run like Run all
            await self._script(line, None)
            return
        self.post(BackslashDone(outcome, (time.perf_counter() - started) * 1000))

    async def _script(self, text: str, at: tuple[int, int] | None) -> None:
        """Each step of ``text`` in turn (``at``: where it starts in the buffer; None for a
        ``\\i`` typed alone), one result a step, until one fails. In ``transaction`` mode
        they run in one transaction (a savepoint inside one already open), undone on error."""
        session = self.session
        self.commands.session = session
        mode = self.mode if session.driver.MANUAL_COMMIT else MODES[0]
        self.post(ScriptStarted(mode))
        started = time.perf_counter()
        number = 0
        failed: int | None = None
        ends: _Ends | None = None
        steps = script.steps(text, session.dialect)
        running = self._current_script = object()

        def fail(step: script.Step, exc: AishellError, place: tuple[int | None, int | None]) -> None:
            nonlocal number, failed
            number += 1
            failed = number
            self.post(ResultStarted(number, step.text, *place))
            self.post(_failure(exc, None, None, step.where if step.source else ""))

        try:
            if mode == "transaction":
                ends = await _open_transaction(session)
            step = await anext(steps, None)
            while step is not None:
                place = _place(step, at)
                if step.command:
                    ran = time.perf_counter()
                    try:
                        outcome = await commands.run(self.commands, step.text)
                        if outcome.action == "connect":
                            raise commands.CommandError(f"{step.text}: connect on its own, not inside a script")
                    except AishellError as exc:
                        fail(step, exc, place)
                        break
                    step.outcome = outcome
                    if outcome.action == "run":  # \\n NAME: the named query runs as this step
                        number += 1
                        self.post(ResultStarted(number, step.text, *place))
                        if not await self._stream(outcome.argument, None, None, keep=KEPT_ROWS, where=step.where if step.source else ""):
                            failed = number
                            break
                    elif outcome.action is None:
                        number += 1
                        self.post(ResultStarted(number, step.text, *place))
                    # \o changes where the next results go (their tabs say so): it has no result of
                    # its own to put in the tab before it
                    if outcome.action not in (script.INCLUDE, "run", files.OUTPUT):
                        self.post(BackslashDone(outcome, (time.perf_counter() - ran) * 1000))
                    including = step
                    try:
                        step = await anext(steps, None)  # an included file is read here
                    except commands.CommandError as exc:
                        fail(including, exc, place)
                        break
                    continue
                following = await anext(steps, None)  # reading ahead runs nothing
                number += 1
                self.post(ResultStarted(number, step.text, *place))
                # The last result pages as the grid asks (when it has a tab to be shown in).
                last = following is None and ends is None and number <= MAX_TABS
                sql = interpolate(step.text, self.commands.variables)  # psql's :NAME, :'NAME', :"NAME"
                self.commands.last_statement = sql  # what \\watch runs again
                if self.commands.output:  # \o FILE: the result goes to the file, as psql and aishell run -f do
                    done = await self._to_output(sql, self.commands.output, *place, where=step.where if step.source else "")
                else:
                    done = await self._stream(sql, *place, keep=None if last else KEPT_ROWS, where=step.where if step.source else "")
                if not done:
                    failed = number
                    break
                step = following
            if ends is not None:
                await (ends.keep() if failed is None else ends.undo())
        except AishellError as exc:  # BEGIN or COMMIT failed
            if ends is not None and failed is None:
                failed = number + 1
                self.post(ResultStarted(failed, ends.label))
                self.post(_failure(exc, None, None))
                await _quietly(ends.undo())
        except asyncio.CancelledError:
            if ends is not None:
                await asyncio.shield(_quietly(ends.undo()))
            self.post(ScriptFinished(number, (time.perf_counter() - started) * 1000, None, ends is not None, stopped=True))
            raise
        finally:
            if self._current_script is running:
                self._current_script = None
            await steps.aclose()
        self.post(TransactionChanged(session.transaction))
        self.post(ScriptFinished(number, (time.perf_counter() - started) * 1000, failed, ends is not None and failed is not None))


class _Ends:
    """How a script run in one transaction ends: ``keep()`` (COMMIT, or RELEASE of its
    savepoint) or ``undo()``; ``label`` names the first in a failure's tab."""

    __slots__ = ("session", "savepoint", "label")

    def __init__(self, session: Any, savepoint: bool) -> None:
        self.session = session
        self.savepoint = savepoint
        self.label = f"RELEASE SAVEPOINT {_SAVEPOINT}" if savepoint else "COMMIT"

    async def keep(self) -> None:
        if self.savepoint:
            await self.session.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        else:
            await self.session.commit()  # nothing when the script ended the transaction itself

    async def undo(self) -> None:
        if self.savepoint:
            await self.session.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        else:
            await self.session.rollback()


async def _open_transaction(session: Any) -> _Ends:
    """Start what a script in one transaction runs in: BEGIN, or a savepoint when a transaction
    is already open (its earlier work stays)."""
    savepoint = session.transaction.open
    await session.execute(f"SAVEPOINT {_SAVEPOINT}" if savepoint else "BEGIN")
    return _Ends(session, savepoint)


async def _quietly(work: Any) -> None:
    """Undo after a failure: a second failure (the connection went) changes nothing shown."""
    try:
        await work
    except AishellError:
        pass


def _place(step: script.Step, at: tuple[int, int] | None) -> tuple[int | None, int | None]:
    """Where ``step`` starts in the buffer whose text began at ``at`` (None, None: not there)."""
    if at is None or step.source is not None:
        return None, None
    line, column = at
    return line + step.line - 1, step.column + (column - 1 if step.line == 1 else 0)


def _failure(exc: AishellError, line: int | None, column: int | None, where: str = "") -> QueryFailed:
    """The QueryFailed of ``exc`` for a statement typed at ``line``/``column`` of the buffer:
    the server's position moved there (None when unknown or not typed in the buffer);
    ``where`` (``file:line``) leads the message of a statement read from a file."""
    at_line = at_col = None
    text = str(exc)
    if isinstance(exc, QueryError):
        if exc.line_column is not None and line is not None and column is not None:
            err_line, err_col = exc.line_column
            at_line = line + err_line - 1
            at_col = err_col + (column - 1 if err_line == 1 else 0)
        text = exc.message + (f"\n{exc.detail}" if exc.detail else "") + (f"\nHint: {exc.hint}" if exc.hint else "")
    if where:
        text = f"{where}: {text}"
    return QueryFailed(exc.title, text, at_line, at_col, connection_lost=isinstance(exc, ConnectionLost))


__all__ = ["KEPT_ROWS", "MODES", "QueryController"]
