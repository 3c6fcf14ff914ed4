"""Top statements as deltas: what each statement cost since the pane started watching, beside
its totals since the statistics were reset.

The first sample is the baseline. A statement first seen later is new when the baseline listed
every statement (fewer than the limit), else it was only outside the top and its first sighting
becomes its baseline. Totals going down mean a reset: the baseline starts again.

>>> from aishell.engine.drivers.server import StatementStat, Statements
>>> def s(calls, ms):
...     return Statements((StatementStat((1,), "SELECT $1", "db", calls, ms, calls, 0, 0),))
>>> watch = StatementWatch(limit=200)
>>> _ = watch.update(s(10, 50.0))
>>> row = watch.update(s(14, 70.0))[0]
>>> row.calls, row.total_ms, row.stat.calls
(4, 20.0, 14)
"""

from __future__ import annotations

from dataclasses import dataclass

from aishell.engine.drivers.server import StatementStat, Statements


@dataclass(frozen=True, slots=True)
class StatementDelta:
    """A statement's cost while watched (``calls``… ``blocks_read``) and its totals (``stat``)."""

    stat: StatementStat
    calls: int
    total_ms: float
    rows: int
    blocks_hit: int
    blocks_read: int

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


class StatementWatch:
    """Keeps the baseline of each statement between samples."""

    __slots__ = ("_baseline", "_complete", "_limit")

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._baseline: dict[tuple, StatementStat] | None = None
        self._complete = False

    def restart(self) -> None:
        """Count from the next sample on."""
        self._baseline = None

    def update(self, sample: Statements) -> list[StatementDelta]:
        """The deltas of ``sample``, the costliest while watched first (then by total time)."""
        if self._baseline is None or any(s.calls < self._baseline[s.key].calls for s in sample.stats if s.key in self._baseline):
            self._baseline = {s.key: s for s in sample.stats}
            self._complete = len(sample.stats) < self._limit
        rows = []
        for stat in sample.stats:
            base = self._baseline.get(stat.key)
            if base is None:
                if not self._complete:
                    self._baseline[stat.key] = base = stat
                else:
                    base = StatementStat(stat.key, stat.query, stat.database, 0, 0.0, 0, 0, 0)
            rows.append(StatementDelta(
                stat, stat.calls - base.calls, stat.total_ms - base.total_ms, stat.rows - base.rows,
                stat.blocks_hit - base.blocks_hit, stat.blocks_read - base.blocks_read,
            ))
        rows.sort(key=lambda r: (-r.total_ms, -r.stat.total_ms))
        return rows
