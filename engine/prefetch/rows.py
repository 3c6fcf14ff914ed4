"""A result already in memory, read as a stream: how a front end that streams every statement
(the workbench) is served what prefetch ran ahead.

>>> import asyncio
>>> from aishell.engine.types import Column, QueryResult
>>> rows = ResultRows(QueryResult((Column("n", "int4"),), [(1,), (2,), (3,)], 3, "SELECT 3"), page_size=2)
>>> async def pages():
...     return [page async for page in rows]
>>> asyncio.run(pages()), rows.rowcount, rows.status
([[(1,), (2,)], [(3,)]], 3, 'SELECT 3')
"""

from __future__ import annotations

from typing import AsyncIterator

from aishell.engine.types import QueryResult


class ResultRows:
    """A :class:`engine.drivers.base.RowStream` over a whole :class:`QueryResult`: pages of
    ``page_size`` rows, no cursor and no snapshot held."""

    holds_snapshot = False
    cached = True
    """Served from the result cache, not read from the server now."""

    def __init__(self, result: QueryResult, *, page_size: int) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {page_size!r}")
        self.columns = tuple(result.columns)
        self.rowcount = result.rowcount
        self.status = result.status
        self._rows = result.rows
        self._page_size = page_size

    async def __aiter__(self) -> AsyncIterator[list[tuple]]:
        rows, size = self._rows, self._page_size
        for start in range(0, len(rows), size):
            yield list(rows[start:start + size])


__all__ = ["ResultRows"]
