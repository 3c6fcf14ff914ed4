"""MetricsPane: prefetch's hits and the load it added, shown only when prefetch is on."""

from __future__ import annotations

from tests.tui.widgets_harness import WidgetHarness, screen_text
from aishell.tui.widgets.metrics import MetricsPane

CACHE = {"hits": 9, "misses": 1, "hit_rate": 0.9, "entries": 4, "max_entries": 1024, "bytes": 2048, "evictions": 0, "invalidations": 1}
PREFETCH = {"prefetch_hits": 3, "prefetch_saved_ms": 41.5, "prefetch_runs": 5, "prefetch_ms": 52.25}


async def test_prefetch_figures_only_when_prefetch_is_on() -> None:
    pane = MetricsPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(120, 30)) as pilot:
        pane.update_metrics(None, {**CACHE, **{name: None for name in PREFETCH}})
        await pilot.pause()
        text = screen_text(app)
        assert "hits" in text and "prefetch" not in text

        pane.update_metrics(None, {**CACHE, **PREFETCH})
        await pilot.pause()
        lines = " ".join(screen_text(app).split())
        assert "prefetch hits 3" in lines and "saved 41.5 ms" in lines
        assert "prefetched 5" in lines and "prefetch time 52.2 ms" in lines
