"""Results pane: a virtualized grid for query results of any size.

Only the lines on screen are rendered (Textual's Line API on a ``ScrollView``), so a
result of a million rows scrolls as smoothly as one of ten; rows are kept packed in chunks
(``RowStore``), a sixth of the memory of Python tuples. Rows arrive in pages: the
grid asks for more with ``NeedRows`` when the cursor or the viewport gets within a page
of the last loaded row, and the app answers with ``append_rows``.

Public API (the app codes against exactly this)::

    grid = ResultsGrid(page_size=500, max_column_width=40)
    grid.set_columns(columns: list[tuple[str, str]])   # new result: (name, type name); drops old rows
    grid.append_rows(rows: list[tuple])                # a page of rows, in order
    grid.finish(rowcount: int, elapsed_ms: float | None, status: str)   # no more rows will come; None: no time shown
    grid.show_error(message: str, line: int | None, column: int | None)
    grid.clear()                                       # back to the empty state
    grid.set_running(running: bool)                    # running timer in the status line
    grid.request_export(fmt: str, path: str)           # posts ExportRequested (also bound to a key)
    grid.move_cursor(row: int, column: int)
    grid.focus()                                       # focuses the scrolling grid (grid.body)
    grid.expanded: bool                                # reactive: record view (psql's \\x)
    grid.columns -> list[tuple[str, str]]; grid.rows -> Sequence[tuple] (loaded rows)
    grid.row_count -> int; grid.finished -> bool; grid.cursor_coordinate -> tuple[int, int]

    ResultsGrid.NeedRows(grid, count)             # wants `count` more rows appended
    ResultsGrid.ExportRequested(grid, fmt, path)  # fmt in EXPORT_FORMATS; the screen writes the file

Keys (binding ids in brackets): arrows/PageUp/PageDown/Home/End/g/G move the cell cursor
[results.cursor_*]; ``y`` copies the cell and ``Y`` the row (tab-separated) through OSC 52
[results.copy_cell, results.copy_row]; ``e`` asks for a file name to export to
[results.export]; ``x`` toggles the record view [results.toggle_expanded]. A click puts the
cursor on a cell; the wheel scrolls.

Status line while running: ``Running… 1.2 s``; while the result streams: ``500 rows loaded ·
more rows available``; at the end: ``1,000,000 rows · 2.35 s · SELECT 1000000``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import time
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from aishell.tui.widgets.rowstore import RowStore

__all__ = ["EXPORT_FORMATS", "ResultsGrid", "cell_text", "format_elapsed"]

EXPORT_FORMATS = ("csv", "json", "jsonl")
"""Formats `ExportRequested` carries; the screen writes them with ``aishell.engine.encode.export_rows``."""

_SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}

# Control characters must never reach the terminal: newlines and tabs get visible marks,
# the rest their Unicode "control picture".
_CONTROL = {code: chr(0x2400 + code) for code in range(32)}
_CONTROL.update({10: "↵", 9: "→", 13: "", 127: "␡"})

_WIDTH_FULL = 2000
"""The first rows of a result are all measured for column widths…"""

_WIDTH_SAMPLE = 256
"""…then at most this many rows of each later page, evenly spread."""

_EXPANDED_VALUE_CAP = 1000
"""Longest value shown in the record view before truncation."""

_CELL_PADDING = 1

_REVERSE = Style(reverse=True)


def cell_text(value: Any) -> str:
    """One-line display text for a cell value (no styling, control characters replaced).

    >>> cell_text(None), cell_text(True), cell_text(b"\\x01\\xff"), cell_text("a\\nb")
    ('NULL', 'true', '\\\\x01ff', 'a↵b')
    """
    if value is None:
        return "NULL"
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, float):
        return repr(value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    elif isinstance(value, _dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if text.isprintable() else text.translate(_CONTROL)


def _copy_text(value: Any) -> str:
    """What copying a cell puts on the clipboard: strings as they are, NULL as nothing."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return cell_text(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _fit(text: str, width: int, right: bool = False) -> str:
    """Pad or truncate (with "…") `text` to exactly `width` cells."""
    length = len(text) if text.isascii() else cell_len(text)
    if length > width:
        if width <= 1:
            return "…"[:width]
        text = set_cell_size(text, width - 1) + "…"
        length = width
    padding = " " * (width - length)
    return padding + text if right else text + padding


