"""ResultsGrid tools: sort and filter (on loaded rows, or asked of the server), search, the cell
viewer, copying a selection as TSV/CSV/Markdown, End fetching to the real last row, and the
record view starting at its field names."""

from __future__ import annotations

import decimal
import doctest
import importlib
import re

import pytest
from textual.widgets import Input, TextArea

from tests.tui.widgets_harness import WidgetHarness, screen_text
from aishell.tui.widgets.cellviewer import CellViewer
from aishell.tui.widgets.results import ResultsBody, ResultsGrid

COLUMNS = [("id", "int4"), ("name", "text"), ("price", "numeric")]
# Prices chosen so text order (10 < 9) and number order (9 < 10) differ, with NULLs among them.
ROWS = [
    (1, "apple", decimal.Decimal("9")),
    (2, "pear", None),
    (3, "fig", decimal.Decimal("10")),
    (4, "kiwi", decimal.Decimal("100")),
    (5, "plum", None),
    (6, "date", decimal.Decimal("2.5")),
]


def _grid(page_size: int = 100) -> tuple[WidgetHarness, ResultsGrid]:
    grid = ResultsGrid(page_size=page_size)
    return WidgetHarness(grid), grid


def _column(grid: ResultsGrid, index: int) -> list:
    return [row[index] for row in grid.body._grid._shown]


def _lines(app) -> list[str]:
    return screen_text(app).splitlines()


async def _finished(pilot, grid: ResultsGrid, rows=ROWS, columns=COLUMNS) -> None:
    grid.set_columns(columns)
    grid.append_rows(list(rows))
    grid.finish(len(rows), 2.0, f"SELECT {len(rows)}")
    grid.focus()
    await pilot.pause()


@pytest.mark.parametrize("name", ["rowview", "cellrange", "cellviewer"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(f"aishell.tui.widgets.{name}"))
    assert result.attempted > 0 and result.failed == 0


async def test_sort_cycles_ascending_descending_off_with_sql_order() -> None:
    app, grid = _grid()
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid)
        await pilot.press("right", "right", "s")
        # Numbers as numbers, NULLs last ascending (PostgreSQL's order).
        assert _column(grid, 2) == [decimal.Decimal(v) for v in ("2.5", "9", "10", "100")] + [None, None]
        assert "price ▲" in _lines(app)[1]
        assert grid.view_text == "Sort: price ▲" and _lines(app)[0].strip() == "Sort: price ▲"
        assert grid.cursor_coordinate == (0, 2)
        await pilot.press("s")
        assert _column(grid, 2) == [None, None] + [decimal.Decimal(v) for v in ("100", "10", "9", "2.5")]
        assert "price ▼" in _lines(app)[1]
        # NULL ties keep the result's order (stable sort): pear (2) before plum (5).
        assert _column(grid, 0)[:2] == [2, 5]
        await pilot.press("s")
        assert _column(grid, 0) == [1, 2, 3, 4, 5, 6]
        assert "▲" not in screen_text(app) and "▼" not in screen_text(app)
        assert not app.posted(ResultsGrid.ViewRequested)  # everything was loaded: no server


async def test_filter_prompt_keeps_rows_where_condition_holds() -> None:
    app, grid = _grid()
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid)
        await pilot.press("f")
        prompt = grid.query_one("#results-prompt", Input)
        assert prompt.has_focus
        await pilot.press(*"price>=9")
        prompt.value += " and name <> 'fig'"
        await pilot.press("enter")
        assert _column(grid, 1) == ["apple", "kiwi"]  # NULL >= 9 is unknown: not kept
        assert grid.body.has_focus
        assert "2 of 6 rows shown" in screen_text(app)
        assert grid.view_text == 'Filter: "price" >= 9 AND "name" <> \'fig\''
        # The simple form: a bare word beside a column is a string; sort applies on top.
        await pilot.press("f")
        prompt.value = "name in (pear, plum, date) or price is null"
        await pilot.press("enter", "s")
        assert _column(grid, 0) == [2, 5, 6]
        await pilot.press("s")
        assert _column(grid, 0) == [6, 5, 2]
        # A condition that is not one, or names no column, says so and changes nothing.
        await pilot.press("f")
        prompt.value = "prize > 3"
        await pilot.press("enter")
        assert prompt.has_focus and "no column named 'prize'" in screen_text(app)
        assert _column(grid, 0) == [6, 5, 2]
        prompt.value = ""
        await pilot.press("enter")
        assert sorted(_column(grid, 0)) == [1, 2, 3, 4, 5, 6] and "Filter:" not in screen_text(app)


