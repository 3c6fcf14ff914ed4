"""Writing results to files for the main screen: a grid's result (the rows it holds, or the full
result run again), the progress of a ``\\copy``, and each result while ``\\o FILE`` is on.

One export at a time (worker group ``export``), through the one encoder
(:class:`aishell.engine.encode.RowFile`), so a file holds what ``aishell run`` prints. When the
grid holds only part of an open result, the user chooses the loaded rows or the full result
(:class:`~aishell.tui.screens.export.ExportScopeScreen`); the full result is streamed on a
connection of its own, so the grid keeps its rows and its open result meanwhile. Long exports
report TransferProgress and stop on :meth:`ExportController.cancel` (Escape), leaving no file.
Reports with :mod:`tui.messages`: TransferProgress, Exported.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any, Sequence

from aishell.engine.encode import ExportError, RowFile
from aishell.engine.errors import AishellError
from aishell.tui.controllers import Controller
from aishell.tui.messages import Exported, TransferProgress

PAGE = 5000
"""Rows a page: fetched a round trip, written a call."""
REPORT_INTERVAL = 0.25
"""Seconds between two progress reports."""


class ExportController(Controller):
    """Exports started by the grid's ``e`` key, and the progress of ``\\copy``."""

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self._stop = threading.Event()
        self.running = False
        """An export is under way (Escape cancels it)."""
        self.progress = _Reporter(self)
        """``\\copy``'s progress callback (the commands' Context holds it)."""

    def requested(self, grid: Any, fmt: str, path: str, *, sql: str | None) -> None:
        """The grid asked to export its result; ``sql`` is the statement behind it when the
        result can be run again (None: only what the grid holds)."""
        if self.running:
            self.post(Exported(path, error="an export is already running (Escape stops it)"))
            return
        if grid.complete or not sql:
            self.loaded(grid.columns, grid.rows, grid.row_count, fmt, path)
            return
        from aishell.tui.screens.export import FULL, LOADED, ExportScopeScreen

        columns, rows, count = list(grid.columns), grid.rows, grid.row_count

        def chosen(choice: str | None) -> None:
            if choice == LOADED:
                self.loaded(columns, rows, count, fmt, path)
            elif choice == FULL:
                self.full(sql, fmt, path)

        self.screen.app.push_screen(ExportScopeScreen(path, count), chosen)

    def loaded(self, columns: Sequence[tuple[str, str]], rows: Sequence[Any], count: int, fmt: str, path: str) -> None:
        """Write the first ``count`` of ``rows`` (what the grid holds), a page at a time."""
        self._begin()
        self.start(self._write_loaded(list(columns), rows, count, fmt, path), group="export", name="export_loaded")

    def full(self, sql: str, fmt: str, path: str) -> None:
        """Run ``sql`` again and stream every row to ``path``."""
        session = self.session
        if session is not None and session.pinned and self.screen.query_runner.rows_waiting:
            # The kept connection (a transaction, SET…) serves one result at a time: the grid's
            # open result is closed first, its loaded rows stay.
            self.screen.stop_result()
        self._begin()
        self.start(self._export(sql, fmt, path), group="export", name="export_full")

    def to_output(self, sql: str, path: str) -> None:
        """``\\o FILE`` is on: append the result of ``sql`` to ``path``, as ``aishell run`` prints it."""
        self._begin()
        self.start(self._append(sql, path), group="export", name="export_output")

    def cancel(self) -> bool:
        """Stop the running export (its file is not written); False when none runs."""
        if not self.running:
            return False
        self._stop.set()
        self.screen.workers.cancel_group(self.screen, "export")
        return True

    def _begin(self) -> None:
        self._stop.clear()
        self.running = True

    def _ended(self, message: Exported) -> None:
        self.running = False
        self.post(message)

    # -- workers ----------------------------------------------------------------------------------

    async def _write_loaded(self, columns: list[tuple[str, str]], rows: Sequence[Any], count: int, fmt: str, path: str) -> None:
        what = f"Exporting to {os.path.basename(path)}"
        report = _Throttle()
        try:
            out = RowFile(path, fmt, columns)
        except (ExportError, OSError) as exc:
            self._ended(Exported(path, error=_one_line(exc)))
            return
        try:
            for start in range(0, count, PAGE):
                if self._stop.is_set():
                    raise asyncio.CancelledError
                page = [rows[i] for i in range(start, min(start + PAGE, count))]
                await asyncio.to_thread(out.write, page)
                if report():
                    self.post(TransferProgress(what, out.rows))
            await asyncio.to_thread(out.close)
        except asyncio.CancelledError:
            out.abort()
            self._ended(Exported(path, out.rows, cancelled=True))
            raise
        except (ExportError, OSError, ValueError) as exc:
            out.abort()
            self._ended(Exported(path, error=_one_line(exc)))
            return
        self._ended(Exported(path, out.rows))

    async def _export(self, sql: str, fmt: str, path: str) -> None:
        what = f"Exporting to {os.path.basename(path)}"
        report = _Throttle()
        out: RowFile | None = None
        self.post(TransferProgress(what, 0))
        try:
            async with self.session.stream(sql, page_size=PAGE) as rows:
                out = RowFile(path, fmt, [(c.name, c.type_name) for c in rows.columns])
                async for page in rows:
                    await asyncio.to_thread(out.write, page)
                    if report():
                        self.post(TransferProgress(what, out.rows))
                await asyncio.to_thread(out.close)
        except asyncio.CancelledError:
            if out is not None:
                out.abort()
            self._ended(Exported(path, out.rows if out else 0, cancelled=True))
            raise
        except (AishellError, OSError, ValueError) as exc:
            if out is not None:
                out.abort()
            self._ended(Exported(path, error=_one_line(exc)))
            return
        self._ended(Exported(path, out.rows if out else 0))


    async def _append(self, sql: str, path: str) -> None:
        from aishell.tui.output import open_output, writer_for

        what = f"Writing to {os.path.basename(path)}"
        report = _Throttle()
        count = 0
        started = time.perf_counter()
        try:
            fmt, out = open_output(path)
            with out:
                async with self.session.stream(sql, page_size=PAGE) as rows:
                    writer = writer_for(fmt, out, rows.columns)
                    writer.start()
                    async for page in rows:
                        await asyncio.to_thread(writer.rows, page)
                        count += len(page)
                        if report():
                            self.post(TransferProgress(what, count))
                    writer.finish(rows.rowcount, (time.perf_counter() - started) * 1000, rows.status)
        except asyncio.CancelledError:
            self._ended(Exported(path, count, cancelled=True))
            raise
        except (AishellError, OSError, ValueError) as exc:
            self._ended(Exported(path, error=_one_line(exc)))
            return
        self._ended(Exported(path, count))


class _Throttle:
    """True at most every REPORT_INTERVAL seconds."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = time.monotonic() + REPORT_INTERVAL

    def __call__(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + REPORT_INTERVAL
        return True


class _Reporter:
    """``\\copy``'s progress (rows, bytes, total bytes) as TransferProgress messages."""

    __slots__ = ("_controller",)

    def __init__(self, controller: ExportController) -> None:
        self._controller = controller

    def __call__(self, rows: int, size: int, total: int | None) -> None:
        self._controller.post(TransferProgress("\\copy", rows, size, total))


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename or ''}: {exc.strerror}".lstrip(": ")
    return text.splitlines()[0]


__all__ = ["ExportController"]
