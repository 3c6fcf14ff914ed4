"""Regression alerts in the workbench: a statement run fast a few times, then made slow behind
its back (its view now counts a large generated series), raises an alert in the Suggestions pane
with this run's time against the usual and the plan of the last fast run beside this run's; the
next ordinary run takes the alert away."""

from __future__ import annotations

import sqlite3

from aishell.engine.config import Settings
from tests.tui.appkit import connected, make_app, run, until
from tests.tui.widgets_harness import screen_text

SLOW_VIEW = """
CREATE VIEW v AS
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400000)
SELECT i AS x FROM c
"""


async def test_slow_run_raises_alert(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3); CREATE VIEW v AS SELECT x FROM t;")
    settings = Settings.load()
    settings.analyzer.regression_min_gap_ms = 20.0  # keeps the slow run short
    settings.analyzer.regression_plan_ms = 0.0  # the fast runs' plans are kept too
    app = make_app(path, settings=settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        pane = app.screen.query_one("#suggestions")
        for _ in range(3):
            await run(pilot, "SELECT count(*) FROM v")
        await pilot.pause(0.2)
        assert pane._alerts == []
        with sqlite3.connect(path) as conn:  # another process redefines the view
            conn.executescript("DROP VIEW v;" + SLOW_VIEW)
        await run(pilot, "SELECT count(*) FROM v")
        await until(pilot, lambda: bool(pane._alerts), what="the regression alert")
        alert = pane._alerts[0]
        assert alert["severity"] == "warning" and alert["duration_ms"] >= 3 * alert["median_ms"] + 20
        await pilot.pause()
        text = screen_text(app)
        assert "REG slower than usual" in text and f"Ran {alert['duration_ms']:,.1f} ms" in text
        assert "× its median of" in alert["message"] and "(3 earlier runs on this database)" in alert["message"]
        await pilot.press("alt+s", "o")  # opened: the whole message
        await pilot.pause()
        assert alert["message"] in " ".join(str(pane.query_one("#suggestions-detail-text").content).split())
        # the plan of the last fast run (a scan of t) beside this run's (the generated series)
        assert pane.has_class("-tree")
        await until(pilot, lambda: "Last fast run" in screen_text(app), what="the plans side by side")
        text = screen_text(app)
        assert "This run · " in text
        (kept,) = app.screen.insights.fast_plans.values()
        assert any(node["relation"] == "t" for node in kept[2])
        assert "▼ SCAN on t " in text and "CO-ROUTINE" in text  # the view's old table, its new series
        await run(pilot, "SELECT 1")  # another statement, as fast as ever: the alert goes
        await until(pilot, lambda: not pane._alerts, what="the alert to go")
