"""SchemaTree: lazy loading, batch adds of thousands of tables, name insertion."""

from __future__ import annotations

from rich.style import Style

from tests.tui.widgets_harness import WidgetHarness, screen_text, widget_snap_compare  # noqa: F401
from aishell.tui.widgets.schema import GROUP_SIZE, SchemaTree, quote_identifier

TABLES = [("customers", "table", 1200), ("orders", "table", 56_000), ("Order Items", "table", -1), ("big_sales", "view", 0)]
COLUMNS = [("id", "integer", False), ("email", "text", False), ("note", "text", True)]
INDEXES = [("customers_pkey", ("id",), True), ("customers_email_idx", ("email", "id"), False)]


def _expands(app: WidgetHarness) -> list[tuple[str, str | None]]:
    return [(m.schema, m.table) for m in app.posted(SchemaTree.Expand)]


async def test_lazy_expand_then_insert_names() -> None:
    tree = SchemaTree(default_schemas=("public",))
    app = WidgetHarness(tree)
    async with app.run_test(size=(80, 24)) as pilot:
        tree.set_schemas(["public", "sales"])
        tree.focus()
        await pilot.pause()
        assert [node.data.schema for node in tree.root.children] == ["public", "sales"]
        assert all(not node.children for node in tree.root.children)
        assert not app.posted(SchemaTree.Expand)

        await pilot.press("space")
        await pilot.pause()
        assert _expands(app) == [("public", None)]
        assert "loading…" in screen_text(app)

        tree.set_tables("public", TABLES)
        await pilot.pause()
        text = screen_text(app)
        assert "loading…" not in text
        assert "orders ~56k" in text and "customers ~1.2k" in text and "big_sales view ~0" in text
        # Tables are not expanded nor loaded: no column nodes exist yet.
        assert all(not table.children for table in tree.root.children[0].children)

        await pilot.press("down", "enter")  # first table
        await pilot.press("down", "down", "enter")  # "Order Items"
        names = [m.text for m in app.posted(SchemaTree.InsertName)]
        assert names == ["customers", '"Order Items"']
        assert app.posted(SchemaTree.InsertName)[0].control is tree

        await pilot.press("up", "up", "space")
        await pilot.pause()
        assert _expands(app) == [("public", None), ("public", "customers")]
        tree.set_table_details("public", "customers", COLUMNS, INDEXES)
        await pilot.pause()
        text = screen_text(app)
        assert "email text not null" in text and "note text" in text and "indexes (2)" in text
        await pilot.press("down", "down", "enter")
        assert app.posted(SchemaTree.InsertName)[-1].text == "email"
        # Expanding the table again does not ask again: it is loaded.
        await pilot.press("up", "up", "space", "space")
        await pilot.pause()
        assert len(_expands(app)) == 2

        # A table of a non-default schema is inserted with its schema.
        tree.set_tables("sales", [("q1", "table", 10)])
        tree.expand_schema("sales")
        await pilot.pause()
        tree.move_cursor(tree.root.children[1].children[0])
        await pilot.press("enter")
        assert app.posted(SchemaTree.InsertName)[-1].text == "sales.q1"

        # Reload forgets the table's details and asks again.
        tree.move_cursor(tree.root.children[0].children[0])
        await pilot.press("r")
        await pilot.pause()
        assert _expands(app)[-1] == ("public", "customers")


