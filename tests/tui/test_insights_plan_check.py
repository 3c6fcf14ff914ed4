"""Findings checked against the plan in the workbench: after EXPLAIN (F7), a scan finding the plan
confirms says what the plan showed (one it contradicts goes: tests/unit/test_analyzer_plan_check.py)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.tui.appkit import connected, make_app, type_sql, until


@pytest.mark.parametrize(
    ("sql", "code", "after"),
    [
        ("SELECT id FROM orders WHERE note LIKE '%x'", "AS005", "The plan shows a full scan on orders."),
        # (a finding the plan contradicts is dropped: tests/unit/test_analyzer_plan_check.py; in the
        # workbench the catalog already spares an OR whose columns are all indexed)
        ("SELECT id FROM orders WHERE lower(note) = 'x' OR id = 1", "AS004", "The plan shows a full scan on orders."),
    ],
)
async def test_explain_checks_the_findings(tmp_path, sql, code, after):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT, note TEXT); CREATE INDEX orders_email ON orders (email);")
        # large enough that the catalog alone does not excuse the scan findings
        db.executemany("INSERT INTO orders (email, note) VALUES (?, 'n')", [(f"u{i}@x",) for i in range(20_000)])
        db.execute("ANALYZE")
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        pane = app.screen.query_one("#suggestions")
        type_sql(pilot, sql)
        await until(pilot, lambda: any(f.get("code") == code for f in pane._findings), what=f"{code} before the plan")
        before = next(f for f in pane._findings if f["code"] == code)
        assert "plan shows" not in before["message"]
        await pilot.press("f7")
        await until(pilot, lambda: any(f.get("code") == code and f["message"].endswith(after) for f in pane._findings), what=f"{code} confirmed")
        await pilot.pause(0.5)  # a later analysis of the same statement keeps the plan's word
        assert any(f.get("code") == code and f["message"].endswith(after) for f in pane._findings)
