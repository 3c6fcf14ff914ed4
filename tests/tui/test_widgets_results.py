"""ResultsGrid: virtualized rendering, paging, record view, copy, export, errors."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import re

import pytest
from textual.widgets import Input

from tests.tui.widgets_harness import WidgetHarness, screen_text, widget_snap_compare  # noqa: F401
from aishell.tui.widgets.results import ResultsBody, ResultsGrid, cell_text, format_elapsed

COLUMNS = [("id", "int4"), ("name", "text"), ("price", "numeric")]


def _rows(start: int, count: int) -> list[tuple]:
    return [(i, f"item {i}", decimal.Decimal(i) / 4) for i in range(start, start + count)]


def _harness(page_size: int = 100) -> tuple[WidgetHarness, ResultsGrid]:
    grid = ResultsGrid(page_size=page_size)
    return WidgetHarness(grid), grid


async def test_million_rows_render_only_visible_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[int | None] = []
    original = ResultsBody._grid_line

    def counting(self, row, *args):
        rendered.append(row)
        return original(self, row, *args)

    monkeypatch.setattr(ResultsBody, "_grid_line", counting)
    app, grid = _harness(page_size=1000)
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS)
        page = 100_000
        for start in range(0, 1_000_000, page):
            grid.append_rows([(i, "x", i) for i in range(start, start + page)])
            await pilot.pause()
        assert grid.row_count == 1_000_000
        visible = grid.body.data_height
        # Ten pages appended, a frame or two each: a few dozen screens of lines, not a million rows.
        assert 0 < len([row for row in rendered if row is not None]) <= visible * 30
        assert all(row is None or row < visible for row in rendered)

        rendered.clear()
        grid.body.focus()
        await pilot.press("G")
        await pilot.pause()
        assert grid.cursor_coordinate == (999_999, 0)
        tail = [row for row in rendered if row is not None and row > visible]
        assert tail and min(tail) >= 1_000_000 - visible
        assert len(rendered) <= 8 * (visible + 1)
        assert "999999" in screen_text(app)


async def test_need_rows_near_end_and_not_after_finish() -> None:
    app, grid = _harness(page_size=100)
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS)
        grid.append_rows(_rows(0, 100))
        await pilot.pause()
        # The viewport already sits within a page of the end of 100 rows.
        assert len(app.posted(ResultsGrid.NeedRows)) == 1
        need = app.posted(ResultsGrid.NeedRows)[0]
        assert need.count == 100 and need.control is grid

        grid.append_rows(_rows(100, 400))
        await pilot.pause()
        assert len(app.posted(ResultsGrid.NeedRows)) == 1  # 500 rows loaded, screen at the top

        grid.body.focus()
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert len(app.posted(ResultsGrid.NeedRows)) == 1
        grid.move_cursor(420, 0)
        await pilot.pause()
        assert len(app.posted(ResultsGrid.NeedRows)) == 2
        # Still waiting for that page: moving again does not ask twice.
        await pilot.press("down", "down")
        await pilot.pause()
        assert len(app.posted(ResultsGrid.NeedRows)) == 2

        grid.append_rows(_rows(500, 100))
        grid.finish(600, 12.5, "SELECT 600")
        await pilot.press("G")
        await pilot.pause()
        assert grid.cursor_coordinate[0] == 599
        assert len(app.posted(ResultsGrid.NeedRows)) == 2
        assert "600 rows · 12.5 ms · SELECT 600" in screen_text(app)


async def test_cursor_navigation_and_copy_via_osc52() -> None:
    app, grid = _harness()
    written: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        original_write = app._driver.write
        app._driver.write = lambda data: (written.append(data), original_write(data))
        grid.set_columns(COLUMNS)
        grid.append_rows(_rows(0, 50))
        grid.finish(50, 3.0, "SELECT 50")
        grid.focus()
        await pilot.pause()
        assert grid.body.has_focus
        await pilot.press("down", "down", "right", "right", "right")
        await pilot.pause()
        assert grid.cursor_coordinate == (2, 2)  # stops at the last column
        await pilot.press("left", "y")
        assert app.clipboard == "item 2"
        payload = base64.b64encode(b"item 2").decode()
        assert any(f"\x1b]52;c;{payload}\a" in data for data in written)
        await pilot.press("Y")
        assert app.clipboard == "2\titem 2\t0.5"
        await pilot.press("up", "up", "up")
        assert grid.cursor_coordinate == (0, 1)
        assert "row 1/50 · name (text)" in screen_text(app)
        # A click puts the cursor on the cell under the mouse (line 0 is the header).
        await pilot.click(ResultsBody, offset=(2, 4))
        assert grid.cursor_coordinate == (3, 0)
        await pilot.click(ResultsBody, offset=(12, 6))
        assert grid.cursor_coordinate == (5, 1)
        await pilot.press("y")
        assert app.clipboard == "item 5"


async def test_cursor_is_reverse_video_without_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, grid = _harness()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        grid.set_columns(COLUMNS)
        grid.append_rows(_rows(0, 3))
        grid.focus()
        await pilot.pause()
        strip = grid.body.render_line(1)
        reversed_text = "".join(segment.text for segment in strip if segment.style and segment.style.reverse)
        assert reversed_text.strip() == "0"


async def test_wide_results_scroll_horizontally_with_the_cursor() -> None:
    app, grid = _harness()
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns([(f"column_{n:02d}", "text") for n in range(30)])
        grid.append_rows([tuple(f"r{r}c{n:02d}" for n in range(30)) for r in range(5)])
        grid.finish(5, 1.0, "SELECT 5")
        grid.focus()
        await pilot.pause()
        header = screen_text(app).splitlines()[0]
        assert header.split()[0] == "column_00" and "column_29" not in header
        grid.move_cursor(0, 27)
        await pilot.press("right", "right", "right")  # the last one stays on the last column
        await pilot.pause()
        assert grid.cursor_coordinate == (0, 29)
        lines = screen_text(app).splitlines()
        assert lines[0].split()[-1] == "column_29" and "column_00" not in lines[0]
        assert lines[1].split()[-1] == "r0c29"
        grid.move_cursor(0, 1)
        await pilot.press("left")
        await pilot.pause()
        assert grid.cursor_coordinate == (0, 0)
        assert screen_text(app).splitlines()[0].split()[0] == "column_00"


async def test_finish_with_fewer_rows_loaded_than_counted() -> None:
    app, grid = _harness()
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS)
        grid.append_rows(_rows(0, 10))
        await pilot.pause()
        assert "10 rows loaded · more rows available" in screen_text(app)
        grid.finish(5000, 250.0, "SELECT 5000")
        await pilot.pause()
        assert "10 of 5,000 rows loaded · 250.0 ms · SELECT 5000" in screen_text(app)
        grid.finish(5000, None, "SELECT 5000")  # timing off: no time at all
        await pilot.pause()
        assert "10 of 5,000 rows loaded · SELECT 5000 " in screen_text(app)


async def test_expanded_record_view() -> None:
    app, grid = _harness()
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS + [("note", "text")])
        grid.append_rows([(1, "apple", decimal.Decimal("1.25"), None), (2, "pear", decimal.Decimal("2"), "ripe")])
        grid.finish(2, 1.0, "SELECT 2")
        grid.body.focus()
        await pilot.press("down", "x")
        await pilot.pause()
        assert grid.expanded
        lines = [line.rstrip() for line in screen_text(app).splitlines()]
        assert lines[0].startswith("-[ RECORD 1 ]")
        assert "name  │ apple" in lines
        assert "note  │ NULL" in lines
        assert lines[5].startswith("-[ RECORD 2 ]")
        assert "note  │ ripe" in lines
        # Up/down walk the fields of the record, then into the next one.
        await pilot.press("down", "down", "down")
        assert grid.cursor_coordinate == (1, 3)
        await pilot.press("x")
        assert not grid.expanded
        assert screen_text(app).splitlines()[0].split() == ["id", "name", "price", "note"]


async def test_column_widths_fit_content_with_cap() -> None:
    grid = ResultsGrid(max_column_width=12)
    app = WidgetHarness(grid)
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns([("a", "text"), ("b", "text")])
        grid.append_rows([("short", "a much longer value than the cap"), ("tiny", "x")])
        grid.finish(2, 1.0, "")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert lines[0].split() == ["a", "b"]
        assert lines[1].startswith(" short  a much long…  ")
        assert lines[2].startswith(" tiny   x  ")


async def test_error_running_timer_and_clear() -> None:
    app, grid = _harness()
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_running(True)
        await pilot.pause(0.25)
        assert re.search(r"Running… \d+\.\d s", screen_text(app))
        grid.show_error('relation "nope" does not exist', 1, 15)
        await pilot.pause()
        text = screen_text(app)
        assert 'ERROR  relation "nope" does not exist' in text
        assert "at line 1, column 15" in text
        assert re.search(r"✗ Error · \d+\.\d+ m?s", text)  # with the time it ran before failing
        grid.clear()
        await pilot.pause()
        text = screen_text(app)
        assert "ERROR" not in text and "No results yet" in text
        # A statement without columns shows its status instead of an empty grid.
        grid.finish(3, 4.0, "UPDATE 3")
        await pilot.pause()
        assert "4.0 ms · UPDATE 3" in screen_text(app)


async def test_export_prompt_posts_export_requested() -> None:
    app, grid = _harness()
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS)
        grid.append_rows(_rows(0, 5))
        grid.finish(5, 1.0, "SELECT 5")
        grid.body.focus()
        await pilot.press("e")
        await pilot.pause()
        prompt = grid.query_one("#results-export", Input)
        assert prompt.has_focus
        prompt.value = "out/data.yml"
        await pilot.press("enter")
        await pilot.pause()
        assert not app.posted(ResultsGrid.ExportRequested)
        assert "Export needs a file name" in screen_text(app)
        prompt.value = ""
        await pilot.press(*"rows.jsonl", "enter")
        await pilot.pause()
        (request,) = app.posted(ResultsGrid.ExportRequested)
        assert (request.fmt, request.path, request.control) == ("jsonl", "rows.jsonl", grid)
        assert grid.body.has_focus
        await pilot.press("e", "escape")
        assert grid.body.has_focus and len(app.posted(ResultsGrid.ExportRequested)) == 1


def test_cell_text_and_elapsed() -> None:
    assert cell_text(None) == "NULL"
    assert cell_text(False) == "false"
    assert cell_text("a\tb\nc\x1b") == "a→b↵c␛"
    assert cell_text({"k": [1, 2]}) == '{"k": [1, 2]}'
    assert format_elapsed(12.34) == "12.3 ms"
    assert format_elapsed(2345) == "2.35 s"
    assert format_elapsed(125_000) == "2 min 05 s"


def _filled(pilot) -> None:
    grid = pilot.app.widget
    grid.set_columns(COLUMNS + [("note", "text"), ("created", "timestamp")])
    grid.append_rows(
        [
            (i, f"item {i}", decimal.Decimal(i) / 4, None if i % 3 else "fragile\nhandle with care", dt.datetime(2024, 5, 1, 12, i % 60))
            for i in range(40)
        ]
    )
    grid.finish(40, 8.25, "SELECT 40")
    grid.body.focus()


def test_snapshot_grid(widget_snap_compare) -> None:
    assert widget_snap_compare(WidgetHarness(ResultsGrid()), run_before=_filled, press=["down", "right"], terminal_size=(80, 24))


def test_snapshot_expanded(widget_snap_compare) -> None:
    assert widget_snap_compare(WidgetHarness(ResultsGrid()), run_before=_filled, press=["down", "x"], terminal_size=(80, 24))


def test_snapshot_error(widget_snap_compare) -> None:
    def run_before(pilot) -> None:
        pilot.app.widget.show_error('syntax error at or near "FORM"', 2, 10)

    assert widget_snap_compare(WidgetHarness(ResultsGrid()), run_before=run_before, terminal_size=(80, 24))
