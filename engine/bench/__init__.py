"""`aishell bench`: each benchmark side by side with a baseline measured in the same run.

A benchmark is a module ``engine/bench/<name>.py`` with ``NAME`` and ``async def run(ctx) ->
list[BenchResult]``; modules are discovered, so adding one needs no registry edit. ``ratio``
is always "how many times better than the baseline" (>1 means we win), whatever the unit.
"""

from __future__ import annotations

import importlib
import pkgutil
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable

UNITS = ("s", "ms", "us", "ns", "rows/s", "ops/s", "MB", "ratio")
_NOT_BENCHMARKS = {"pgtemp", "report", "timing"}


@dataclass(slots=True)
class BenchResult:
    """One figure against its baseline. ``higher_is_better`` decides the ratio's direction."""

    name: str
    metric: str
    value: float
    unit: str
    baseline: str
    baseline_value: float | None
    higher_is_better: bool = False
    target: str = ""
    ratio: float | None = field(default=None)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit {self.unit!r} not one of {UNITS}")
        if self.ratio is None and self.baseline_value not in (None, 0) and self.value:
            if self.higher_is_better:
                self.ratio = self.value / self.baseline_value
            else:
                self.ratio = self.baseline_value / self.value

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("higher_is_better")
        data["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        return data


@dataclass(slots=True)
class BenchContext:
    """What a benchmark may use: a PostgreSQL URL (given or a throwaway cluster) and a scratch dir."""

    pg_url: str | None
    workdir: str
    quick: bool = False


def available() -> list[str]:
    """Names of the benchmark modules, in run order."""
    import aishell.engine.bench as package

    names = [m.name for m in pkgutil.iter_modules(package.__path__) if m.name not in _NOT_BENCHMARKS and not m.name.startswith("_")]
    order = ["startup", "run", "pool", "cache", "analyzer", "memory"]
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def load(name: str) -> Any:
    return importlib.import_module(f"aishell.engine.bench.{name}")


def median_time(fn: Callable[[], Any], *, repeat: int, number: int = 1) -> float:
    """Median seconds of one call of ``fn`` over ``repeat`` samples of ``number`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


async def median_time_async(fn: Callable[[], Awaitable[Any]], *, repeat: int, number: int = 1) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            await fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)
