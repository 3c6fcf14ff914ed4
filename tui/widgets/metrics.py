"""Metrics pane: live connection-pool and result-cache figures with sparklines.

The app calls ``update_metrics`` with the latest snapshots (twice a second); the pane keeps a
short history for the sparklines (acquire latency p95, connections in use, cache hit rate) of
the intervals in which the pool or the cache was used, so an idle pane stands still and writes
nothing to the terminal; a figure is redrawn only when it changes. A missing snapshot shows a
clear "not available" state; a missing key shows "–".
Nothing is ever estimated or made up. Figures are `label value` cells laid out as many a line as
the pane is wide (one a line in a narrow side pane); waiters, timeouts and errors stand out.

Public API (the app codes against exactly this)::

    pane = MetricsPane(history=120)
    pane.update_metrics(pool: dict | None, cache: dict | None)
    pane.reset_history()

Pool keys read (all optional): backend, size, min_size, max_size, in_use, idle, waiters,
acquisitions, releases, timeouts, errors, peak_in_use, opened, closed, breaker ("closed",
"open", "half-open"), breaker_failures; acquire latency as ``acquire_p50_ms`` (milliseconds),
``acquire_p50`` (seconds, as in engine.metrics.PoolSnapshot) or a nested dict under
``acquire_latency``/``latency``/``acquire`` with ``p50_ms`` (ms) or ``p50`` (seconds, or ms
when the dict's own key ends in ``_ms``); the same for p95 and p99.
Cache keys read (all optional): hits, misses, hit_rate (0–1), entries, max_entries, bytes,
max_bytes, evictions, invalidations, uncacheable; with prefetch on, prefetch_hits, prefetch_saved_ms
(what the hits saved), prefetch_runs and prefetch_ms (the load it added; None or absent: prefetch
is off and its figures are not shown). Objects with ``as_dict()`` are accepted too.

Keys (binding ids in brackets): ``c`` clears the sparkline history [metrics.reset_history].
"""

from __future__ import annotations

from collections import deque
from typing import Any, Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Sparkline, Static

__all__ = ["MetricsPane", "latency_ms"]

_DASH = "–"

_Pair = tuple[str, str, bool]
"""(label, value, alert): alert values are highlighted (waiters, timeouts, errors...)."""

_NESTED_LATENCY_KEYS = ("acquire_latency", "acquire_latency_ms", "latency", "latency_ms", "acquire", "acquire_ms")


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def latency_ms(pool: Mapping[str, Any], quantile: str) -> float | None:
    """Acquire latency `quantile` ("p50", "p95", "p99") in milliseconds, or None if absent.

    >>> latency_ms({"acquire_p95": 0.002}, "p95"), latency_ms({"latency": {"p50_ms": 1.5}}, "p50")
    (2.0, 1.5)
    """
    value = _number(pool, f"acquire_{quantile}_ms")
    if value is not None:
        return float(value)
    value = _number(pool, f"acquire_{quantile}")
    if value is not None:
        return value * 1000.0
    for key in _NESTED_LATENCY_KEYS:
        nested = pool.get(key)
        if not isinstance(nested, Mapping):
            continue
        value = _number(nested, f"{quantile}_ms")
        if value is not None:
            return float(value)
        value = _number(nested, quantile)
        if value is not None:
            return float(value) if key.endswith("_ms") else value * 1000.0
    return None


def _ms(value: float | None) -> str:
    if value is None:
        return _DASH
    if value < 10:
        return f"{value:.2f} ms"
    if value < 1000:
        return f"{value:.1f} ms"
    return f"{value / 1000:.2f} s"


def _count(value: float | None) -> str:
    return _DASH if value is None else f"{int(value):,}"


def _bytes(value: float | None) -> str:
    if value is None:
        return _DASH
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return _DASH  # pragma: no cover


