"""Exporting a result to a file for the main screen: the rows the grid holds, or the full result
run again on a connection of its own. Reports with :mod:`tui.messages`: Exported."""

from __future__ import annotations

import asyncio
import queue
from typing import Iterator, Sequence

from aishell.engine.encode import export_rows
from aishell.engine.errors import AishellError
from aishell.tui.controllers import Controller
from aishell.tui.messages import Exported


class ExportController(Controller):
    """One export at a time (worker group ``export``)."""

    def loaded(self, columns: Sequence[tuple[str, str]], rows: Sequence[tuple], fmt: str, path: str) -> None:
        """Write the rows the grid holds."""
        try:
            count = export_rows(columns, rows, fmt, path)
        except (OSError, ValueError) as exc:
            self.post(Exported(path, error=str(exc)))
            return
        self.post(Exported(path, count))

    def full(self, sql: str, fmt: str, path: str) -> None:
        """Run ``sql`` again to ``path``, page by page."""
        self.start(self._export(sql, fmt, path), group="export", name="export_full")

    async def _export(self, sql: str, fmt: str, path: str) -> None:
        """Pages go from the stream to a writer thread through a small queue (memory bounded)."""
        pages: queue.Queue = queue.Queue(maxsize=4)
        failed = object()

        def stream_rows() -> Iterator[tuple]:
            while True:
                page = pages.get()
                if page is None:
                    return
                if page is failed:
                    raise OSError("the export was interrupted")
                yield from page

        try:
            async with self.session.stream(sql) as rows:
                columns = [(c.name, c.type_name) for c in rows.columns]
                writer = asyncio.ensure_future(asyncio.to_thread(export_rows, columns, stream_rows(), fmt, path))
                try:
                    async for page in rows:
                        await asyncio.to_thread(pages.put, page)
                except BaseException:
                    await asyncio.to_thread(pages.put, failed)
                    raise
                await asyncio.to_thread(pages.put, None)
                total = await writer
        except (AishellError, OSError, ValueError) as exc:
            self.post(Exported(path, error=str(exc)))
            return
        self.post(Exported(path, total))


__all__ = ["ExportController"]
