"""`aishell bench`: each benchmark side by side with a baseline measured in the same run.

A benchmark is a module ``engine/bench/<name>.py`` with ``NAME`` and ``async def run(ctx) ->
list[BenchResult]``; modules are discovered, so adding one needs no registry edit. Front ends
keep their own benchmarks in their own package and pass it to :func:`available` and
:func:`load` beside this one (the engine knows no front end). ``ratio`` is always "how many
times better than the baseline" (>1 means we win), whatever the unit.
"""

from __future__ import annotations

import importlib
import pkgutil
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable, Sequence

UNITS = ("s", "ms", "us", "ns", "rows/s", "ops/s", "MB", "B/s", "ratio")
NOT_BENCHMARKS = frozenset({"pgtemp", "mongotemp", "report", "timing"})
"""Modules of this package that are helpers, not benchmarks (any package may say the same)."""


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
    cli: tuple[str, ...] = ()
    """The command that starts the ``aishell`` command line, given by the front end running the
    benchmarks; figures that time the command line are left out without it."""
    cases: frozenset[str] = frozenset()
    """Optional cases asked for by name (``memory-1m``): big ones, minutes each, never in a
    default run."""


def available(packages: Sequence[str] = (__name__,)) -> list[str]:
    """Names of the benchmark modules in ``packages``, in run order."""
    names = list(_modules(packages))
    order = ["startup", "run", "pool", "cache", "analyzer", "memory"]
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def load(name: str, packages: Sequence[str] = (__name__,)) -> Any:
    """The benchmark module called ``name`` (from the first of ``packages`` holding one)."""
    package = _modules(packages).get(name)
    if package is None:
        raise ModuleNotFoundError(f"no benchmark named {name!r}")
    return importlib.import_module(f"{package}.{name}")


def _modules(packages: Sequence[str]) -> dict[str, str]:
    """Benchmark name -> the package holding it; the first package wins a name."""
    found: dict[str, str] = {}
    for package in packages:
        imported = importlib.import_module(package)
        helpers = getattr(imported, "NOT_BENCHMARKS", frozenset())
        for module in pkgutil.iter_modules(imported.__path__):
            if module.name not in helpers and not module.name.startswith("_"):
                found.setdefault(module.name, package)
    return found


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