async def test_streaming_result_asks_the_server_and_keeps_the_view() -> None:
    app, grid = _grid()
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS)
        grid.append_rows(ROWS[:4])  # more rows to come
        grid.focus()
        await pilot.press("right", "right", "s")
        (request,) = app.posted(ResultsGrid.ViewRequested)
        assert request.order == ("price", False) and request.where is None and request.control is grid
        assert grid.view_text == "Sort: price ▲ · asking the server…"
        await pilot.press("f")
        grid.query_one("#results-prompt", Input).value = "price > 5"
        await pilot.press("enter")
        request = app.posted(ResultsGrid.ViewRequested)[-1]
        assert request.where.sql() == '"price" > 5' and request.order == ("price", False)
        # The screen runs the wrapped statement: a new result with the same columns keeps the view.
        grid.clear()
        grid.set_columns(COLUMNS)
        grid.append_rows([ROWS[2], ROWS[3]])
        grid.finish(2, 5.0, "SELECT 2")
        await pilot.pause()
        assert "price ▲" in _lines(app)[1]
        assert grid.view_text == 'Sort: price ▲ · Filter: "price" > 5 · by the server'
        assert grid.cursor_coordinate[1] == 2
        assert _column(grid, 0) == [3, 4]  # not filtered again here
        # Another statement's result drops the view.
        grid.clear()
        grid.set_columns([("x", "int4")])
        await pilot.pause()
        assert "Filter" not in screen_text(app) and "▲" not in screen_text(app)


async def test_view_the_server_cannot_do_applies_to_loaded_rows() -> None:
    app, grid = _grid(page_size=2)
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS)
        grid.append_rows(ROWS[:3])
        grid.focus()
        await pilot.press("right", "right", "s")
        grid.apply_view_locally("MongoDB results are sorted and filtered on the loaded rows")
        await pilot.pause()
        assert _column(grid, 2) == [decimal.Decimal(9), decimal.Decimal(10), None]
        assert grid.view_text == "Sort: price ▲ · loaded rows only: MongoDB results are sorted and filtered on the loaded rows"
        grid.append_rows(ROWS[3:])  # rows loaded later join the sorted view
        await pilot.pause()
        assert _column(grid, 2)[:4] == [decimal.Decimal(v) for v in ("2.5", "9", "10", "100")]
        assert len(app.posted(ResultsGrid.ViewRequested)) == 1


async def test_search_moves_between_matches_and_highlights_them() -> None:
    app, grid = _grid()
    rows = [(i, f"name {i}", "needle" if i % 7 == 0 else "hay") for i in range(60)]
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid, rows, [("id", "int4"), ("name", "text"), ("what", "text")])
        await pilot.press("slash")
        assert grid.query_one("#results-prompt", Input).has_focus
        await pilot.press(*"NEEDLE", "enter")  # case-insensitive
        assert grid.cursor_coordinate == (0, 2)
        assert "match 1 of 9 · 'NEEDLE'" in screen_text(app)
        await pilot.press("n", "n")
        assert grid.cursor_coordinate == (14, 2) and "match 3 of 9" in screen_text(app)
        await pilot.press("N")
        assert grid.cursor_coordinate == (7, 2) and "match 2 of 9" in screen_text(app)
        await pilot.press("N", "N")  # wraps around to the last
        assert grid.cursor_coordinate == (56, 2) and "match 9 of 9" in screen_text(app)
        # Matches other than the cursor's are highlighted.
        await pilot.press("g")
        await pilot.pause()
        strip = grid.body.render_line(8)  # row 7 (line 0 is the header)
        styled = [segment for segment in strip if "needle" in segment.text]
        assert styled and styled[0].style.underline
        assert grid.body.claims_escape
        await pilot.press("escape")
        assert not grid.body.claims_escape
        await pilot.press("n")
        assert "No search" in screen_text(app)


