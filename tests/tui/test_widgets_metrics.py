"""MetricsPane: pool and cache figures, breaker colours, sparkline history, not-available state."""

from __future__ import annotations

import re

from textual.widgets import Sparkline, Static

from tests.tui.widgets_harness import WidgetHarness, screen_text, widget_snap_compare  # noqa: F401
from aishell.tui.widgets.metrics import MetricsPane, latency_ms

POOL = {
    "backend": "postgres",
    "size": 5,
    "min_size": 1,
    "max_size": 10,
    "in_use": 3,
    "idle": 2,
    "waiters": 0,
    "acquisitions": 12_345,
    "releases": 12_342,
    "timeouts": 1,
    "errors": 0,
    "acquire_p50": 0.00012,
    "acquire_p95": 0.0008,
    "acquire_p99": 0.0123,
    "peak_in_use": 7,
    "breaker": "closed",
    "breaker_failures": 0,
}
CACHE = {"hits": 900, "misses": 100, "hit_rate": 0.9, "entries": 120, "max_entries": 1000, "bytes": 1_500_000, "evictions": 3, "invalidations": 7}


LABELS = (
    "in use", "idle", "waiting", "peak in use", "acquire p50", "acquire p95", "acquire p99", "acquired",
    "released", "timeouts", "errors", "hits", "misses", "hit rate", "entries", "size", "evictions", "invalidations",
)


def _figures(text: str) -> dict[str, str]:
    """label -> value as laid out on screen (cells of `label value`, several a line)."""
    found: dict[str, str] = {}
    pattern = "|".join(re.escape(label) for label in sorted(LABELS, key=len, reverse=True))
    for line in text.splitlines():
        for match in re.finditer(rf"(?:^|\s)({pattern}) +(\S+(?: {{1,2}}\S+)*)", line):
            found.setdefault(match.group(1), match.group(2))
    return found


async def test_not_available_then_figures() -> None:
    pane = MetricsPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Pool metrics not available" in text and "Cache metrics not available" in text
        assert "ms" not in text and "hits" not in text  # no figure is shown without a snapshot

        pane.update_metrics(POOL, CACHE)
        await pilot.pause()
        text = screen_text(app)
        assert "not available" not in text
        figures = _figures(text)
        assert "Connection pool · postgres" in text
        assert figures["in use"] == "3 of 5 (max 10)"
        assert (figures["idle"], figures["waiting"], figures["peak in use"]) == ("2", "0", "7")
        assert (figures["acquire p50"], figures["acquire p95"], figures["acquire p99"]) == ("0.12 ms", "0.80 ms", "12.3 ms")
        assert (figures["acquired"], figures["released"]) == ("12,345", "12,342")
        assert (figures["timeouts"], figures["errors"]) == ("1", "0")
        assert (figures["hits"], figures["misses"], figures["hit rate"]) == ("900", "100", "90.0%")
        assert (figures["entries"], figures["size"]) == ("120 of 1,000", "1.4 MB")
        assert (figures["evictions"], figures["invalidations"]) == ("3", "7")
        assert "breaker CLOSED" in text
        assert pane.query_one("#breaker").has_class("-closed")

        # Cache goes away (e.g. disabled): only its half says so.
        pane.update_metrics(POOL, None)
        await pilot.pause()
        text = screen_text(app)
        assert "Cache metrics not available" in text and "Pool metrics not available" not in text


async def test_narrow_pane_lays_one_figure_a_line() -> None:
    pane = MetricsPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        pane.update_metrics(POOL, CACHE)
        await pilot.pause()
        wide = [line for line in screen_text(app).splitlines() if line.strip().startswith("in use ")]
        assert "idle" in wide[0]  # side by side at 80 columns
        pane.styles.width = 34
        await pilot.pause()
        await pilot.pause()
        lines = [line[:34].rstrip() for line in screen_text(app).splitlines()]
        assert " in use      3 of 5 (max 10)" in lines and " idle        2" in lines
        assert _figures("\n".join(lines))["invalidations"] == "7"


async def test_breaker_states_and_missing_keys() -> None:
    pane = MetricsPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        pane.update_metrics({"breaker": "open", "breaker_failures": 5}, {})
        await pilot.pause()
        breaker = pane.query_one("#breaker", Static)
        assert breaker.has_class("-open")
        text = screen_text(app)
        assert "breaker OPEN · 5 failures" in text
        # Missing keys are shown as missing, never as zero.
        figures = _figures(text)
        assert figures["in use"] == "– of –" and figures["acquire p95"] == "–" and figures["errors"] == "–"
        assert figures["hits"] == "–" and figures["hit rate"] == "–" and figures["size"] == "–"
        assert pane.query_one("#spark-latency", Sparkline).data == []
        backgrounds = {"open": breaker.styles.background}
        for state in ("half-open", "closed"):
            pane.update_metrics({"breaker": state}, None)
            await pilot.pause()
            assert breaker.has_class(f"-{state}") and not breaker.has_class("-open")
            backgrounds[state] = breaker.styles.background
        # Each state has its own colour (error, warning, success).
        assert len(set(backgrounds.values())) == 3
        pane.update_metrics({"breaker": "weird"}, None)
        await pilot.pause()
        assert "breaker" not in screen_text(app)


async def test_sparkline_history_and_interval_hit_rate() -> None:
    pane = MetricsPane(history=3)
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        for step in range(5):
            pool = dict(POOL, in_use=step, acquire_p95=step / 1000)
            cache = dict(CACHE, hits=900 + 10 * step, misses=100 + 10 * step)
            pane.update_metrics(pool, cache)
        await pilot.pause()
        assert pane.query_one("#spark-in-use", Sparkline).data == [2.0, 3.0, 4.0]
        assert pane.query_one("#spark-latency", Sparkline).data == [2.0, 3.0, 4.0]
        # First sample is the cumulative rate, then each interval's own: 10 hits of 20 lookups.
        assert pane.query_one("#spark-hit-rate", Sparkline).data == [50.0, 50.0, 50.0]
        # An interval without lookups adds no point.
        pane.update_metrics(POOL, dict(CACHE, hits=940, misses=140))
        assert len(pane.query_one("#spark-hit-rate", Sparkline).data) == 3
        pane.focus()
        await pilot.press("c")
        assert pane.query_one("#spark-in-use", Sparkline).data == []


def test_latency_units() -> None:
    assert latency_ms({"acquire_p50_ms": 1.5}, "p50") == 1.5
    assert latency_ms({"acquire_p99": 0.25}, "p99") == 250.0
    assert latency_ms({"latency": {"p95": 0.004}}, "p95") == 4.0
    assert latency_ms({"latency_ms": {"p95": 4}}, "p95") == 4.0
    assert latency_ms({"acquire": {"p50_ms": 2}}, "p50") == 2.0
    assert latency_ms({"acquire_p50": "fast"}, "p50") is None
    assert latency_ms({}, "p50") is None


def test_snapshot_metrics(widget_snap_compare) -> None:
    def run_before(pilot) -> None:
        for step in range(20):
            pool = dict(POOL, in_use=step % 6, acquire_p95=(step % 7) / 1000)
            cache = dict(CACHE, hits=900 + 9 * step * step, misses=100 + 3 * step)
            pilot.app.widget.update_metrics(pool, cache)

    assert widget_snap_compare(WidgetHarness(MetricsPane()), run_before=run_before, terminal_size=(80, 24))


def test_snapshot_metrics_unavailable(widget_snap_compare) -> None:
    assert widget_snap_compare(WidgetHarness(MetricsPane()), terminal_size=(80, 24))
