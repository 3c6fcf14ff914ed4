"""Measurements for ``aishell bench results``, run in a child process (one figure a process).

    python -m aishell.tui.bench.grid first-rows grid|datatable
    python -m aishell.tui.bench.grid memory grid|tuples ROWS

``first-rows`` prints the seconds from handing the first page (1,000 rows) to the widget until
a frame showing them has been composed, in a headless 120×36 app. ``memory`` prints the growth of
the resident set, in bytes, after loading ROWS rows in pages of 1,000 into a ResultsGrid, or into
a plain list of tuples (what a grid keeping the rows as they come holds). Rows look like a
PostgreSQL result: int, 32-character text, numeric, timestamptz. Output: one JSON object.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import gc
import hashlib
import json
import os
import sys
import time
from typing import Any

PAGE = 1000
COLUMNS = [("id", "int4"), ("label", "text"), ("amount", "numeric"), ("created_at", "timestamptz")]
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
_STEP = decimal.Decimal("1.5")


def page(start: int, stop: int) -> list[tuple[Any, ...]]:
    """Rows start..stop-1 (fresh objects, as a driver would hand them over)."""
    return [
        (i, hashlib.md5(str(i).encode()).hexdigest(), (i % 1000) * _STEP, _EPOCH + dt.timedelta(seconds=i))
        for i in range(start, stop)
    ]


def rss() -> int:
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def first_rows(kind: str) -> float:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from aishell.tui.widgets.results import ResultsGrid

    class Harness(App[None]):
        def compose(self) -> ComposeResult:
            yield ResultsGrid(page_size=PAGE) if kind == "grid" else DataTable()

    app = Harness()
    rows = page(0, PAGE)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        if kind == "grid":
            grid = app.query_one(ResultsGrid)
            grid.set_columns(COLUMNS)
            grid.append_rows(rows)
        else:
            table = app.query_one(DataTable)
            table.add_columns(*(name for name, _ in COLUMNS))
            table.add_rows(rows)
        await pilot.pause()
        screen = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        elapsed = time.perf_counter() - start
        if rows[0][1] not in screen:
            raise RuntimeError(f"the first row is not on screen ({kind})")
    return elapsed


async def memory(kind: str, total: int) -> int:
    gc.collect()
    if kind == "tuples":
        before = rss()
        kept: list[tuple[Any, ...]] = []
        for start in range(0, total, PAGE):
            kept.extend(page(start, min(start + PAGE, total)))
        gc.collect()
        grown = rss() - before
        assert len(kept) == total
        return grown

    from textual.app import App, ComposeResult

    from aishell.tui.widgets.results import ResultsGrid

    class Harness(App[None]):
        def compose(self) -> ComposeResult:
            yield ResultsGrid(page_size=PAGE)

    app = Harness()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        grid = app.query_one(ResultsGrid)
        gc.collect()
        before = rss()
        grid.set_columns(COLUMNS)
        for start in range(0, total, PAGE):
            grid.append_rows(page(start, min(start + PAGE, total)))
        grid.finish(total, 0.0, f"SELECT {total}")
        await pilot.pause()
        gc.collect()
        grown = rss() - before
        assert grid.row_count == total
    return grown


def main(argv: list[str]) -> int:
    what, kind = argv[0], argv[1]
    if what == "first-rows":
        print(json.dumps({"seconds": asyncio.run(first_rows(kind))}))
    elif what == "memory":
        print(json.dumps({"bytes": asyncio.run(memory(kind, int(argv[2])))}))
    else:
        raise SystemExit(f"unknown measurement {what!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