async def test_cell_viewer_pretty_prints_json_and_copies() -> None:
    app, grid = _grid()
    long_text = "word " * 400
    rows = [(1, {"b": [1, 2], "a": {"deep": True}}, '{"k": "v"}'), (2, long_text, "x")]
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid, rows, [("id", "int4"), ("doc", "jsonb"), ("note", "text")])
        await pilot.press("right", "v")
        viewer = app.screen
        assert isinstance(viewer, CellViewer)
        area = viewer.query_one(TextArea)
        assert area.has_focus and area.read_only
        assert area.text == '{\n  "b": [\n    1,\n    2\n  ],\n  "a": {\n    "deep": true\n  }\n}'
        assert "doc (jsonb) · row 1" in screen_text(app)
        await pilot.press("y")
        assert app.clipboard == area.text
        from textual.widgets.text_area import Selection

        area.selection = Selection((1, 2), (1, 5))  # a selection copies with ctrl+c
        await pilot.press("ctrl+c")
        assert app.clipboard == '"b"'
        await pilot.press("escape")
        assert not isinstance(app.screen, CellViewer) and grid.body.has_focus
        await pilot.press("right", "enter")  # JSON text in a text column is pretty-printed too
        assert app.screen.query_one(TextArea).text == '{\n  "k": "v"\n}'
        await pilot.press("escape", "down", "left", "v")
        area = app.screen.query_one(TextArea)
        assert area.text == long_text and area.soft_wrap  # long text wraps, nothing cut
        await pilot.press("escape")


async def test_selection_copies_as_tsv_csv_and_markdown() -> None:
    app, grid = _grid()
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid)
        await pilot.press("down", "shift+down", "shift+right")
        assert "2×2 cells selected" in screen_text(app)
        await pilot.press("y")
        assert app.clipboard == "2\tpear\n3\tfig"
        await pilot.press("C")
        assert app.clipboard == "id,name\n2,pear\n3,fig"
        await pilot.press("M")
        assert app.clipboard == "| id | name |\n| --- | --- |\n| 2 | pear |\n| 3 | fig |"
        await pilot.press("escape")
        assert "selected" not in screen_text(app)
        await pilot.press("y")
        assert app.clipboard == "fig"  # back to the one cell
        # V selects whole rows and follows the cursor; a plain move does not end it.
        await pilot.press("V", "down", "down")
        assert "3 rows selected" in screen_text(app)
        await pilot.press("y")
        assert app.clipboard == "3\tfig\t10\n4\tkiwi\t100\n5\tplum\t"
        await pilot.press("V", "C")  # V again ends it; C copies the row under the cursor
        assert app.clipboard == "id,name,price\n5,plum,"


