"""The workbench connected to a real MongoDB-protocol server: the schema tree from sampled
fields, completion of collections and fields, results in the grid, a server error in one line,
and a snapshot at 120×36. The module starts a FerretDB of its own (a tenth of a second), so the
tree lists only what it made; with AISHELL_TEST_MONGO_URL alone the snapshot is skipped."""

from __future__ import annotations

import os

import pytest

from tests.tui.appkit import connected, grid, make_app, run, type_sql, until
from tests.tui.test_app_snapshots import SnapshotsDir  # noqa: F401 - the same SVG folder
from tests.tui.test_app_snapshots import _snapshots_in_top_level_folder  # noqa: F401 - autouse fixture

pytestmark = [pytest.mark.mongo, pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")]
SIZE = (120, 36)
DATABASE = "aishell_tui_shop"
SHOWN_URL = f"mongodb://aishell:***@127.0.0.1:27017/{DATABASE}?authSource=admin"
"""What the snapshot's title bar shows: the server's port changes every run."""


def database_url(url: str, database: str) -> str:
    """``url`` with ``database`` as its path (logins stay checked against ``admin``)."""
    base, _, options = url.partition("?")
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0]
    if "@" in host and "authsource=" not in options.lower():
        options = "&".join(filter(None, [options, "authSource=admin"]))
    return f"{scheme}://{host}/{database}" + (f"?{options}" if options else "")


@pytest.fixture(scope="module")
def own_server():
    """A FerretDB for this module (None without the binary: AISHELL_TEST_MONGO_URL then)."""
    from aishell.engine.bench.mongotemp import FerretServer, ferretdb_binary, missing_reason

    if missing_reason():
        if not os.environ.get("AISHELL_TEST_MONGO_URL"):
            pytest.skip(missing_reason())
        yield None
        return
    server = FerretServer(ferretdb_binary())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shop(own_server) -> str:
    """The URL of a small shop database: orders (nested customer, items) and customers."""
    import pymongo

    url = own_server.url if own_server else os.environ["AISHELL_TEST_MONGO_URL"]
    with pymongo.MongoClient(url, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(DATABASE)
        db = client[DATABASE]
        db.orders.insert_many(
            [
                {"_id": i, "status": ("paid", "open", "void")[i % 3], "total": (i % 97) + 0.5,
                 "customer": {"name": f"c{i % 50}", "city": ("Oslo", "Bergen")[i % 2]}, "items": [{"sku": f"A{i % 7}", "qty": i % 4}]}
                for i in range(300)
            ]
        )
        db.customers.insert_many([{"_id": i, "name": f"c{i}", "email": f"c{i}@example.org"} for i in range(50)])
        db.orders.create_index([("status", 1), ("total", -1)])
        try:
            yield database_url(url, DATABASE)
        finally:
            client.drop_database(DATABASE)


async def loaded(pilot) -> None:
    """Connected, the completion catalog in, the current database open in the tree."""
    app = pilot.app
    await connected(pilot)
    editor = app.screen.query_one("#editor")
    await until(pilot, lambda: "orders" in editor._catalog.tables, what="catalog")
    tree = app.screen.query_one("#schema")
    await until(pilot, lambda: DATABASE in tree._schemas, what="databases")
    tree.expand_schema(DATABASE)
    await until(pilot, lambda: any("orders" in str(n.label) for n in tree._schemas[DATABASE].children), what="collections")


async def test_mongo_workbench(shop):
    app = make_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = app.screen
        target = str(screen.query_one("#target").content)
        assert target.startswith("mongodb://aishell:***@") and "aishell-test-pw" not in target
        editor = screen.query_one("#editor")
        # completion: a collection after db., a nested field where a key goes
        type_sql(pilot, "db.or")
        editor.text_area.cursor_location = (0, 5)
        await pilot.press("ctrl+space")
        await until(pilot, lambda: editor.completion_open, what="collection menu")
        assert [c.text for c in editor._completion.candidates] == ["orders"]
        await pilot.press("tab")
        assert editor.text_area.text == "db.orders"
        type_sql(pilot, "db.orders.find({cust")
        editor.text_area.cursor_location = (0, 20)
        await pilot.press("ctrl+space")
        await until(pilot, lambda: editor.completion_open, what="field menu")
        assert [c.text for c in editor._completion.candidates] == ["customer", "'customer.name'", "'customer.city'"]
        editor.hide_completion()
        # the schema tree: collections with their counts, then a collection's sampled fields
        tree = screen.query_one("#schema")
        labels = [str(n.label) for n in tree._schemas[DATABASE].children]
        assert [label.split()[0] for label in labels] == ["customers", "orders"]
        orders = tree._tables[(DATABASE, "orders")]
        orders.expand()  # the sampled fields with their types, and the indexes
        await until(pilot, lambda: orders.data.loaded and len(orders.children) > 1, what="fields")
        fields = [str(n.label) for n in orders.children]
        assert "customer.city string not null" in fields and "items.sku string not null" in fields and fields[-1] == "indexes (2)"
        # results in the grid, nested fields as dotted columns
        await run(pilot, "db.orders.find({status: 'paid'}, {status: 1, 'customer.city': 1}).sort({_id: 1}).limit(3)")
        g = grid(pilot)
        await until(pilot, lambda: g.finished, what="find")
        assert [c[0] for c in g.columns] == ["_id", "status", "customer.city"]
        assert [tuple(r) for r in g.rows] == [(0, "paid", "Oslo"), (3, "paid", "Bergen"), (6, "paid", "Oslo")]
        # a server error: one line, the server's words
        await run(pilot, "db.orders.find({total: {$nope: 1}})")
        message = str(g.query_one("#results-message").content)
        assert "$nope" in message and "full error" not in message and "\n" not in message


def test_mongo_snapshot(snap_compare, shop, own_server):
    """The workbench on a MongoDB database: the tree, a find and its grid at 120×36."""
    if own_server is None:
        pytest.skip("the picture needs a server holding only this module's database (a FerretDB of its own)")

    async def ready(pilot) -> None:
        await loaded(pilot)
        screen = pilot.app.screen
        screen.timing = False
        screen._metrics_timer.pause()
        screen.query_one("#target").update(SHOWN_URL)
        type_sql(pilot, "db.orders.find({status: 'paid', total: {$gt: 50}})\n  .sort({total: -1, _id: 1})")
        await pilot.press("f5")
        g = grid(pilot)
        await until(pilot, lambda: g.finished, what="find")
        await pilot.pause(0.5)

    assert snap_compare(make_app(shop), terminal_size=SIZE, run_before=ready)
