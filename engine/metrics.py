"""Cheap live metrics: a sliding window of latencies and the snapshot objects the TUI reads.

Recording is a store into a preallocated ring and an index bump (no lock, no allocation: the
engine runs on one event loop). Percentiles are computed only when a snapshot is taken.

>>> w = LatencyWindow(4)
>>> for v in (0.001, 0.002, 0.003, 0.004, 0.005):
...     w.record(v)
>>> w.percentiles()
(0.0035, 0.00485, 0.00497)
"""

from __future__ import annotations

from dataclasses import dataclass


class LatencyWindow:
    """The last ``size`` samples (seconds) in a ring buffer."""

    __slots__ = ("_samples", "_size", "_next", "count")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"latency window size must be >= 1, got {size!r}")
        self._size = size
        self._samples = [0.0] * size
        self._next = 0
        self.count = 0
        """Samples recorded since creation (not only those in the window)."""

    def record(self, value: float) -> None:
        i = self._next
        self._samples[i] = value
        self._next = i + 1 if i + 1 < self._size else 0
        self.count += 1

    def values(self) -> list[float]:
        """The samples in the window, oldest first order not guaranteed."""
        n = min(self.count, self._size)
        return self._samples[:n] if n < self._size else list(self._samples)

    def percentiles(self, qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> tuple[float, ...]:
        """Linear-interpolated quantiles of the window; zeros when nothing was recorded."""
        data = sorted(self.values())
        if not data:
            return tuple(0.0 for _ in qs)
        last = len(data) - 1
        out = []
        for q in qs:
            pos = q * last
            lo = int(pos)
            hi = min(lo + 1, last)
            out.append(round(data[lo] + (data[hi] - data[lo]) * (pos - lo), 9))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """The pool at one moment. Latencies and lifetimes are in seconds."""

    backend: str
    """``postgres`` or ``sqlite``."""
    size: int
    """Open connections."""
    min_size: int
    max_size: int
    in_use: int
    """Connections lent out right now."""
    idle: int
    """Open connections waiting in the pool."""
    waiters: int
    """Callers waiting for a connection right now."""
    acquisitions: int
    releases: int
    timeouts: int
    """Acquires that gave up after the acquire timeout."""
    errors: int
    """Acquires or statements that failed because a connection could not be made or broke."""
    acquire_p50: float
    acquire_p95: float
    acquire_p99: float
    peak_in_use: int
    opened: int
    """Connections opened since start (replacements included)."""
    closed: int
    """Connections closed since start (recycled, broken or idle)."""
    lifetime_avg: float
    """Mean age of the connections closed so far (0 when none closed)."""
    lifetime_max: float
    """Age of the oldest connection open now."""
    breaker: str
    """``closed`` (normal), ``open`` (failing fast) or ``half-open`` (one trial allowed)."""
    breaker_failures: int
    """Consecutive connection failures counted by the breaker."""

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class CacheSnapshot:
    """The query-result cache at one moment."""

    hits: int
    misses: int
    hit_rate: float
    """hits / (hits + misses), 0 before any lookup."""
    entries: int
    bytes: int
    """Approximate size of the cached results."""
    max_entries: int
    max_bytes: int
    evictions: int
    """Entries dropped to stay within the bounds (LRU) or because they expired."""
    invalidations: int
    """Entries dropped because a table they read was written or changed."""
    uncacheable: int
    """Lookups of statements that may not be cached (writes, volatile functions, ...)."""
    prefetch_hits: int | None = None
    """Statements served from a result prefetch ran ahead of them (None: prefetch is off)."""
    prefetch_saved_ms: float | None = None
    """What those results took to run: the waiting the hits saved."""
    prefetch_runs: int | None = None
    """The extra load: statements prefetch ran (its EXPLAINs not counted) ..."""
    prefetch_ms: float | None = None
    """... and the time its connection spent on them and their plans."""

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


__all__ = ["LatencyWindow", "PoolSnapshot", "CacheSnapshot"]
