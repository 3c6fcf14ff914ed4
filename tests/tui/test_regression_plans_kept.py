"""The plan of the last fast run survives a restart: a lookup served by an index runs fast in one
workbench, which closes; its index is dropped behind its back; in a new workbench on the same
data directory the same lookup, now a full scan, raises the regression alert with the kept plan
of the fast run (the Index Scan) beside this run's (the Seq Scan). And the kept plans stay
bounded and private: two a shape, a damaged file moved aside."""

from __future__ import annotations

import os
import stat

import pytest

from aishell.engine.config import Settings
from aishell.engine.drivers import driver_for
from aishell.engine.memory import regressions
from aishell.engine.memory.regressions import keep_plan, last_plan, plans_path
from aishell.tui.messages import RegressionChecked
from tests.tui.appkit import connected, make_app, run, until
from tests.tui.widgets_harness import screen_text

LOOKUP = "SELECT count(*) FROM ledger WHERE weigh(amount) AND account = 4242"
WEIGH = (
    "CREATE FUNCTION weigh(a numeric) RETURNS boolean LANGUAGE plpgsql IMMUTABLE COST 0.0001 "
    "AS $$ BEGIN RETURN length(repeat(md5(a::text), 30)) > 0; END $$"
)
"""A filter the planner runs first (it says it is cheap) and that takes ~8 µs a row: on the few rows
the index finds it costs nothing, on every row of a full scan most of a second. The fast and the
slow run stay apart by far more than 3x even on a loaded machine."""


async def _execute(url: str, *statements: str) -> None:
    conn = await driver_for(url).connect()
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def _settings() -> Settings:
    settings = Settings.load()
    settings.analyzer.regression_plan_ms = 0.0  # every run's plan is kept (the fast ones are quick)
    settings.analyzer.regression_min_gap_ms = 10.0
    return settings


@pytest.mark.pg
async def test_alert_after_restart_shows_the_kept_fast_plan(pg_fresh_db, aishell_home):
    await _execute(
        pg_fresh_db,
        "CREATE TABLE ledger (id int PRIMARY KEY, account int NOT NULL, amount numeric NOT NULL)",
        "INSERT INTO ledger SELECT g, g % 20000, g % 1000 FROM generate_series(1, 100000) g",
        WEIGH,
        "CREATE INDEX ledger_account ON ledger (account)",
        "ANALYZE ledger",
    )
    first = make_app(pg_fresh_db, settings=_settings())
    async with first.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        for _ in range(4):
            await run(pilot, LOOKUP)
        memory = first.screen.session.memory.path
        display_url = first.screen.session.display_url
        await until(pilot, lambda: plans_path(memory).exists(), what="the plan kept on disk")
        await until(pilot, lambda: bool(first.screen.insights.fast_plans), what="the fast plan")
    kept = await last_plan(memory, display_url, LOOKUP, "postgres")
    assert kept is not None and any(node["index"] == "ledger_account" for node in kept.nodes)

    await _execute(pg_fresh_db, "DROP INDEX ledger_account")  # behind the workbench's back
    second = make_app(pg_fresh_db, settings=_settings())
    checked: list[RegressionChecked] = []
    hook = lambda message: checked.append(message) if isinstance(message, RegressionChecked) else None  # noqa: E731
    async with second.run_test(size=(120, 36), message_hook=hook) as pilot:
        await connected(pilot)
        assert not second.screen.insights.fast_plans  # a new session: nothing kept in memory
        pane = second.screen.query_one("#suggestions")
        await run(pilot, LOOKUP)
        await until(pilot, lambda: bool(pane._alerts), timeout=20, what="the regression alert")
        await pilot.press("alt+s", "o")
        await until(pilot, lambda: "Last fast run" in screen_text(second), what="the plans side by side")
        text = screen_text(second)
        assert "This run · " in text and "Bitmap Heap" in text and "Seq Scan" in text  # the fast plan left, this one right
        alert = next(m for m in checked if m.alert is not None)
        assert any(node["index"] == "ledger_account" for node in alert.fast_nodes)
        assert alert.titles[0].startswith("Last fast run") and not any(node["index"] for node in alert.nodes)
    slow = await last_plan(memory, display_url, LOOKUP, "postgres", kind="slow")
    assert slow is not None and not any(node["index"] for node in slow.nodes)


NODES = [{"depth": 0, "node": "Seq Scan", "relation": "t", "index": None,
          "conditions": [("Filter", "(dsn = 'postgresql://bob:s3cret@db/x'::text)")]}]


async def test_kept_plans_are_bounded_private_and_survive_damage(aishell_home, monkeypatch):
    memory = aishell_home / "memory" / "memory.db"
    monkeypatch.setattr(regressions, "PLAN_SHAPES", 3)
    for number in range(5):
        for kind in ("fast", "slow"):
            assert await keep_plan(memory, "db", f"SELECT * FROM t{number} WHERE a = 1", "postgres", kind, 1000.0 + number, 5.0, NODES)
    path = plans_path(memory)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    kept = [number for number in range(5) if await last_plan(memory, "db", f"SELECT * FROM t{number} WHERE a = 2", "postgres")]
    assert kept == [2, 3, 4]  # the most recently run shapes, any literal: a shape, not a text
    plan = await last_plan(memory, "db", "SELECT * FROM t4 WHERE a = 1", "postgres", kind="slow")
    assert "s3cret" not in str(plan.nodes) and "bob" in str(plan.nodes)  # the password masked, the rest kept
    assert await last_plan(memory, "other db", "SELECT * FROM t4 WHERE a = 1", "postgres") is None

    path.write_bytes(b"this is not a database" * 100)  # damaged: moved aside, a new file started
    for side in ("-wal", "-shm"):
        if os.path.exists(str(path) + side):
            os.remove(str(path) + side)
    assert await last_plan(memory, "db", "SELECT * FROM t4 WHERE a = 1", "postgres") is None
    assert await keep_plan(memory, "db", "SELECT 1", "postgres", "fast", 1.0, 1.0, NODES)
    assert (await last_plan(memory, "db", "SELECT 1", "postgres")).duration_ms == 1.0
    assert [p.name for p in path.parent.iterdir() if ".damaged-" in p.name]
