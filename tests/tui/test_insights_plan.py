"""Insights you can read, against the real PostgreSQL test cluster: EXPLAIN as a tree (node,
relation, index, conditions, rows estimated and actual, cost and share, the most expensive step
marked), EXPLAIN ANALYZE on demand (a write asks first and is rolled back; a read-only session
never runs it), and index advice with the plan before and after the hypothetical index side by
side."""

from __future__ import annotations

import asyncpg
import pytest

from aishell.tui.screens.dialogs import ConfirmScreen
from aishell.tui.widgets.plan import PlanTree, PlanView
from tests.tui.appkit import connected, make_app, type_sql, until

pytestmark = pytest.mark.pg
SIZE = (120, 36)
JOIN = (
    "SELECT c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id\n"
    "WHERE o.status = 'open' ORDER BY o.total DESC"
)


@pytest.fixture
async def shop(pg_fresh_db) -> str:
    conn = await asyncpg.connect(pg_fresh_db)
    try:
        await conn.execute(
            "CREATE EXTENSION IF NOT EXISTS hypopg;"
            "CREATE TABLE customers (id int PRIMARY KEY, name text);"
            "CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status text, total numeric);"
            "CREATE TABLE audit (id int);"
            "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 2000) g;"
            "INSERT INTO orders SELECT g, 1 + g % 2000, CASE WHEN g % 100 = 0 THEN 'open' ELSE 'done' END, g % 977"
            " FROM generate_series(1, 30000) g;"
            "ANALYZE customers; ANALYZE orders;"
        )
    finally:
        await conn.close()
    return pg_fresh_db


def _labels(tree: PlanTree) -> list[str]:
    out = []

    def walk(node):
        for child in node.children:
            out.append(child.label.plain)
            walk(child)

    walk(tree.root)
    return out


async def _plan_shown(pilot, *, compare: bool = False) -> PlanView:
    view = pilot.app.screen.query_one(PlanView)
    tree = view.query_one("#plan-before", PlanTree)
    await until(pilot, lambda: tree.root.children and (not compare or view.has_class("-compare")), what="plan tree")
    return view


async def test_explain_shows_the_plan_as_a_tree(shop):
    app = make_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        type_sql(pilot, JOIN)
        await pilot.press("f7")
        view = await _plan_shown(pilot)
        labels = _labels(view.query_one("#plan-before", PlanTree))
        text = "\n".join(labels)
        assert any(label.lstrip("◆ ").startswith("Sort") for label in labels)
        assert "Seq Scan on orders o" in text and "on customers c" in text
        assert "Filter: (status = 'open'::text)" in text
        assert "Hash Cond: (" in text or "Index Cond: (" in text or "Merge Cond: (" in text
        assert "Sort Key: o.total DESC" in text
        assert "rows 300 est" in text or "rows 3" in text and " est" in text
        assert "cost " in text and "%" in text
        marked = [label for label in labels if label.startswith("◆ ")]
        assert len(marked) == 1 and "Seq Scan on orders" in marked[0], labels
        assert "EXPLAIN · cost" in str(view.query_one("#plan-before-title").content)


async def test_explain_analyze_of_a_write_asks_then_rolls_back(shop):
    app = make_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        type_sql(pilot, "INSERT INTO audit SELECT g FROM generate_series(1, 500) g")
        await pilot.press("shift+f7")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="dismissed")
        await pilot.pause(0.3)
        view = app.screen.query_one(PlanView)
        assert not view.query_one("#plan-before", PlanTree).root.children
        await pilot.press("shift+f7")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        view = await _plan_shown(pilot)
        labels = _labels(view.query_one("#plan-before", PlanTree))
        assert labels[0].lstrip("◆ ").startswith("Insert on audit")
        assert any("→ 500" in label for label in labels), labels  # actual rows: it ran
        assert "EXPLAIN ANALYZE" in str(view.query_one("#plan-before-title").content)
        count = await app.session.execute("SELECT count(*) FROM audit")
        assert count.rows == [(0,)]


async def test_explain_analyze_of_a_read_is_not_asked(shop):
    app = make_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        type_sql(pilot, JOIN)
        await pilot.press("shift+f7")
        view = await _plan_shown(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        labels = _labels(view.query_one("#plan-before", PlanTree))
        assert any(" ms" in label and "→" in label for label in labels)


async def test_read_only_session_never_runs_the_write(shop):
    app = make_app(shop, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        type_sql(pilot, "INSERT INTO audit SELECT g FROM generate_series(1, 500) g")
        await pilot.press("shift+f7")
        view = await _plan_shown(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert "EXPLAIN ANALYZE" not in str(view.query_one("#plan-before-title").content)
        findings = app.screen.query_one("#suggestions")._plan_findings
        assert any("ANALYZE skipped" in f["message"] for f in findings)
    conn = await asyncpg.connect(shop)
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit") == 0
    finally:
        await conn.close()


async def test_index_advice_shows_the_plan_before_and_after_side_by_side(shop):
    app = make_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        type_sql(pilot, "SELECT id, total FROM orders WHERE customer_id = 42")
        await pilot.press("f8")
        view = await _plan_shown(pilot, compare=True)
        before = "\n".join(_labels(view.query_one("#plan-before", PlanTree)))
        after = "\n".join(_labels(view.query_one("#plan-after", PlanTree)))
        assert "Seq Scan on orders" in before
        assert "Scan" in after and "using <" in after and "btree_orders_customer_id" in after, after
        before_title = str(view.query_one("#plan-before-title").content)
        after_title = str(view.query_one("#plan-after-title").content)
        assert before_title.startswith("Before · cost")
        assert after_title.startswith("With CREATE INDEX ON orders (customer_id);")
        left = view.query_one("#plan-before-side").region
        right = view.query_one("#plan-after-side").region
        assert left.y == right.y and left.right <= right.x  # side by side
