"""An idle workbench writes nothing to its terminal: over SSH every repaint crosses the link.

Found with ``aishell bench tui``: idle, the workbench wrote 1.2–1.5 KB/s with any pane focused
(the hidden Metrics tab rewrote its figures twice a second, and each rewrite re-laid out the
screen, repainting every scrollbar) and 7.6 KB/s with Metrics shown; the editor's blinking
cursor added 240 B/s. These tests hold the behaviour; the bench holds the figures.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from aishell.engine.config import Settings
from aishell.engine.demo import ensure_demo_database
from aishell.tui.bench.tui import measure_idle
from aishell.tui.widgets.metrics import MetricsPane
from tests.tui.appkit import connected, make_app, until

POOL = {"backend": "sqlite", "size": 2, "in_use": 0, "idle": 2, "acquisitions": 5, "releases": 5, "acquire_p95": 0.001}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return ensure_demo_database(tmp_path_factory.mktemp("quiet") / "demo.db")


def _settings(**ui) -> Settings:
    settings = Settings.load()
    for key, value in ui.items():
        setattr(settings.ui, key, value)
    return settings


async def test_cursor_rests_after_quiet_and_blinks_again_at_a_key(demo):
    app = make_app(demo, settings=_settings(cursor_rest=1.5))  # long enough that a busy machine sees the wake
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        area = app.screen.query_one("#editor").text_area
        rest = app.cursor_rest
        await pilot.pause()
        area.cursor_blink = True  # headless apps start steady; blink as in a terminal
        await pilot.press("s")  # input restarts the count
        await until(pilot, lambda: area in rest.resting, timeout=10, what="the cursor to rest")
        assert not area.cursor_blink
        await pilot.press("e")
        assert area.cursor_blink and not rest.resting, "a key wakes the cursor"
        assert area.text.startswith("se")
        await until(pilot, lambda: area in rest.resting and not area.cursor_blink, timeout=10, what="the cursor to rest again")


async def test_hidden_metrics_draw_nothing_and_catch_up_when_shown(demo):
    app = make_app(demo, settings=_settings(metrics_interval=3600))
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        await until(pilot, lambda: bool(app.screen.query(MetricsPane)), what="the metrics pane")
        pane = app.screen.query_one(MetricsPane)
        body = pane.query_one("#pool-body")

        def figures() -> str:
            return "\n".join(str(line.content) for line in body.children)

        before = figures()
        pane.update_metrics(POOL, None)  # the Suggestions tab is in front: nothing is drawn
        await pilot.pause()
        assert figures() == before
        await pilot.press("alt+m")
        await until(pilot, lambda: "in use" in figures(), timeout=5, what="figures once shown")
        assert pane.query_one("#spark-latency").data[-1] == 1.0, "the hidden interval is in the history"


async def test_an_idle_pool_adds_nothing_to_the_history(demo):
    app = make_app(demo, settings=_settings(metrics_interval=3600))
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        # Only the snapshots below reach the pane: the screen's own sample when the tab comes to
        # the front (the real pool, busy from connecting) landed among them when the machine was busy.
        app.screen._sample_metrics = lambda shown: None
        await pilot.press("alt+m")
        await until(pilot, lambda: bool(app.screen.query(MetricsPane)), what="the metrics pane")
        pane = app.screen.query_one(MetricsPane)
        for _ in range(3):
            pane.update_metrics(POOL, None)
        busy = dict(POOL, acquisitions=6, releases=6, acquire_p95=0.004)
        pane.update_metrics(busy, None)
        await pilot.pause()
        data = pane.query_one("#spark-latency").data
        assert data[-2:] == [1.0, 4.0] and data.count(1.0) == 1, data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads CPU time from /proc")
def test_the_real_app_writes_nothing_while_idle(demo, tmp_path):
    """The installed command under a pseudo terminal: after the cursor rests, not one byte."""
    exe = Path(sys.executable).with_name("aishell")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "aishell.tui.cli"]
    env = dict(os.environ, AISHELL_HOME=str(tmp_path), AISHELL_UI__CURSOR_REST="0.5")
    idle = measure_idle([*cmd, str(demo)], b"Suggestions", (), env=env, settle=2.0, window=2.5)
    assert idle is not None, "the workbench never drew its panes"
    assert idle.bytes_per_s == 0, f"{idle.bytes_per_s:.0f} bytes/s written while idle"
