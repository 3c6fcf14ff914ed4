"""The workbench's and the command line's own benchmarks, beside the UI they measure.

Same contract as :mod:`aishell.engine.bench` (a module with ``NAME``, ``NEEDS_PG`` and
``async def run(ctx) -> list[BenchResult]``); ``aishell bench`` discovers the modules of both
packages (:data:`aishell.tui.cli.bench.PACKAGES`). ``grid`` is not a benchmark but the child
process ``results`` measures in.
"""

NOT_BENCHMARKS = frozenset({"grid"})