def format_elapsed(ms: float) -> str:
    """Human elapsed time: ``12.3 ms``, ``1.24 s``, ``2 min 05 s``."""
    if ms < 1000:
        return f"{ms:.1f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


# --------------------------------------------------------------------------- widgets


class ResultsBody(ScrollView, can_focus=True):
    """The scrolling grid inside a `ResultsGrid`; it renders only the visible lines."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="results.cursor_up", tooltip="Move to the row above"),
        Binding("down,j", "cursor_down", "Down", show=False, id="results.cursor_down", tooltip="Move to the row below"),
        Binding("left,h", "cursor_left", "Left", show=False, id="results.cursor_left", tooltip="Move to the column on the left"),
        Binding("right,l", "cursor_right", "Right", show=False, id="results.cursor_right", tooltip="Move to the column on the right"),
        Binding("pageup", "page_up", "Page up", show=False, id="results.cursor_page_up", tooltip="Move one screen up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="results.cursor_page_down", tooltip="Move one screen down"),
        Binding("home,g,ctrl+home", "first_row", "First row", show=False, id="results.cursor_first_row", tooltip="Go to the first row"),
        Binding("end,G,ctrl+end", "last_row", "Last row", show=False, id="results.cursor_last_row", tooltip="Go to the last loaded row"),
    ]

    COMPONENT_CLASSES = {
        "results-grid--header",
        "results-grid--cursor",
        "results-grid--cursor-row",
        "results-grid--null",
        "results-grid--label",
        "results-grid--record",
    }

    DEFAULT_CSS = """
    ResultsBody {
        height: 1fr;
        background: $surface;
        & > .results-grid--header { background: $panel; color: $text; text-style: bold; }
        & > .results-grid--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .results-grid--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .results-grid--cursor-row { background: $foreground 5%; }
        & > .results-grid--null { color: $text-muted; text-style: italic; }
        & > .results-grid--label { color: $accent; text-style: bold; }
        & > .results-grid--record { color: $text-muted; }
    }
    """

    cursor_row: reactive[int] = reactive(0, init=False)
    """Index of the row under the cursor (into the loaded rows)."""

    cursor_column: reactive[int] = reactive(0, init=False)
    """Index of the column under the cursor."""

    def __init__(self, grid: ResultsGrid, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._grid = grid

    def watch_cursor_row(self) -> None:
        self._cursor_moved()

    def watch_cursor_column(self) -> None:
        self._cursor_moved()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._grid._check_need_rows()

    def on_resize(self) -> None:
        self._grid._check_need_rows()

    def on_click(self, event: events.Click) -> None:
        """Put the cursor on the clicked cell (or record field)."""
        grid = self._grid
        if not grid._columns or not grid._rows:
            return
        scroll_x, scroll_y = self.scroll_offset
        if grid.expanded:
            row, field = divmod(scroll_y + event.y, len(grid._columns) + 1)
            if row < len(grid._rows):
                self.cursor_row, self.cursor_column = row, max(0, field - 1)
            return
        if event.y < 1:
            return
        row = scroll_y + event.y - 1
        column = bisect_right(grid._offsets, scroll_x + event.x) - 1
        if row < len(grid._rows) and 0 <= column < len(grid._columns):
            self.cursor_row, self.cursor_column = row, column

    # -- geometry

    @property
    def data_height(self) -> int:
        """Rows of data visible at once (the header line excluded in grid mode)."""
        height = self.scrollable_content_region.height
        return max(1, height if self._grid.expanded else height - 1)

    def last_visible_row(self) -> int:
        """Index of the last row (partly) on screen."""
        grid = self._grid
        if grid.expanded:
            per_record = len(grid._columns) + 1
            return int(self.scroll_y + self.data_height) // max(1, per_record)
        return int(self.scroll_y) + self.data_height - 1

    def update_virtual_size(self) -> None:
        grid = self._grid
        if not grid._columns:
            self.virtual_size = Size(0, 0)
        elif grid.expanded:
            value_width = min(max(grid._seen_widths, default=1), _EXPANDED_VALUE_CAP)
            self.virtual_size = Size(
                grid._label_width + 3 + value_width,
                len(grid._rows) * (len(grid._columns) + 1),
            )
        else:
            self.virtual_size = Size(grid._offsets[-1], len(grid._rows) + 1)

    # -- cursor

    def _cursor_moved(self) -> None:
        self.scroll_to_cursor()
        self.refresh()
        self._grid._cursor_moved()

    def scroll_to_cursor(self) -> None:
        grid = self._grid
        if not grid._columns:
            return
        row, column = self.cursor_row, self.cursor_column
        width = self.scrollable_content_region.width
        data_height = self.data_height
        scroll_x, scroll_y = int(self.scroll_x), int(self.scroll_y)
        if grid.expanded:
            line = row * (len(grid._columns) + 1) + 1 + column
            target_y = scroll_y
            if line - 1 < scroll_y:
                target_y = max(0, line - 1)
            elif line >= scroll_y + data_height:
                target_y = line - data_height + 1
            self.scroll_to(y=target_y, animate=False, immediate=True)
            return
        target_y = scroll_y
        if row < scroll_y:
            target_y = row
        elif row >= scroll_y + data_height:
            target_y = row - data_height + 1
        left, right = grid._offsets[column], grid._offsets[column + 1]
        target_x = scroll_x
        if left < scroll_x or right - left > width:
            target_x = left
        elif right > scroll_x + width:
            target_x = right - width
        self.scroll_to(x=target_x, y=target_y, animate=False, immediate=True)

    def _move(self, rows: int = 0, columns: int = 0) -> None:
        grid = self._grid
        if not grid._rows or not grid._columns:
            return
        last_row, last_column = len(grid._rows) - 1, len(grid._columns) - 1
        if grid.expanded and rows and not columns:
            # Up/down walk the fields, crossing into the neighbouring record.
            position = self.cursor_row * (last_column + 1) + self.cursor_column + rows
            position = min(max(position, 0), len(grid._rows) * (last_column + 1) - 1)
            row, column = divmod(position, last_column + 1)
        else:
            row = min(max(self.cursor_row + rows, 0), last_row)
            column = min(max(self.cursor_column + columns, 0), last_column)
        self.cursor_row, self.cursor_column = row, column

    def action_cursor_up(self) -> None:
        self._move(rows=-1)

    def action_cursor_down(self) -> None:
        self._move(rows=1)

    def action_cursor_left(self) -> None:
        if self._grid.expanded:
            self._move_record(-1)
        else:
            self._move(columns=-1)

    def action_cursor_right(self) -> None:
        if self._grid.expanded:
            self._move_record(1)
        else:
            self._move(columns=1)

    def _move_record(self, records: int) -> None:
        grid = self._grid
        if grid._rows:
            self.cursor_row = min(max(self.cursor_row + records, 0), len(grid._rows) - 1)

    def action_page_up(self) -> None:
        if self._grid.expanded:
            self._move_record(-1)
        else:
            self._move(rows=-self.data_height)

    def action_page_down(self) -> None:
        if self._grid.expanded:
            self._move_record(1)
        else:
            self._move(rows=self.data_height)

    def action_first_row(self) -> None:
        if self._grid._rows:
            self.cursor_row = 0

    def action_last_row(self) -> None:
        if self._grid._rows:
            self.cursor_row = len(self._grid._rows) - 1

    # -- rendering

    def render_line(self, y: int) -> Strip:
        grid = self._grid
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if not grid._columns:
            return Strip.blank(width, base)
        if grid.expanded:
            return self._record_line(scroll_y + y, scroll_x, width, base)
        if y == 0:
            return self._grid_line(None, scroll_x, width, base)
        row = scroll_y + y - 1
        if row >= len(grid._rows):
            return Strip.blank(width, base)
        return self._grid_line(row, scroll_x, width, base)

    def _grid_line(self, row: int | None, scroll_x: int, width: int, base: Style) -> Strip:
        """The header (`row` None) or one data row, cut to the visible columns."""
        grid = self._grid
        offsets = grid._offsets
        first = max(0, bisect_right(offsets, scroll_x) - 1)
        last = min(len(grid._columns), bisect_right(offsets, scroll_x + width))
        pad = " " * _CELL_PADDING
        segments: list[Segment] = []
        if row is None:
            style = base + self.get_component_rich_style("results-grid--header")
            for index in range(first, last):
                name = grid._columns[index][0].translate(_CONTROL)
                segments.append(Segment(pad + _fit(name, grid._widths[index]) + pad, style))
        else:
            values = grid._rows[row]
            on_cursor_row = row == self.cursor_row
            row_style = base + self.get_component_rich_style("results-grid--cursor-row") if on_cursor_row else base
            null_style = self.get_component_rich_style("results-grid--null", partial=True)
            cursor_style = self._cursor_style()
            for index in range(first, last):
                value = values[index] if index < len(values) else None
                text = _fit(cell_text(value), grid._widths[index], _is_number(value))
                if on_cursor_row and index == self.cursor_column:
                    style = base + cursor_style
                elif value is None:
                    style = row_style + null_style
                else:
                    style = row_style
                segments.append(Segment(pad + text + pad, style))
        strip = Strip(segments, offsets[last] - offsets[first])
        start = scroll_x - offsets[first]
        return strip.crop_extend(start, start + width, base)

    def _cursor_style(self) -> Style:
        style = self.get_component_rich_style("results-grid--cursor")
        # Without colours (NO_COLOR) a background is no cursor at all: use reverse video.
        return style + _REVERSE if self.app.no_color else style

    def _record_line(self, line: int, scroll_x: int, width: int, base: Style) -> Strip:
        """One line of the record view: a record banner or a `column │ value` line."""
        grid = self._grid
        per_record = len(grid._columns) + 1
        row, field = divmod(line, per_record)
        if row >= len(grid._rows):
            return Strip.blank(width, base)
        label_width = grid._label_width
        if field == 0:
            banner = f"-[ RECORD {row + 1:,} ]"
            style = base + self.get_component_rich_style("results-grid--record")
            text = banner + "-" * max(0, label_width + 3 + 20 - len(banner))
            strip = Strip([Segment(text, style)], len(text))
            return strip.crop_extend(scroll_x, scroll_x + width, base)
        column = field - 1
        values = grid._rows[row]
        value = values[column] if column < len(values) else None
        value_text = cell_text(value)
        if len(value_text) > _EXPANDED_VALUE_CAP:
            value_text = value_text[: _EXPANDED_VALUE_CAP - 1] + "…"
        label = _fit(grid._columns[column][0].translate(_CONTROL), label_width)
        label_style = base + self.get_component_rich_style("results-grid--label")
        if row == self.cursor_row and column == self.cursor_column:
            value_style = base + self._cursor_style()
        elif value is None:
            value_style = base + self.get_component_rich_style("results-grid--null", partial=True)
        else:
            value_style = base
        segments = [Segment(label, label_style), Segment(" │ ", base), Segment(value_text, value_style)]
        strip = Strip(segments)
        return strip.crop_extend(scroll_x, scroll_x + width, base)


class _ExportInput(Input):
    """The file-name prompt of the export key; Escape closes it."""

    BINDINGS = [
        Binding("escape", "close", "Cancel export", id="results.export_cancel", tooltip="Close the export prompt"),
    ]

    def action_close(self) -> None:
        grid = self.query_ancestor(ResultsGrid)
        grid.close_export_prompt()


class ResultsGrid(Widget):
    """Query results: a virtualized grid with a status line, error view and export prompt."""

    BINDINGS = [
        Binding("y", "copy_cell", "Copy cell", id="results.copy_cell", tooltip="Copy the cell under the cursor (OSC 52)"),
        Binding("Y", "copy_row", "Copy row", id="results.copy_row", tooltip="Copy the row under the cursor, tab-separated (OSC 52)"),
        Binding("e", "export", "Export", id="results.export", tooltip="Export the loaded rows to CSV, JSON or JSONL"),
        Binding("x", "toggle_expanded", "Records", id="results.toggle_expanded", tooltip="Toggle the expanded record view (\\x)"),
    ]

    DEFAULT_CSS = """
    ResultsGrid {
        height: 1fr;
        layout: vertical;
        #results-message {
            height: 1fr;
            padding: 1 2;
            display: none;
            &.-error { color: $error; }
        }
        &.-message #results-message { display: block; }
        &.-message ResultsBody { display: none; }
        #results-export { display: none; dock: bottom; margin-bottom: 1; }
        &.-exporting #results-export { display: block; }
        #results-status-bar {
            height: 1;
            dock: bottom;
            background: $panel;
            color: $text-muted;
        }
        #results-status { width: 1fr; padding: 0 1; }
        #results-position { width: auto; padding: 0 1; }
        &.-error #results-status { color: $error; }
    }
    """

    expanded: reactive[bool] = reactive(False, init=False)
    """Show one record per block of `column │ value` lines instead of the grid (psql's ``\\x``)."""

    @dataclass
    class NeedRows(Message):
        """The cursor or viewport came within a page of the last loaded row; append more."""

        grid: ResultsGrid
        """The grid that wants rows."""
        count: int
        """How many more rows it would like."""

        @property
        def control(self) -> ResultsGrid:
            return self.grid

    @dataclass
    class ExportRequested(Message):
        """The user asked to export the result to a file."""

        grid: ResultsGrid
        """The grid whose result is to be exported."""
        fmt: str
        """One of EXPORT_FORMATS."""
        path: str
        """Destination file, as the user typed it."""

        @property
        def control(self) -> ResultsGrid:
            return self.grid

    def __init__(
        self,
        *,
        page_size: int = 500,
        max_column_width: int = 40,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size!r}")
        if max_column_width < 3:
            raise ValueError(f"max_column_width must be at least 3, got {max_column_width!r}")
        super().__init__(name=name, id=id, classes=classes)
        self.page_size = page_size
        self.max_column_width = max_column_width
        self._columns: list[tuple[str, str]] = []
        self._rows = RowStore()
        self._widths: list[int] = []
        self._seen_widths: list[int] = []
        self._offsets: list[int] = [0]
        self._label_width = 0
        self._finished = False
        self._need_pending = False
        self._error = False
        self._rowcount: int | None = None
        self._elapsed_ms: float | None = None
        self._status = ""
        self._running_since: float | None = None
        self._first_rows_ms: float | None = None
        self._timer: Timer | None = None
        self._notice = ""
        self._export_path = "results.csv"
        self.body = ResultsBody(self, id="results-body")

    def watch_expanded(self) -> None:
        self.body.update_virtual_size()
        self.body.scroll_to_cursor()
        self.body.refresh()
        self._check_need_rows()

    def compose(self) -> ComposeResult:
        yield self.body
        yield Static(id="results-message")
        yield _ExportInput(id="results-export", placeholder="Export to… (.csv, .json or .jsonl)")
        with Horizontal(id="results-status-bar"):
            yield Static(id="results-status", markup=False)
            yield Static(id="results-position", markup=False)

    def on_mount(self) -> None:
        self._update_status()

    # -- public API

    @property
    def columns(self) -> list[tuple[str, str]]:
        """The current result's columns as (name, type name)."""
        return list(self._columns)

    @property
    def rows(self) -> Sequence[Sequence[Any]]:
        """The rows loaded so far, as a read-only sequence (stored packed; see RowStore)."""
        return self._rows

    @property
    def row_count(self) -> int:
        """How many rows are loaded."""
        return len(self._rows)

    @property
    def finished(self) -> bool:
        """True once `finish` was called: no more rows will come."""
        return self._finished

    @property
    def cursor_coordinate(self) -> tuple[int, int]:
        """(row, column) of the cell cursor."""
        return self.body.cursor_row, self.body.cursor_column

    def focus(self, scroll_visible: bool = True) -> ResultsGrid:
        """Focus the grid itself (the pane container is not focusable)."""
        self.body.focus(scroll_visible)
        return self

    def move_cursor(self, row: int, column: int) -> None:
        """Put the cell cursor on (`row`, `column`), clamped to the loaded data."""
        self.body.cursor_row = min(max(row, 0), max(len(self._rows) - 1, 0))
        self.body.cursor_column = min(max(column, 0), max(len(self._columns) - 1, 0))

    def set_columns(self, columns: list[tuple[str, str]]) -> None:
        """Start a new result with these (name, type name) columns; loaded rows are dropped."""
        self._reset()
        self._columns = [(str(name), str(type_name)) for name, type_name in columns]
        self._seen_widths = [min(cell_len(name), _EXPANDED_VALUE_CAP) for name, _ in self._columns]
        self._label_width = min(max(self._seen_widths, default=0), self.max_column_width)
        self._recompute_offsets()
        self._refresh_all()

    def append_rows(self, rows: list[tuple]) -> None:
        """Add a page of rows after those already loaded."""
        if not rows:
            self._need_pending = False
            self._update_status()
            self._check_need_rows()
            return
        if not self._columns:
            width = max(len(row) for row in rows)
            self.set_columns([(f"column{index + 1}", "") for index in range(width)])
        first_page = not self._rows
        if self._measure(rows):
            self._recompute_offsets()
        self._rows.extend(rows)
        self._need_pending = False
        if first_page and self._running_since is not None:
            self._first_rows_ms = (time.monotonic() - self._running_since) * 1000
        self.body.update_virtual_size()
        self.body.refresh()
        self._update_status()
        self._check_need_rows()

    def finish(self, rowcount: int, elapsed_ms: float | None, status: str) -> None:
        """No more rows will come: show the final count, elapsed time and server status.

        `elapsed_ms` None shows no time (e.g. psql's ``\\timing`` off).
        """
        self._stop_timer()
        self._finished = True
        self._need_pending = False
        self._rowcount = rowcount
        self._elapsed_ms = elapsed_ms
        self._status = status
        if not self._columns and not self._error:
            self._show_message(self._final_status_text(), error=False)
        self._update_status()

    def show_error(self, message: str, line: int | None = None, column: int | None = None) -> None:
        """Show a database (or any) error instead of the grid, with its position if known."""
        if self._running_since is not None:
            self._elapsed_ms = (time.monotonic() - self._running_since) * 1000
        self._stop_timer()
        self._error = True
        self._finished = True
        self._need_pending = False
        text = Text()
        text.append("ERROR", style="bold")
        text.append(f"  {message}")
        if line is not None:
            where = f"at line {line}" + (f", column {column}" if column is not None else "")
            text.append(f"\n\n{where}", style="bold")
        self._show_message(text, error=True)
        self._update_status()

    def clear(self) -> None:
        """Back to the empty state (no columns, no rows, no error)."""
        self._stop_timer()
        self._reset()
        self._refresh_all()

    def set_running(self, running: bool) -> None:
        """Start (True) or stop (False) the running timer shown in the status line."""
        if running:
            self._stop_timer()
            self._running_since = time.monotonic()
            self._timer = self.set_interval(0.1, self._update_status)
        else:
            if self._running_since is not None:
                self._elapsed_ms = (time.monotonic() - self._running_since) * 1000
            self._stop_timer()
        self._update_status()

    def request_export(self, fmt: str, path: str) -> None:
        """Post `ExportRequested` for `fmt` (one of EXPORT_FORMATS) and `path`."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; expected one of {EXPORT_FORMATS}")
        self.post_message(self.ExportRequested(self, fmt, path))

    def close_export_prompt(self) -> None:
        """Hide the export file-name prompt and give the focus back to the grid."""
        self.remove_class("-exporting")
        self.body.focus()

    # -- actions

    def action_copy_cell(self) -> None:
        if not self._rows or not self._columns:
            self.app.bell()
            return
        row, column = self.cursor_coordinate
        values = self._rows[row]
        value = values[column] if column < len(values) else None
        self.app.copy_to_clipboard(_copy_text(value))
        self._flash(f"Copied cell {self._columns[column][0]} of row {row + 1:,}")

    def action_copy_row(self) -> None:
        if not self._rows:
            self.app.bell()
            return
        row = self.cursor_coordinate[0]
        fields = [_copy_text(value).replace("\t", " ").replace("\n", " ") for value in self._rows[row]]
        self.app.copy_to_clipboard("\t".join(fields))
        self._flash(f"Copied row {row + 1:,}")

    def action_export(self) -> None:
        if not self._columns:
            self.app.bell()
            return
        prompt = self.query_one("#results-export", Input)
        prompt.value = self._export_path
        self.add_class("-exporting")
        prompt.focus()

    def action_toggle_expanded(self) -> None:
        self.expanded = not self.expanded

    @on(Input.Submitted, "#results-export")
    def _export_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        fmt = _SUFFIX_FORMATS.get(Path(path).suffix.lower())
        if not path or fmt is None:
            self._flash("Export needs a file name ending in .csv, .json or .jsonl", error=True)
            return
        self._export_path = path
        self.close_export_prompt()
        self.request_export(fmt, path)

    @on(Input.Changed, "#results-export")
    def _export_changed(self, event: Input.Changed) -> None:
        event.stop()

    # -- internals

    def _reset(self) -> None:
        self._columns = []
        self._rows = RowStore()
        self._widths = []
        self._seen_widths = []
        self._offsets = [0]
        self._label_width = 0
        self._finished = False
        self._need_pending = False
        self._error = False
        self._rowcount = None
        self._elapsed_ms = None
        self._status = ""
        self._first_rows_ms = None
        self._notice = ""
        self.remove_class("-message", "-error")
        body = self.body
        body.set_reactive(ResultsBody.cursor_row, 0)
        body.set_reactive(ResultsBody.cursor_column, 0)
        if body.is_mounted:
            body.scroll_to(0, 0, animate=False, immediate=True)

    def _refresh_all(self) -> None:
        self.body.update_virtual_size()
        self.body.refresh()
        self._update_status()

    def _measure(self, rows: Sequence[Sequence[Any]]) -> bool:
        """Widen columns to fit `rows` (a sample of them after the first rows); True if any grew."""
        seen = self._seen_widths
        ncols = len(seen)
        budget = max(_WIDTH_SAMPLE, _WIDTH_FULL - len(self._rows))
        step = max(1, -(-len(rows) // budget))
        before = list(seen)
        for index in range(0, len(rows), step):
            row = rows[index]
            for column in range(min(ncols, len(row))):
                text = cell_text(row[column])
                width = len(text) if text.isascii() else cell_len(text)
                if width > seen[column]:
                    seen[column] = min(width, _EXPANDED_VALUE_CAP)
        return seen != before

    def _recompute_offsets(self) -> None:
        cap = self.max_column_width
        self._widths = [max(1, min(width, cap)) for width in self._seen_widths]
        offsets = [0]
        for width in self._widths:
            offsets.append(offsets[-1] + width + 2 * _CELL_PADDING)
        self._offsets = offsets

    def _check_need_rows(self) -> None:
        """Post NeedRows when the cursor or the viewport nears the end of the loaded rows."""
        if self._finished or self._need_pending or not self._columns or not self.is_mounted:
            return
        nearest = max(self.body.cursor_row, self.body.last_visible_row())
        if nearest >= len(self._rows) - self.page_size:
            self._need_pending = True
            self.post_message(self.NeedRows(self, self.page_size))

    def _cursor_moved(self) -> None:
        self._notice = ""
        self._update_status()
        self._check_need_rows()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._running_since = None

    def _show_message(self, content: Text | str, *, error: bool) -> None:
        message = self.query_one("#results-message", Static)
        message.update(content)
        message.set_class(error, "-error")
        self.add_class("-message")
        self.set_class(error, "-error")

    def _flash(self, notice: str, *, error: bool = False) -> None:
        self._notice = notice
        self._update_status()
        if error:
            self.app.bell()

    def _final_status_text(self) -> str:
        parts: list[str] = []
        if self._columns:
            loaded = len(self._rows)
            if self._rowcount is not None and self._rowcount > loaded:
                parts.append(f"{loaded:,} of {_plural(self._rowcount, 'row')} loaded")
            else:
                parts.append(_plural(loaded, "row"))
        elif self._rowcount is not None and self._rowcount >= 0 and not self._status:
            parts.append(_plural(self._rowcount, "row") + " affected")
        if self._elapsed_ms is not None:
            parts.append(format_elapsed(self._elapsed_ms))
        if self._status:
            parts.append(self._status)
        return " · ".join(parts) or "Done"

    def _status_text(self) -> str:
        if self._notice:
            return self._notice
        if self._error:
            elapsed = f" · {format_elapsed(self._elapsed_ms)}" if self._elapsed_ms is not None else ""
            return f"✗ Error{elapsed}"
        if self._running_since is not None:
            seconds = time.monotonic() - self._running_since
            text = f"Running… {seconds:.1f} s"
            if self._rows:
                text += f" · {_plural(len(self._rows), 'row')} so far"
            return text
        if self._finished:
            return self._final_status_text()
        if self._columns:
            text = f"{_plural(len(self._rows), 'row')} loaded · more rows available"
            if self._first_rows_ms is not None:
                text += f" · first rows in {format_elapsed(self._first_rows_ms)}"
            return text
        return "No results yet"

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#results-status", Static).update(self._status_text())
        position = ""
        if self._rows and self._columns and not self._error:
            row, column = self.cursor_coordinate
            position = (
                f"row {row + 1:,}/{len(self._rows):,}{'' if self._finished else '+'}"
                f" · {self._columns[column][0]}"
            )
            if self._columns[column][1]:
                position += f" ({self._columns[column][1]})"
        self.query_one("#results-position", Static).update(position)
