"""The results pane: first rows on screen and memory held for a million-row result.

Each figure is measured in its own child process running :mod:`aishell.tui.bench.grid` (this
module imports no Textual), side by side with its baseline in the same run:

- first 1,000 rows on screen in a headless 120×36 app: ResultsGrid against Textual's DataTable
  (median of three processes each);
- resident-set growth after loading 1,000,000 rows (200,000 with ``--quick``) in pages of 1,000:
  ResultsGrid (rows packed in chunks) against the same rows kept as a list of Python tuples.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys

from aishell.engine.bench import BenchContext, BenchResult

NAME = "results"
NEEDS_PG = False


async def _child(*args: str) -> dict:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aishell.tui.bench.grid", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench grid {' '.join(args)} failed: {err.decode(errors='replace').strip()[-500:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


async def run(ctx: BenchContext) -> list[BenchResult]:
    rows = 200_000 if ctx.quick else 1_000_000
    grid_first = statistics.median([(await _child("first-rows", "grid"))["seconds"] for _ in range(3)])
    table_first = statistics.median([(await _child("first-rows", "datatable"))["seconds"] for _ in range(3)])
    grid_bytes = (await _child("memory", "grid", str(rows)))["bytes"]
    tuple_bytes = (await _child("memory", "tuples", str(rows)))["bytes"]
    megabyte = 1024 * 1024
    return [
        BenchResult(
            "results.first_rows", "first 1,000 rows on screen (ResultsGrid, 120x36)", grid_first * 1000, "ms",
            "Textual DataTable, same rows", table_first * 1000, target="<= 300 ms",
        ),
        BenchResult(
            "results.memory", f"RSS growth holding {rows:,} rows (ResultsGrid)", grid_bytes / megabyte, "MB",
            "the same rows as a list of Python tuples", tuple_bytes / megabyte, target="<= 150 MB",
        ),
    ]