def _as_mapping(snapshot: Any) -> Mapping[str, Any] | None:
    if snapshot is None:
        return None
    if isinstance(snapshot, Mapping):
        return snapshot
    as_dict = getattr(snapshot, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    raise TypeError(f"metrics snapshot must be a dict or have as_dict(), got {type(snapshot).__name__}")


class MetricsPane(VerticalScroll, can_focus=True):
    """Pool and cache figures, breaker state in colour, and their recent history."""

    BINDINGS = [
        Binding("c", "reset_history", "Clear history", id="metrics.reset_history", tooltip="Forget the sparkline history"),
    ]

    COMPONENT_CLASSES = {"metrics-pane--label", "metrics-pane--alert"}

    DEFAULT_CSS = """
    MetricsPane {
        height: 1fr;
        padding: 0 1;
        & > .metrics-pane--label { color: $text-muted; }
        & > .metrics-pane--alert { color: $warning; text-style: bold; }
        .metrics-title { text-style: bold; color: $primary; margin-top: 1; }
        .metrics-title.-first { margin-top: 0; }
        .metrics-body { color: $text; height: auto; }
        .metrics-unavailable { color: $text-muted; text-style: italic; display: none; }
        .metrics-spark { height: 1; }
        .metrics-spark Label { width: 14; color: $text-muted; }
        .metrics-spark Sparkline { width: 1fr; }
        .metrics-spark .metrics-last { width: 10; color: $text-muted; text-align: right; }
        #breaker { width: auto; padding: 0 1; text-style: bold; }
        #breaker.-closed { background: $success 30%; color: $text; }
        #breaker.-half-open { background: $warning 40%; color: $text; }
        #breaker.-open { background: $error; color: $text; }
        #breaker.-unknown { display: none; }
        #pool-details, #cache-details { height: auto; }
        #pool-heading { height: 1; margin-top: 0; }
        #pool-heading .metrics-title { width: 1fr; margin-top: 0; }
        &.-no-pool #pool-details { display: none; }
        &.-no-pool #pool-unavailable { display: block; }
        &.-no-pool #breaker { display: none; }
        &.-no-cache #cache-details { display: none; }
        &.-no-cache #cache-unavailable { display: block; }
    }
    """

    def __init__(
        self,
        *,
        history: int = 120,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        if history < 2:
            raise ValueError(f"history must be at least 2 samples, got {history!r}")
        super().__init__(name=name, id=id, classes=classes)
        self._latency: deque[float] = deque(maxlen=history)
        self._in_use: deque[float] = deque(maxlen=history)
        self._hit_rate: deque[float] = deque(maxlen=history)
        self._previous_lookups: tuple[float, float] | None = None
        self._previous_activity: tuple[float | None, ...] | None = None
        self._pool_pairs: list[_Pair] = []
        self._cache_pairs: list[_Pair] = []
        self._shown: dict[str, object] = {}
        """What each figure's widget shows now: a figure is written only when it changes, so
        an idle pane writes nothing to the terminal (every repaint crosses the SSH link)."""
        self._snapshots: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None] | None = None
        self.add_class("-no-pool", "-no-cache")

    def compose(self) -> ComposeResult:
        with Horizontal(id="pool-heading"):
            yield Static("Connection pool", id="pool-title", classes="metrics-title -first")
            yield Static("", id="breaker", classes="-unknown")
        yield Static("Pool metrics not available", id="pool-unavailable", classes="metrics-unavailable")
        with Vertical(id="pool-details"):
            yield Vertical(id="pool-body", classes="metrics-body")
            with Horizontal(classes="metrics-spark"):
                yield Label("acquire p95")
                yield Sparkline([], id="spark-latency")
                yield Static(_DASH, id="last-latency", classes="metrics-last")
            with Horizontal(classes="metrics-spark"):
                yield Label("in use")
                yield Sparkline([], id="spark-in-use")
                yield Static(_DASH, id="last-in-use", classes="metrics-last")
        yield Static("Result cache", id="cache-title", classes="metrics-title")
        yield Static("Cache metrics not available", id="cache-unavailable", classes="metrics-unavailable")
        with Vertical(id="cache-details"):
            yield Vertical(id="cache-body", classes="metrics-body")
            with Horizontal(classes="metrics-spark"):
                yield Label("hit rate")
                yield Sparkline([], id="spark-hit-rate")
                yield Static(_DASH, id="last-hit-rate", classes="metrics-last")

    # -- public API

    def update_metrics(self, pool: Mapping[str, Any] | None, cache: Mapping[str, Any] | None) -> None:
        """Show these snapshots (None: not available) and extend the sparkline history.

        While the pane is hidden (another tab, insights folded) only the history grows; the
        figures are drawn when it shows again."""
        pool, cache = _as_mapping(pool), _as_mapping(cache)
        self._record(pool, cache)
        self._snapshots = (pool, cache)
        if self._on_screen():
            self._draw()

    def on_show(self) -> None:
        if self._snapshots is not None:
            self._draw()

    def _on_screen(self) -> bool:
        """Shown on the screen now: this pane and every container above it displayed."""
        return self.is_mounted and all(node.display for node in (self, *self.ancestors_with_self) if hasattr(node, "display"))

    def _draw(self) -> None:
        pool, cache = self._snapshots
        self._show_pool(pool)
        self._show_cache(cache)

    def reset_history(self) -> None:
        """Forget the sparkline history."""
        self._latency.clear()
        self._in_use.clear()
        self._hit_rate.clear()
        self._previous_lookups = None
        self._previous_activity = None
        for spark_id in ("#spark-latency", "#spark-in-use", "#spark-hit-rate"):
            self._shown.pop(spark_id, None)
            self.query_one(spark_id, Sparkline).data = []
        for last_id in ("#last-latency", "#last-in-use", "#last-hit-rate"):
            self._show(last_id, _DASH)

    def action_reset_history(self) -> None:
        self.reset_history()

    # -- internals

    def _record(self, pool: Mapping[str, Any] | None, cache: Mapping[str, Any] | None) -> None:
        """Extend the sparkline histories with this interval's samples."""
        activity = None if pool is None else (_number(pool, "acquisitions"), _number(pool, "releases"), _number(pool, "in_use"))
        if pool is not None and (activity != self._previous_activity or activity == (None, None, None)):
            # Only intervals in which the pool did something: an idle pool's lines stand still.
            self._previous_activity = activity
            p95, in_use = latency_ms(pool, "p95"), _number(pool, "in_use")
            if p95 is not None:
                self._latency.append(p95)
            if in_use is not None:
                self._in_use.append(float(in_use))
        if cache is None:
            self._previous_lookups = None
            return
        hits, misses, hit_rate = _number(cache, "hits"), _number(cache, "misses"), _number(cache, "hit_rate")
        if hit_rate is None and hits is not None and misses is not None and hits + misses:
            hit_rate = hits / (hits + misses)
        # Hit rate over the last interval (only when there were lookups in it).
        if hits is not None and misses is not None:
            if self._previous_lookups is not None:
                delta_hits = hits - self._previous_lookups[0]
                delta_total = delta_hits + misses - self._previous_lookups[1]
                if delta_total > 0 and delta_hits >= 0:
                    self._hit_rate.append(delta_hits / delta_total * 100)
            elif hit_rate is not None and hits + misses:
                self._hit_rate.append(hit_rate * 100)
            self._previous_lookups = (hits, misses)
        elif hit_rate is not None:
            self._hit_rate.append(hit_rate * 100)

    def _show(self, target: str, content: str | Text) -> None:
        """Write ``content`` into the Static ``target`` if it shows something else now.

        Text of the same shape (lines and their lengths) repaints the widget alone: a layout
        pass would repaint every scrollbar on the screen as well."""
        key = content.markup if isinstance(content, Text) else content
        previous = self._shown.get(target)
        if previous != key:
            self._shown[target] = key
            plain = content.plain if isinstance(content, Text) else content
            shape = [len(line) for line in plain.split("\n")]
            same_shape = self._shown.get(f"{target}.shape") == shape
            self._shown[f"{target}.shape"] = shape
            self.query_one(target, Static).update(content, layout=not same_shape)

    def _show_series(self, target: str, series: deque[float]) -> None:
        """Give the sparkline ``target`` its history, unless the picture would not change: a
        flat line stays the same flat line as it grows (an idle pool draws nothing)."""
        values = list(series)
        flat = values[0] if values and min(values) == max(values) else None
        if flat is not None and self._shown.get(target) == ("flat", flat):
            return
        self._shown[target] = ("flat", flat) if flat is not None else ("data", None)
        self.query_one(target, Sparkline).data = values

    def _show_classes(self, target: str, wanted: str) -> None:
        """Give ``target`` the state class ``wanted`` (one of its ``-state`` classes)."""
        if self._shown.get(f"{target}.class") != wanted:
            self._shown[f"{target}.class"] = wanted
            widget = self.query_one(target)
            widget.remove_class("-closed", "-open", "-half-open", "-unknown")
            widget.add_class(wanted)

    def _show_pool(self, pool: Mapping[str, Any] | None) -> None:
        if pool is None:
            self.add_class("-no-pool")
            return
        self.remove_class("-no-pool")
        get = lambda key: _number(pool, key)  # noqa: E731
        p50, p95, p99 = (latency_ms(pool, q) for q in ("p50", "p95", "p99"))
        in_use, size, max_size = get("in_use"), get("size"), get("max_size")
        backend = pool.get("backend")
        title = "Connection pool" + (f" · {backend}" if isinstance(backend, str) and backend else "")
        self._show("#pool-title", title)
        occupancy = f"{_count(in_use)} of {_count(size)}" + (f" (max {_count(max_size)})" if max_size is not None else "")
        pairs: list[_Pair] = [
            ("in use", occupancy, False),
            ("idle", _count(get("idle")), False),
            ("waiting", _count(get("waiters")), bool(get("waiters"))),
            ("peak in use", _count(get("peak_in_use")), False),
            ("acquire p50", _ms(p50), False),
            ("acquire p95", _ms(p95), False),
            ("acquire p99", _ms(p99), False),
            ("acquired", _count(get("acquisitions")), False),
            ("released", _count(get("releases")), False),
            ("timeouts", _count(get("timeouts")), bool(get("timeouts"))),
            ("errors", _count(get("errors")), bool(get("errors"))),
        ]
        if get("opened") is not None or get("closed") is not None:
            pairs += [("opened", _count(get("opened")), False), ("closed", _count(get("closed")), False)]
        self._pool_pairs = pairs
        self._render_pairs("#pool-body", pairs)

        state = pool.get("breaker")
        if isinstance(state, str) and state in ("closed", "open", "half-open"):
            failures = get("breaker_failures")
            suffix = f" · {int(failures)} failures" if failures else ""
            self._show("#breaker", f"breaker {state.upper()}{suffix}")
            self._show_classes("#breaker", f"-{state}")
        else:
            self._show("#breaker", "")
            self._show_classes("#breaker", "-unknown")

        if p95 is not None:
            self._show_series("#spark-latency", self._latency)
            self._show("#last-latency", _ms(p95))
        if in_use is not None:
            self._show_series("#spark-in-use", self._in_use)
            self._show("#last-in-use", _count(in_use))

    def _show_cache(self, cache: Mapping[str, Any] | None) -> None:
        if cache is None:
            self.add_class("-no-cache")
            return
        self.remove_class("-no-cache")
        get = lambda key: _number(cache, key)  # noqa: E731
        hits, misses, hit_rate = get("hits"), get("misses"), get("hit_rate")
        if hit_rate is None and hits is not None and misses is not None and hits + misses:
            hit_rate = hits / (hits + misses)
        entries, max_entries = get("entries"), get("max_entries")
        size, max_bytes = get("bytes"), get("max_bytes")
        pairs: list[_Pair] = [
            ("hits", _count(hits), False),
            ("misses", _count(misses), False),
            ("hit rate", _DASH if hit_rate is None else f"{hit_rate:.1%}", True),
            ("entries", _count(entries) + (f" of {_count(max_entries)}" if max_entries is not None else ""), False),
            ("size", _bytes(size) + (f" of {_bytes(max_bytes)}" if max_bytes is not None else ""), False),
            ("evictions", _count(get("evictions")), False),
            ("invalidations", _count(get("invalidations")), False),
        ]
        if get("uncacheable") is not None:
            pairs.append(("uncacheable", _count(get("uncacheable")), False))
        if get("prefetch_runs") is not None:
            pairs += [
                ("prefetch hits", _count(get("prefetch_hits")), False),
                ("saved", _ms(get("prefetch_saved_ms")), False),
                ("prefetched", _count(get("prefetch_runs")), False),
                ("prefetch time", _ms(get("prefetch_ms")), False),
            ]
        self._cache_pairs = pairs
        self._render_pairs("#cache-body", pairs)
        if self._hit_rate:
            self._show_series("#spark-hit-rate", self._hit_rate)
            self._show("#last-hit-rate", f"{self._hit_rate[-1] / 100:.1%}")

    def on_resize(self) -> None:
        if self._pool_pairs:
            self._render_pairs("#pool-body", self._pool_pairs)
        if self._cache_pairs:
            self._render_pairs("#cache-body", self._cache_pairs)

    def _render_pairs(self, target: str, pairs: list[_Pair]) -> None:
        """Figures as `label value` cells, as many a line as the pane is wide; a line of its own
        widget each, so a changed figure repaints its line alone."""
        label_width = max(len(label) for label, _, _ in pairs) + 1
        value_width = max(len(value) for _, value, _ in pairs)
        cell = label_width + value_width + 3
        width = self.scrollable_content_region.width or self.size.width or 80
        per_line = max(1, width // cell)
        label_style = self.get_component_rich_style("metrics-pane--label", partial=True)
        alert_style = self.get_component_rich_style("metrics-pane--alert", partial=True)
        lines: list[Text] = []
        for index, (label, value, alert) in enumerate(pairs):
            if index % per_line == 0:
                lines.append(Text(end=""))
            text = lines[-1]
            text.append(label.ljust(label_width), style=label_style)
            text.append(value.ljust(value_width) if (index + 1) % per_line else value, style=alert_style if alert else "")
            if (index + 1) % per_line and index + 1 < len(pairs):
                text.append("   ")
        body = self.query_one(target, Vertical)
        shown = list(body.children)
        if len(shown) != len(lines):  # the pane's width changed: lay the lines out anew
            for widget in shown[len(lines):]:
                widget.remove()
                self._shown.pop(f"#{widget.id}", None)
            body.mount_all(Static(id=f"{body.id}-{i}") for i in range(len(shown), len(lines)))
        for i, line in enumerate(lines):
            self._show(f"#{body.id}-{i}", line)
