"""Keys you can discover: the help screen spells every binding as the terminal sends it (once, by
case), and the key bar shows the focused pane's keys with Help and Quit always there."""

from __future__ import annotations

import pytest

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import make_app, until


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory):
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


async def test_help_spells_each_key_once_and_by_case(demo_master):
    from aishell.tui.screens.help import HelpScreen, binding_rows

    app = make_app(demo_master)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        keys = {row[3]: row[1] for row in binding_rows(app)}
        assert keys["editor.complete"] == "Ctrl-Space"
        assert (keys["results.copy_cell"], keys["results.copy_row"]) == ("y", "Shift-Y")
        assert keys["results.cursor_first_row"] == "Home / g / Ctrl-Home"
        assert keys["results.cursor_last_row"] == "End / Shift-G / Ctrl-End"
        assert keys["editor.close_buffer"] == "Alt-W"
        for binding_id, spelled in keys.items():
            parts = spelled.split(" / ")
            assert len(parts) == len(set(parts)), (binding_id, spelled)
        shown = {app.screen.query_one("#help-keys").get_row_at(i)[1] for i in range(len(keys))}
        assert "Shift-Y" in shown


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_key_bar_follows_the_focus_and_keeps_quit(demo_master, size):
    app = make_app(demo_master)
    async with app.run_test(size=size) as pilot:
        bar = app.screen.query_one("#keybar")
        await until(pilot, lambda: "Format" in bar.shown, what="the editor's keys")
        assert bar.shown[:2] == ["Run", "Run all"] and bar.shown[-2:] == ["Help", "Quit"]
        await pilot.press("alt+r")
        await until(pilot, lambda: "Copy cell" in bar.shown, what="the results' keys")
        assert "Format" not in bar.shown and bar.shown[-1] == "Quit"
        text = "".join(seg.text for seg in app.screen.query_one("#keybar").render_line(0))
        assert text.rstrip().endswith("Quit") and len(text) <= size[0]
