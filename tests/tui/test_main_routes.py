"""The main screen composes and routes: its controllers' workers report through tui.messages,
each message reaches a handler on the screen, and the screen itself runs no worker."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from textual.message import Message

from aishell.engine.demo import ensure_demo_database
from aishell.tui import controllers, messages
from aishell.tui.controllers import catalog, insights, query
from aishell.tui.screens import main
from aishell.tui.screens.main import MainScreen
from tests.tui.appkit import connected, copy_db, make_app, run, until

CONTROLLERS = (query, insights, catalog)


def _posted_by(module) -> set[type[Message]]:
    """The tui.messages classes a controller module constructs."""
    tree = ast.parse(inspect.getsource(module))
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {cls for name, cls in vars(messages).items() if name in called and isinstance(cls, type) and issubclass(cls, Message)}


def test_every_message_a_controller_posts_has_a_handler_on_the_screen():
    posted = set().union(*(_posted_by(m) for m in CONTROLLERS))
    assert {messages.QueryStarted, messages.RowsFetched, messages.AnalysisReady, messages.TablesLoaded} <= posted
    for cls in posted:
        assert callable(getattr(MainScreen, cls.handler_name, None)), f"MainScreen has no {cls.handler_name}"


def test_the_screen_runs_no_worker_and_controllers_touch_no_widget():
    tree = ast.parse(Path(main.__file__).read_text())
    decorators = [d for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for d in n.decorator_list]
    assert not [d for d in decorators if "work" in ast.unparse(d)]
    for module in (controllers, *CONTROLLERS):
        source = inspect.getsource(module)
        assert "query_one(" not in source and ".query(" not in source and "textual.widgets" not in source, module.__name__


@pytest.fixture
def demo_db(tmp_path_factory, tmp_path) -> Path:
    return copy_db(ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db"), tmp_path)


async def test_workers_report_to_the_screen_in_order(demo_db):
    seen: list[Message] = []
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await connected(pilot)
        await until(pilot, lambda: any(isinstance(m, messages.CatalogLoaded) for m in seen), what="catalog")
        await run(pilot, "SELECT id FROM orders ORDER BY id LIMIT 3")
        await until(pilot, lambda: any(isinstance(m, messages.QueryFinished) for m in seen), what="finished")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        unique = list({id(m): m for m in seen}.values())  # a message bubbles from the screen to the app
        order = [type(m) for m in unique if isinstance(m, (messages.QueryStarted, messages.ColumnsReady, messages.RowsFetched, messages.QueryFinished))]
        assert order == [messages.QueryStarted, messages.ColumnsReady, messages.RowsFetched, messages.QueryFinished]
        kinds = {type(m) for m in seen}
        assert {messages.SchemasLoaded, messages.TablesLoaded, messages.MemoryHits, messages.AnalysisReady} <= kinds
        assert [tuple(r) for r in screen.query_one("#results").rows] == [(1,), (2,), (3,)]
