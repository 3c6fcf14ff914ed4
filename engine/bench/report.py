"""The `aishell bench` report: an aligned text table and the JSON document DESIGN.md fixes.

>>> from aishell.engine.bench import BenchResult
>>> print(render_table([BenchResult("cache.hit", "get by SQL text", 2.5, "us", "cachetools.LRUCache", 3.1,
...                                 target="≤ 10 µs")]))  # doctest: +NORMALIZE_WHITESPACE
name       metric           value    baseline             baseline value  ratio  target
cache.hit  get by SQL text  2.50 us  cachetools.LRUCache  3.10 us         1.24×  ≤ 10 µs
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from aishell.engine.bench import BenchResult

JSON_KEYS = ("name", "metric", "value", "unit", "baseline", "baseline_value", "ratio")
HEADERS = ("name", "metric", "value", "baseline", "baseline value", "ratio", "target")


def render_table(results: list[BenchResult]) -> str:
    """Results as an aligned text table: name, metric, value with unit, baseline, its value, ratio, target.

    The ratio is "times better than the baseline" (>1: we win), printed as ``1.24×``.
    """
    if not results:
        return "no results"
    rows = [HEADERS]
    for r in results:
        rows.append((
            r.name,
            r.metric,
            format_value(r.value, r.unit),
            r.baseline,
            "" if r.baseline_value is None else format_value(r.baseline_value, r.unit),
            "–" if r.ratio is None else f"{r.ratio:.2f}×",
            r.target,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    numeric = {2, 4, 5}
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if (i in numeric and n) else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def to_json(results: Iterable[BenchResult]) -> dict[str, Any]:
    """``{"results": [{"name", "metric", "value", "unit", "baseline", "baseline_value", "ratio"}]}``."""
    out = []
    for r in results:
        data = r.as_json()
        out.append({key: data[key] for key in JSON_KEYS})
    return {"results": out}


def format_value(value: float, unit: str) -> str:
    """``1,234,567 rows/s``, ``12.3 ms``, ``0.0123 ms``: precision by magnitude."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.1f}"
    elif magnitude >= 1 or magnitude == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}"