async def test_thousands_of_tables_in_one_batch(monkeypatch) -> None:
    tree = SchemaTree()
    app = WidgetHarness(tree)
    async with app.run_test(size=(80, 24)) as pilot:
        tree.set_schemas(["public"])
        invalidations = []
        original = SchemaTree._invalidate
        monkeypatch.setattr(SchemaTree, "_invalidate", lambda self: (invalidations.append(1), original(self)))
        tables = [(f"table_{i:05d}", "table", i) for i in range(5_000)]
        tree.set_tables("public", tables)
        assert len(invalidations) <= 2  # one for clearing the placeholder, one for the batch
        tree.expand_schema("public")
        tree.focus()
        await pilot.pause()
        schema = tree.root.children[0]
        # Ten slices of 500, none of their table nodes made yet.
        assert len(schema.children) == 5_000 // GROUP_SIZE
        assert all(not bucket.children for bucket in schema.children)
        assert f"table_00000 … table_{GROUP_SIZE - 1:05d} ({GROUP_SIZE})" in screen_text(app)
        await pilot.press("end", "space")
        await pilot.pause()
        last = schema.children[-1]
        assert len(last.children) == GROUP_SIZE
        assert sum(len(bucket.children) for bucket in schema.children) == GROUP_SIZE
        await pilot.press("end")
        await pilot.pause()
        assert "table_04999" in screen_text(app)
        # A table of a slice works like any other: Expand for its details, its name inserted.
        await pilot.press("enter", "space")
        await pilot.pause()
        assert app.posted(SchemaTree.InsertName)[-1].text == "table_04999"
        assert [(m.schema, m.table) for m in app.posted(SchemaTree.Expand)] == [("public", "table_04999")]
        tree.set_table_details("public", "table_04999", COLUMNS, [])
        await pilot.pause()
        assert [child.label.plain for child in last.children[-1].children][1] == "email text not null"
        # The cheap width used for layout is the rendered width.
        for node in (schema, last, last.children[0]):
            assert tree.get_label_width(node) == tree.render_label(node, Style(), Style()).cell_len


async def test_load_error_then_retry() -> None:
    tree = SchemaTree()
    app = WidgetHarness(tree)
    async with app.run_test(size=(80, 24)) as pilot:
        tree.set_schemas(["public"])
        tree.focus()
        await pilot.press("space")
        await pilot.pause()
        assert _expands(app) == [("public", None)]
        tree.show_load_error("public", None, "permission denied for schema public")
        await pilot.pause()
        assert "permission denied for schema public" in screen_text(app)
        await pilot.press("space", "space")  # collapse, expand: asks again
        await pilot.pause()
        assert _expands(app) == [("public", None), ("public", None)]
        assert "loading…" in screen_text(app) and "permission denied" not in screen_text(app)
        tree.set_tables("public", TABLES)
        await pilot.pause()
        assert "permission denied" not in screen_text(app)


async def test_empty_states() -> None:
    tree = SchemaTree()
    app = WidgetHarness(tree)
    async with app.run_test(size=(80, 24)) as pilot:
        tree.show_message("loading…")
        await pilot.pause()
        assert screen_text(app).split() == ["loading…"]
        tree.set_schemas([])
        await pilot.pause()
        assert "no schemas" in screen_text(app)
        tree.set_schemas(["main"])
        tree.set_tables("main", [])
        tree.expand_schema("main")
        await pilot.pause()
        assert "no tables" in screen_text(app)
        tree.focus()
        await pilot.press("down", "enter")
        assert not app.posted(SchemaTree.InsertName)


def test_quote_identifier() -> None:
    assert quote_identifier("orders") == "orders"
    assert quote_identifier("Orders") == '"Orders"'
    assert quote_identifier("order") == '"order"'
    assert quote_identifier('we"ird') == '"we""ird"'
    assert quote_identifier("_tmp$1") == "_tmp$1"


def test_snapshot_schema_tree(widget_snap_compare) -> None:
    def run_before(pilot) -> None:
        tree = pilot.app.widget
        tree.set_schemas(["public", "audit"])
        tree.set_tables("public", TABLES)
        tree.set_table_details("public", "customers", COLUMNS, INDEXES)
        tree.expand_schema("public")
        tree.root.children[0].children[0].expand()
        tree.root.children[0].children[0].children[-1].expand()
        tree.focus()

    assert widget_snap_compare(WidgetHarness(SchemaTree()), run_before=run_before, press=["down", "down"], terminal_size=(80, 24))