async def test_end_fetches_to_the_real_last_row_and_escape_stops() -> None:
    class Answering(WidgetHarness):
        """Answers NeedRows like the app: a page each time, until `total`, then finish."""

        total = 1000
        answer = True

        def on_results_grid_need_rows(self, message: ResultsGrid.NeedRows) -> None:
            grid, loaded = self.widget, self.widget.row_count
            if not self.answer:
                return
            if loaded >= self.total:
                grid.finish(loaded, 40.0, f"SELECT {loaded}")
            else:
                grid.append_rows([(i, f"n{i}", None) for i in range(loaded, min(loaded + 100, self.total))])

    grid = ResultsGrid(page_size=100)
    app = Answering(grid)
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS)
        grid.append_rows([(i, f"n{i}", None) for i in range(100)])
        grid.focus()
        await pilot.pause()
        app.answer = False  # the first NeedRows (near the end already) goes unanswered
        assert not grid.finished
        app.answer = True
        grid._need_pending = False
        await pilot.press("end")
        assert "Fetching to the end…" in screen_text(app) or grid.finished
        for _ in range(100):
            if grid.finished:
                break
            await pilot.pause(0.02)
        assert grid.finished and grid.row_count == 1000
        assert grid.cursor_coordinate[0] == 999
        assert "1,000 rows · 40.0 ms · SELECT 1000" in screen_text(app)

    grid = ResultsGrid(page_size=100)
    app = Answering(grid)
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_columns(COLUMNS)
        grid.append_rows([(i, f"n{i}", None) for i in range(100)])
        grid.focus()
        await pilot.pause()
        app.answer = False  # the server is slow: pages stop coming
        grid._need_pending = False
        await pilot.press("end")
        loaded = grid.row_count
        assert f"Fetching to the end… {loaded} rows loaded" in screen_text(app)
        assert grid.body.claims_escape
        await pilot.press("escape")
        assert f"Stopped: {loaded} loaded of more" in screen_text(app)
        assert grid.cursor_coordinate[0] == loaded - 1 and not grid.body.claims_escape
        # A result stopped early says so at End.
        grid.finish(loaded, None, f"stopped after {loaded} rows", complete=False)
        await pilot.press("g", "end")
        assert grid.cursor_coordinate[0] == loaded - 1
        assert f"{loaded} loaded of more" in screen_text(app)


async def test_expanded_view_starts_at_first_column_with_field_names() -> None:
    app, grid = _grid()
    columns = [(f"column_{n:02d}", "text") for n in range(30)]
    rows = [tuple(f"r{r}c{n:02d}" + ("-long" * 30 if n == 3 else "") for n in range(30)) for r in range(3)]
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid, rows, columns)
        grid.move_cursor(0, 29)
        await pilot.pause()
        assert grid.body.scroll_x > 0
        await pilot.press("x")
        await pilot.pause()
        assert grid.body.scroll_x == 0
        lines = [line.rstrip() for line in _lines(app)]
        assert lines[0].startswith("-[ RECORD 1 ]")
        assert lines[1].startswith("column_00 │ r0c00")
        await pilot.press("right")  # the next record
        assert grid.cursor_coordinate == (1, 29)
        grid.move_cursor(1, 0)
        # Scrolled sideways, the values move and the field names stay.
        grid.body.scroll_to(x=40, animate=False, immediate=True)
        await pilot.pause()
        text = [line for line in _lines(app) if line.startswith("column_03 │")]
        assert text and "r" not in text[0].split("│")[1][:3]  # the value's start scrolled away
        assert any(line.startswith("column_00 │") for line in _lines(app))


async def test_escape_belongs_to_the_grid_only_when_it_has_something_to_close() -> None:
    app, grid = _grid()
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid)
        from aishell.tui.widgets.results import claims_escape

        assert not claims_escape(grid.body)
        await pilot.press("shift+down")
        assert claims_escape(grid.body)
        await pilot.press("f")
        assert claims_escape(app.focused)
        await pilot.press("escape")
        assert isinstance(app.focused, ResultsBody)


