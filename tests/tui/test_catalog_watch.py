"""Schema changes reach the schema tree and completion: a table created from another client
(a separate asyncpg connection, as from psql) is offered within 2 s of the watcher's poll."""

from __future__ import annotations

import asyncpg
import pytest

from aishell.tui.completion import complete
from tests.tui.appkit import connected, make_app, until

pytestmark = pytest.mark.pg


def tree_tables(tree) -> set[str]:
    found: set[str] = set()
    stack = list(tree.root.children)
    while stack:
        node = stack.pop()
        if node.data is not None and node.data.kind == "table" and node.data.table:
            found.add(node.data.table)
        stack.extend(node.children)
    return found


def offered(editor, text: str) -> list[str]:
    return [c.text for c in complete(text, len(text), editor._catalog).candidates]


async def test_table_created_elsewhere_reaches_tree_and_completion(pg_fresh_db):
    raw = await asyncpg.connect(pg_fresh_db)
    try:
        await raw.execute("CREATE TABLE first_table (id int)")
        app = make_app(pg_fresh_db)
        async with app.run_test(size=(120, 36)) as pilot:
            await connected(pilot)
            editor = app.screen.query_one("#editor")
            tree = app.screen.query_one("SchemaTree")
            await until(pilot, lambda: "first_table" in tree_tables(tree), what="the tree's first load")
            await until(pilot, lambda: "first_table" in offered(editor, "select * from first"), what="the first catalog")
            await raw.execute("CREATE TABLE made_in_psql (id int, shipped_at date)")
            # The watcher polls every 2 s (schema_poll_interval); seen, it reloads at once.
            await until(pilot, lambda: "made_in_psql" in offered(editor, "select * from made"), timeout=4.5, what="completion")
            await until(pilot, lambda: "made_in_psql" in tree_tables(tree), timeout=1.0, what="the tree")
            sql = "select  from made_in_psql"
            assert "shipped_at" in [c.text for c in complete(sql, 7, editor._catalog).candidates]
    finally:
        await raw.close()
