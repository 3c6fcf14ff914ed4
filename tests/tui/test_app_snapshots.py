"""Snapshot tests (pytest-textual-snapshot) of the workbench at 120×36 and 80×24.

The SVGs live in the top-level ``snapshots/`` folder (the README embeds ``snapshots/main.svg``);
``pytest --snapshot-update tests/tui/test_app_snapshots.py`` rewrites them after a deliberate
change. Everything on screen is deterministic: a demo database at a fixed path, timing off,
a steady cursor, and for the metrics pane a fixed pair of snapshots (live figures vary).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_textual_snapshot

from aishell.engine.demo import ensure_demo_database
from aishell.tui.screens.dialogs import ConfirmScreen
from tests.tui.appkit import connected, grid, make_app, type_sql, until

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")
SNAPSHOTS = Path(__file__).resolve().parents[2] / "snapshots"
DEMO = Path("/tmp/aishell-snapshots/demo.db")
SIZES = {"120x36": (120, 36), "80x24": (80, 24)}
QUERY = "SELECT c.country, count(*) AS orders, round(sum(o.total), 2) AS revenue\nFROM orders o JOIN customers c ON c.id = o.customer_id\nWHERE o.status = 'shipped'\nGROUP BY c.country\nORDER BY revenue DESC"

POOL = {
    "backend": "sqlite", "size": 2, "min_size": 1, "max_size": 10, "in_use": 1, "idle": 1, "waiters": 0,
    "acquisitions": 42, "releases": 41, "timeouts": 0, "errors": 0, "acquire_p50": 0.00002, "acquire_p95": 0.0004,
    "acquire_p99": 0.0011, "peak_in_use": 2, "opened": 2, "closed": 0, "lifetime_avg": 0.0, "lifetime_max": 12.0,
    "breaker": "closed", "breaker_failures": 0,
}
CACHE = {
    "hits": 30, "misses": 12, "hit_rate": 30 / 42, "entries": 12, "bytes": 48_000, "max_entries": 1024,
    "max_bytes": 64 * 1024 * 1024, "evictions": 0, "invalidations": 1, "uncacheable": 3,
}


class SnapshotsDir(pytest_textual_snapshot.SVGImageExtension):
    """Store SVGs as ``snapshots/<test name without test_>.svg``."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOTS)

    @classmethod
    def get_snapshot_name(cls, *, test_location, index=0) -> str:
        name = test_location.snapshot_name.removeprefix("test_")
        return name.replace("[", "-").replace("]", "")


@pytest.fixture(autouse=True)
def _snapshots_in_top_level_folder(monkeypatch):
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", SnapshotsDir)


@pytest.fixture(scope="module")
def demo() -> Path:
    return ensure_demo_database(DEMO)


def app_for(demo: Path, **kwargs):
    return make_app(demo, **kwargs)


async def ready(pilot, *, query: str | None = QUERY) -> None:
    """Connected, schema listed, timing off, and (optionally) a finished query on screen."""
    app = pilot.app
    await connected(pilot)
    screen = app.screen
    screen.timing = False
    screen._metrics_timer.pause()
    if not screen.narrow:
        tree = screen.query_one("#schema")
        await until(pilot, lambda: len(tree.root.children) and tree.root.children[0].children, what="tables")
    if query:
        type_sql(pilot, query)
        editor = screen.query_one("#editor")
        editor.text_area.cursor_location = (0, 0)
        await pilot.press("f5")
        g = grid(pilot)
        await until(pilot, lambda: g.finished, what="query")
    # Findings depend on the catalog (schema-aware rules): analyze once it is loaded.
    editor = screen.query_one("#editor")
    await until(pilot, lambda: editor._catalog.tables, what="catalog")
    await pilot.pause()
    count = screen.analyses
    screen.insights.pending = editor.current_statement()
    screen.insights.analyze_now()
    if screen.insights.pending is not None:
        await until(pilot, lambda: screen.analyses > count, what="analysis")
    await pilot.pause()


def test_main(snap_compare, demo):
    """The README screenshot: a query and its result at 120×36."""
    assert snap_compare(app_for(demo), terminal_size=(120, 36), run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_main_screen(snap_compare, demo, size):
    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=ready)


@pytest.mark.parametrize("pane", ["editor", "results", "suggestions", "metrics", "memory", "schema"])
@pytest.mark.parametrize("size", SIZES)
def test_pane(snap_compare, demo, size, pane):
    keys = {"editor": "alt+e", "results": "alt+r", "suggestions": "alt+s", "metrics": "alt+m", "memory": "alt+h", "schema": "alt+d"}

    async def focus(pilot):
        # Memory hits show their age: keep the store empty so the picture does not change.
        await ready(pilot, query=None if pane == "memory" else QUERY)
        await pilot.press(keys[pane])
        if pane == "metrics":  # fixed figures: the live sample taken as the tab opened goes
            pilot.app.screen._metrics_timer.pause()
            metrics = pilot.app.screen.query_one("#metrics")
            metrics.reset_history()
            metrics.update_metrics(POOL, CACHE)
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=focus)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, demo, size):
    async def open_help(pilot):
        await ready(pilot, query=None)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=open_help)


@pytest.mark.parametrize("size", SIZES)
def test_error(snap_compare, demo, size):
    async def error(pilot):
        await ready(pilot, query="SELECT id, totl\nFROM orders\nWHERE status = 'shipped'")
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=error)


@pytest.mark.parametrize("size", SIZES)
def test_confirmation(snap_compare, demo, size):
    async def confirm(pilot):
        await ready(pilot, query=None)
        screen = pilot.app.screen
        type_sql(pilot, "DELETE FROM order_items")
        # the DELETE's finding (missing WHERE) is in the picture: analyzed before F5, not raced
        count = screen.analyses
        screen.insights.pending = screen.query_one("#editor").current_statement()
        screen.insights.analyze_now()
        await until(pilot, lambda: screen.analyses > count, what="the DELETE analyzed")
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the question")
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=confirm)


@pytest.mark.parametrize("theme", ["aishell-dark", "aishell-light", "aishell-high-contrast", "aishell-ansi"])
@pytest.mark.parametrize("size", SIZES)
def test_theme(snap_compare, demo, size, theme, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor")
    assert snap_compare(app_for(demo, theme=theme), terminal_size=SIZES[size], run_before=ready)
