"""Prefetch and cache warming: the statement that usually follows the user's read, run ahead.

Memory knows which statement followed which on each database (:mod:`.successors` counts the
pairs by the first one's shape). After the user runs a read, :class:`Prefetcher` runs its usual
successor in the background on a read-only connection of its own, when the statement may run
unasked (:func:`.safety.refusal`: deterministic, read-only, no parameters, judged on its sqlglot
tree) and the planner expects it to be cheap (:func:`engine.analyzer.plan_cost.estimated_cost` under
``cache.prefetch_max_cost``); the result waits in the query cache (:mod:`engine.cache`) for the
user. At connect it warms the cache with the most repeated cheap reads. Off by default
(``[cache] prefetch = true`` turns it on); the session hooks it in and the Metrics pane shows
its hits and the load it added.

>>> refusal("SELECT * FROM orders WHERE placed_at > now() - interval '1 day'", "postgres")
'volatile function CurrentTimestamp'
"""

from __future__ import annotations

from aishell.engine.prefetch.rows import ResultRows
from aishell.engine.prefetch.runner import Prefetcher
from aishell.engine.analyzer.plan_cost import estimated_cost
from aishell.engine.prefetch.safety import refusal
from aishell.engine.prefetch.successors import Successors

__all__ = ["Prefetcher", "ResultRows", "Successors", "estimated_cost", "refusal"]