async def test_big_streaming_result_shows_count_and_time_at_80_columns() -> None:
    app, grid = _grid(page_size=1000)
    async with app.run_test(size=(80, 24)) as pilot:
        grid.set_running(True)
        grid.set_columns(COLUMNS)
        grid.set_running(False)  # the screen stops the timer as the first page arrives…
        grid.append_rows([(i, f"n{i}", None) for i in range(1000)])  # …then appends it
        await pilot.pause()
        status = _lines(app)[-1]
        assert "1,000 rows loaded · more rows available · first rows in" in status
        assert re.search(r"first rows in [\d.]+ m?s +1/1,000\+ · id $", status)
        grid.held = "snapshot held"  # what the screen adds while a cursor holds a snapshot
        await pilot.pause()
        assert re.search(r"^ snapshot held · 1,000\+ rows · first rows in [\d.]+ m?s +1/1,000\+ · id $", _lines(app)[-1])


async def test_sorting_many_rows_runs_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    import aishell.tui.widgets.results as results

    monkeypatch.setattr(results, "_BACKGROUND_ROWS", 100)
    app, grid = _grid()
    rows = [(i, f"n{i}", decimal.Decimal(i * 37 % 1000)) for i in range(3000)]
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid, rows)
        grid.move_cursor(5, 2)
        await pilot.press("s")
        for _ in range(100):
            if _column(grid, 2)[:1] == [decimal.Decimal(0)]:
                break
            await pilot.pause(0.02)
        assert _column(grid, 2) == sorted(row[2] for row in rows)
        assert grid.cursor_coordinate == (0, 2) and "Sorting" not in screen_text(app)
        # Search too runs in a thread, and finds in the order shown.
        await pilot.press("slash", *"n1", "enter")
        for _ in range(100):
            if "match 1 of" in screen_text(app):
                break
            await pilot.pause(0.02)
        expected = sorted(((position, 1) for position, row in enumerate(grid.body._grid._shown) if "n1" in row[1]))
        assert grid._search.matches == expected and grid.cursor_coordinate == expected[0]
        assert f"match 1 of {len(expected):,}" in screen_text(app)
        # A filter that fails on loaded rows (a function only a database has) says so.
        await pilot.press("f")
        grid.query_one("#results-prompt", Input).value = "md5(name) = 'x'"
        await pilot.press("enter")
        for _ in range(100):
            if "only be evaluated by the database" in screen_text(app):
                break
            await pilot.pause(0.02)
        assert "can only be evaluated by the database" in screen_text(app)
        assert "Filter" not in grid.view_text and len(_column(grid, 2)) == 3000


async def test_search_in_a_sorted_view_goes_in_the_order_shown() -> None:
    app, grid = _grid()
    rows = [(i, "needle" if i % 10 == 3 else "hay") for i in range(3000)]  # three packed chunks
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid, rows, [("id", "int4"), ("what", "text")])
        await pilot.press("s", "s")  # id descending
        await pilot.press("slash", *"needle", "enter")
        assert grid.cursor_coordinate == (6, 1) and _column(grid, 0)[6] == 2993
        assert "match 1 of 300" in screen_text(app)
        await pilot.press("n")
        assert _column(grid, 0)[grid.cursor_coordinate[0]] == 2983


async def test_keys_typed_right_after_slash_or_f_reach_the_prompt() -> None:
    """A fast typist's '/needle' arrives as one batch of keys: none may go to the grid."""
    from textual import events

    app, grid = _grid()
    rows = [(i, "needle" if i == 4 else "hay") for i in range(10)]
    async with app.run_test(size=(80, 24)) as pilot:
        await _finished(pilot, grid, rows, [("id", "int4"), ("what", "text")])
        for key, char in [("slash", "/"), ("n", "n"), ("e", "e"), ("e", "e"), ("d", "d")]:
            app.post_message(events.Key(key, char))
        await pilot.pause()
        assert grid.query_one("#results-prompt", Input).value == "need"
        await pilot.press("enter")
        assert grid.cursor_coordinate == (4, 1)
        for key, char in [("f", "f"), ("i", "i"), ("d", "d")]:
            app.post_message(events.Key(key, char))
        await pilot.pause()
        assert grid.query_one("#results-prompt", Input).value == "id"
