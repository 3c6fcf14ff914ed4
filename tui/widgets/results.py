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
    grid.finish(rowcount: int, elapsed_ms: float | None, status: str, *, complete=True)
                                                       # no more rows will come; None: no time shown;
                                                       # complete=False: stopped, more rows exist
    grid.apply_view_locally(reason: str)               # the answer to ViewRequested the server cannot do
    grid.fetch_to_end()                                # what End does on a streaming result
    grid.show_error(message: str, line: int | None, column: int | None)
    grid.clear()                                       # back to the empty state
    grid.set_running(running: bool)                    # running timer in the status line
    grid.request_export(fmt: str, path: str)           # posts ExportRequested (also bound to a key)
    grid.move_cursor(row: int, column: int)
    grid.focus()                                       # focuses the scrolling grid (grid.body)
    grid.expanded: bool                                # reactive: record view (psql's \\x)
    grid.value_text = driver.value_text                # how cells read: psql's forms on PostgreSQL
                                                       # (the exports' formatter); None: natural forms
    grid.columns -> list[tuple[str, str]]; grid.rows -> Sequence[tuple] (loaded rows)
    grid.row_count -> int; grid.finished -> bool; grid.cursor_coordinate -> tuple[int, int]

    ResultsGrid.NeedRows(grid, count)             # wants `count` more rows appended
    ResultsGrid.ExportRequested(grid, fmt, path)  # fmt in EXPORT_FORMATS; the screen writes the file
    ResultsGrid.ViewRequested(grid, where, order) # sort/filter a streaming result on the server
    claims_escape(focused) -> bool                # Escape closes something of the grid's first

Keys (binding ids in brackets): arrows/PageUp/PageDown/Home/g move the cell cursor
[results.cursor_*]; End/G go to the real last row, fetching the rest (Escape stops)
[results.cursor_last_row]. ``s`` sorts by the cursor's column, ascending, descending, off
[results.sort]; ``f`` asks for a filter, a SQL condition (``total > 100``, ``status = shipped``)
[results.filter]. All rows loaded: both are exact here (:mod:`.rowview`); a result still
streaming asks the server (``ViewRequested``: the statement re-run wrapped), or, when the
statement cannot run again, sorts the loaded rows and the view bar says so. ``/`` searches
the loaded rows, ``n``/``N`` the next and previous match [results.search, results.next_match,
results.previous_match]. ``v`` or Enter shows the cell's whole value, JSON pretty-printed
(:mod:`.cellviewer`) [results.view_cell]. Shift+arrows select cells, ``V`` whole rows
[results.select_*, results.select_rows]; ``y`` copies the cell or the selection and ``Y`` the
row(s), tab-separated, ``C`` as CSV and ``M`` as Markdown (:mod:`.cellrange`), all through
the app's clipboard (OSC 52) [results.copy_*]; ``e`` asks for a file name to export to
[results.export]; ``x`` toggles the record view, which starts at the first column with the
field names always in sight; Left/Right move between records [results.toggle_expanded].
Escape stops a fetch, then clears a selection, then a search [results.escape]. A click puts
the cursor on a cell; the wheel scrolls.

Status line while running: ``Running… 1.2 s``; while the result streams: ``500 rows loaded ·
more rows available · first rows in 12.0 ms``; fetching to the end: ``Fetching to the end…
250,000 rows loaded · 3.1 s · Esc stops``; at the end: ``1,000,000 rows · 2.35 s · SELECT
1000000``; filtered: ``42 of 1,000 rows shown``; searching: ``match 3 of 17 · 'term'``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import time
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

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

from aishell.tui.widgets import cellrange
from aishell.tui.widgets.rowstore import RowStore
from aishell.tui.widgets.rowview import Condition, ConditionError, IndexedRows, sort_order

__all__ = ["EXPORT_FORMATS", "ResultsGrid", "cell_text", "claims_escape", "format_elapsed"]

EXPORT_FORMATS = ("csv", "json", "jsonl", "parquet")
"""Formats `ExportRequested` carries; the screen writes them with ``aishell.engine.encode.export_rows``."""

_SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}

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

_PROMPT_ACTIONS = frozenset({"search", "filter"})
"""Grid actions that open a prompt (their keys act at once, see ResultsBody.on_key)."""

_BACKGROUND_ROWS = 100_000
"""Above this many loaded rows a sort or filter runs in a thread (a million rows take seconds)."""

_SEARCH_CAP = 100_000
"""Matches kept by one search (the status then says ``of 100,000+``)."""

_TO_END_PAINT_EVERY = 0.25
"""Seconds between repaints while End fetches the rest of a result (pages come much faster)."""
_TO_END_PAGES = 20
"""Pages the stream runs ahead without waiting while `End` fetches to the last row: a page at a
time, each waiting for the grid, took 30 s for a million rows; Escape stops within this many."""

_COPY_ROWS_CAP = 100_000
"""Most rows one copy puts on the clipboard (OSC 52 carries it all through the terminal)."""

_REVERSE = Style(reverse=True)


_NULL_TEXT = "NULL"


def set_null_text(text: str) -> None:
    """How NULL shows in every grid from now on (psql's ``\\pset null``)."""
    global _NULL_TEXT
    _NULL_TEXT = text


def cell_text(value: Any, value_text: Callable[[Any], str | None] | None = None) -> str:
    """One-line display text for a cell value (no styling, control characters replaced).

    ``value_text`` is the database's own text form (``ResultsGrid.value_text``: psql's for
    PostgreSQL); without one, values show in natural forms (SQLite's, MongoDB's).

    >>> cell_text(None), cell_text(True), cell_text(b"\\x01\\xff"), cell_text("a\\nb")
    ('NULL', 'true', '\\\\x01ff', 'a↵b')
    >>> cell_text(True, lambda value: "t" if value else "f")
    't'
    """
    if value is None:
        return _NULL_TEXT
    if value_text is not None:
        text = value_text(value)
        if text is None:
            return _NULL_TEXT
    elif isinstance(value, str):
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


def _view_positions(rows: Sequence[Sequence[Any]], sort: tuple[int, bool] | None, condition: Condition | None) -> Sequence[int] | None:
    """Positions of ``rows`` kept by ``condition``, in ``sort``'s order; None: all, as they are."""
    if sort is None and condition is None:
        return None
    positions = condition.filter(rows) if condition is not None else None
    if sort is not None:
        column, descending = sort
        subset = rows if positions is None else IndexedRows(rows, positions)
        order = sort_order(subset, column, descending=descending)
        positions = order if positions is None else array("q", (positions[index] for index in order))
    return positions


def _search_text(value: Any, value_text: Callable[[Any], str | None] | None = None) -> str:
    """A value's text as search compares it: what the grid shows, case-folded (quick for the
    common types; control characters need no replacing to be found)."""
    if isinstance(value, str):
        return value.casefold()
    if value is None:
        return "null"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return cell_text(value, value_text).casefold()


def _find(rows: RowStore, shown: Sequence[Sequence[Any]], start: int, term: str, cap: int,
          value_text: Callable[[Any], str | None] | None = None) -> tuple[list[tuple[int, int]], int, bool]:
    """Cells of ``shown`` (the rows as the grid shows them: ``rows`` or a view of them) from
    display row ``start`` on whose text holds ``term``, any case: (matches in reading order,
    rows searched up to, whether ``cap`` cut the matches)."""
    needle = term.casefold()
    found: list[tuple[int, int]] = []
    if isinstance(shown, IndexedRows):
        # A sorted view read in its order would unpack a chunk a row: read the rows in storage
        # order and place each match where the view shows it.
        display = shown.display_positions(len(rows))
        for source, values in enumerate(rows.iter_from(0)):
            where = display[source]
            if where >= start:
                found.extend((where, column) for column, value in enumerate(values) if needle in _search_text(value, value_text))
        found.sort()
        if len(found) > cap:
            return found[:cap], found[cap - 1][0] + 1 if cap else start, True
        return found, len(shown), False
    values_from = shown.iter_from(start) if isinstance(shown, RowStore) else (shown[row] for row in range(start, len(shown)))
    for row, values in enumerate(values_from, start):
        found.extend((row, column) for column, value in enumerate(values) if needle in _search_text(value, value_text))
        if len(found) >= cap:
            return found[:cap], row + 1, True
    return found, len(shown), False


def claims_escape(focused: Widget | None) -> bool:
    """Whether Escape on ``focused`` belongs to a results grid (a prompt to close, a selection or
    search to clear, a fetch to stop) rather than cancelling the running statement."""
    if isinstance(focused, ResultsBody):
        return focused.claims_escape
    return isinstance(focused, (_GridPrompt, _ExportInput))


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
        Binding("end,G,ctrl+end", "last_row", "Last row", show=False, id="results.cursor_last_row", tooltip="Go to the last row, fetching the rest of the result (Escape stops)"),
        Binding("shift+up", "select(-1, 0)", "Select up", show=False, id="results.select_up", tooltip="Extend the selected cells up"),
        Binding("shift+down", "select(1, 0)", "Select down", show=False, id="results.select_down", tooltip="Extend the selected cells down"),
        Binding("shift+left", "select(0, -1)", "Select left", show=False, id="results.select_left", tooltip="Extend the selected cells left"),
        Binding("shift+right", "select(0, 1)", "Select right", show=False, id="results.select_right", tooltip="Extend the selected cells right"),
        Binding("escape", "escape", "Clear", show=False, id="results.escape", tooltip="Stop fetching to the end, clear the selection, or clear the search"),
    ]

    COMPONENT_CLASSES = {
        "results-grid--header",
        "results-grid--cursor",
        "results-grid--cursor-row",
        "results-grid--null",
        "results-grid--label",
        "results-grid--record",
        "results-grid--selected",
        "results-grid--match",
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
        & > .results-grid--selected { background: $accent 30%; }
        & > .results-grid--match { background: $warning 40%; text-style: underline; }
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

    def on_key(self, event: events.Key) -> None:
        """A fast typist's ``/needle`` reaches the app as one batch: every key is routed here
        before any binding runs, so the key that opens a prompt acts at once and the keys after
        it are handed on to the prompt, in order (else ``n`` would jump to a match, ``e`` export)."""
        focused = self.app.focused
        if focused is not self:
            if isinstance(focused, (_GridPrompt, _ExportInput)) and self._grid in focused.ancestors:
                event.stop()
                event.prevent_default()
                focused.post_message(events.Key(event.key, event.character))
            return
        active = self.app.active_bindings.get(event.key)
        if active is not None and active.node is self._grid and active.binding.action in _PROMPT_ACTIONS:
            event.stop()
            event.prevent_default()
            getattr(self._grid, f"action_{active.binding.action}")()

    def on_click(self, event: events.Click) -> None:
        """Put the cursor on the clicked cell (or record field)."""
        grid = self._grid
        if not grid._columns or not grid._shown:
            return
        scroll_x, scroll_y = self.scroll_offset
        if grid.expanded:
            row, field = divmod(scroll_y + event.y, len(grid._columns) + 1)
            if row < len(grid._shown):
                self.cursor_row, self.cursor_column = row, max(0, field - 1)
            return
        if event.y < 1:
            return
        row = scroll_y + event.y - 1
        column = bisect_right(grid._offsets, scroll_x + event.x) - 1
        if row < len(grid._shown) and 0 <= column < len(grid._columns):
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
                len(grid._shown) * (len(grid._columns) + 1),
            )
        else:
            self.virtual_size = Size(grid._offsets[-1], len(grid._shown) + 1)

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

    def _move(self, rows: int = 0, columns: int = 0, *, extend: bool = False) -> None:
        grid = self._grid
        if not grid._shown or not grid._columns:
            return
        if not extend and not grid._row_selection:
            grid._anchor = None
        last_row, last_column = len(grid._shown) - 1, len(grid._columns) - 1
        if grid.expanded and rows and not columns:
            # Up/down walk the fields, crossing into the neighbouring record.
            position = self.cursor_row * (last_column + 1) + self.cursor_column + rows
            position = min(max(position, 0), len(grid._shown) * (last_column + 1) - 1)
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
        if grid._shown:
            self.cursor_row = min(max(self.cursor_row + records, 0), len(grid._shown) - 1)

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

    def action_select(self, rows: int, columns: int) -> None:
        """Shift+arrows: extend a block of selected cells from where the cursor was."""
        grid = self._grid
        if not grid._shown or not grid._columns:
            return
        if grid._anchor is None or grid._row_selection:
            grid._anchor = (self.cursor_row, self.cursor_column)
            grid._row_selection = False
        self._move(rows, columns, extend=True)
        self.refresh()

    def action_first_row(self) -> None:
        if self._grid._shown:
            self.cursor_row = 0

    def action_last_row(self) -> None:
        """The real last row: on a result still streaming, fetch the rest first."""
        grid = self._grid
        if not grid._shown:
            return
        if grid._finished or grid._view_where == "loaded":
            self.cursor_row = len(grid._shown) - 1
            if not grid._complete:
                grid._flash(f"{len(grid._rows):,} loaded of more (the result was stopped)")
            return
        grid.fetch_to_end()

    def action_escape(self) -> None:
        self._grid.escape()

    @property
    def claims_escape(self) -> bool:
        """Escape has something to close here (else it cancels the running statement)."""
        grid = self._grid
        return grid._to_end or grid._anchor is not None or grid._search is not None

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
        if row >= len(grid._shown):
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
            sorted_column, descending = grid._sort if grid._sort is not None else (-1, False)
            for index in range(first, last):
                name = grid._columns[index][0].translate(_CONTROL)
                cells = grid._widths[index]
                if index == sorted_column and cells >= 3:
                    text = _fit(_fit(name, cells - 2).rstrip() + (" ▼" if descending else " ▲"), cells)
                else:
                    text = _fit(name, cells)
                segments.append(Segment(pad + text + pad, style))
        else:
            values = grid._shown[row]
            on_cursor_row = row == self.cursor_row
            row_style = base + self.get_component_rich_style("results-grid--cursor-row") if on_cursor_row else base
            null_style = self.get_component_rich_style("results-grid--null", partial=True)
            cursor_style = self._cursor_style()
            selected = grid._selected_columns(row)
            selected_style = self.get_component_rich_style("results-grid--selected", partial=True)
            matches = grid._search.cells if grid._search is not None else ()
            match_style = self.get_component_rich_style("results-grid--match", partial=True)
            for index in range(first, last):
                value = values[index] if index < len(values) else None
                text = _fit(grid.cell_text(value), grid._widths[index], _is_number(value))
                if on_cursor_row and index == self.cursor_column:
                    style = base + cursor_style
                else:
                    style = row_style + null_style if value is None else row_style
                    if index in selected:
                        style += selected_style
                    if (row, index) in matches:
                        style += match_style
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
        if row >= len(grid._shown):
            return Strip.blank(width, base)
        label_width = grid._label_width
        if field == 0:
            banner = f"-[ RECORD {row + 1:,} ]"
            style = base + self.get_component_rich_style("results-grid--record")
            text = banner + "-" * max(0, label_width + 3 + 20 - len(banner))
            strip = Strip([Segment(text, style)], len(text))
            return strip.crop_extend(0, width, base)
        column = field - 1
        values = grid._shown[row]
        value = values[column] if column < len(values) else None
        value_text = grid.cell_text(value)
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
        # Field names stay put; only the values scroll sideways.
        value_strip = Strip([Segment(value_text, value_style)])
        value_width = max(0, width - label_width - 3)
        segments = [Segment(label, label_style), Segment(" │ ", base)]
        segments += list(value_strip.crop_extend(scroll_x, scroll_x + value_width, base))
        return Strip(segments).crop_extend(0, width, base)


class _ExportInput(Input):
    """The file-name prompt of the export key; Escape closes it."""

    BINDINGS = [
        Binding("escape", "close", "Cancel export", id="results.export_cancel", tooltip="Close the export prompt"),
    ]

    def action_close(self) -> None:
        grid = self.query_ancestor(ResultsGrid)
        grid.close_export_prompt()


class _GridPrompt(Input):
    """The one-line prompt of the search and filter keys; Escape closes it."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="results.prompt_close", tooltip="Close the search or filter prompt"),
    ]

    def action_close(self) -> None:
        self.query_ancestor(ResultsGrid).close_prompt()


@dataclass
class _Search:
    """The matches of a search among the rows shown, in reading order."""

    term: str
    matches: list[tuple[int, int]]
    cells: set[tuple[int, int]]
    searched: int
    """Rows searched so far (rows loaded later are searched by the next n or N)."""
    current: int = -1
    capped: bool = False


class ResultsGrid(Widget):
    """Query results: a virtualized grid with a status line, error view and export prompt."""

    BINDINGS = [
        Binding("y", "copy_cell", "Copy cell", id="results.copy_cell", tooltip="Copy the cell under the cursor, or the selected cells tab-separated (OSC 52)"),
        Binding("Y", "copy_row", "Copy row", id="results.copy_row", tooltip="Copy the row under the cursor or the selected rows, tab-separated (OSC 52)"),
        Binding("C", "copy_as('csv')", "Copy CSV", show=False, id="results.copy_csv", tooltip="Copy the selection (or the row) as CSV with a header"),
        Binding("M", "copy_as('markdown')", "Copy Markdown", show=False, id="results.copy_markdown", tooltip="Copy the selection (or the row) as a Markdown table"),
        Binding("V", "select_rows", "Select rows", show=False, id="results.select_rows", tooltip="Select whole rows from here; move to extend, y to copy"),
        Binding("s", "sort", "Sort", id="results.sort", tooltip="Sort by the column under the cursor: ascending, descending, off"),
        Binding("f", "filter", "Filter", id="results.filter", tooltip="Keep the rows where a SQL condition holds (total > 100)"),
        Binding("slash", "search", "Search", id="results.search", tooltip="Search the loaded rows; n and N go to the next and previous match"),
        Binding("n", "next_match(1)", "Next match", show=False, id="results.next_match", tooltip="Go to the next search match"),
        Binding("N", "next_match(-1)", "Previous match", show=False, id="results.previous_match", tooltip="Go to the previous search match"),
        Binding("v,enter", "view_cell", "View cell", show=False, id="results.view_cell", tooltip="Show the whole value of the cell (JSON pretty-printed)"),
        Binding("e", "export", "Export", id="results.export", tooltip="Export the result to CSV, JSON, JSONL or Parquet (the loaded rows or the full result)"),
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
        #results-prompt { display: none; dock: bottom; margin-bottom: 1; }
        &.-prompting #results-prompt { display: block; }
        #results-view { display: none; height: 1; background: $panel; color: $text; padding: 0 1; }
        &.-viewing #results-view { display: block; }
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
    held: reactive[str] = reactive("", init=False)
    """What the open result holds on the server (a cursor and snapshot), said first while more
    rows are available; set by the screen."""

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
    class ViewRequested(Message):
        """Sort or filter the whole result, not just the rows loaded: it is still streaming, so
        the server should do it (the statement run again, wrapped). The screen answers with the
        new result (`set_columns`, `append_rows`…; the view is kept) or with
        `apply_view_locally(reason)` when the statement cannot be wrapped."""

        grid: ResultsGrid
        """The grid to sort or filter."""
        where: Any
        """A sqlglot condition with the result's columns quoted, or None: keep every row."""
        order: tuple[str, bool] | None
        """(column name, descending), or None: the statement's own order."""

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
        self.expanded_auto = False
        """psql's ``\\x auto``: each result decides, by whether its rows fit the width."""
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
        self._complete = True
        self._shown: Sequence[Sequence[Any]] = self._rows
        self._sort: tuple[int, bool] | None = None
        self._condition: Condition | None = None
        self._view_where = ""
        self._view_reason = ""
        self._view_pending = False
        self._view_generation = 0
        self._view_columns: list[str] = []
        self._view_cursor_column = 0
        self._server_condition: Condition | None = None
        self._search: _Search | None = None
        self._anchor: tuple[int, int] | None = None
        self._row_selection = False
        self._to_end = False
        self._to_end_since = 0.0
        self._to_end_painted = 0.0
        self._prompt_purpose = ""
        self.body = ResultsBody(self, id="results-body")
        self.value_text: Callable[[Any], str | None] | None = None
        """The database's text form of a value (the driver's ``value_text``: psql's for
        PostgreSQL), set by the screen before a result comes; None: natural forms."""

    def watch_held(self) -> None:
        self._update_status()

    def watch_expanded(self) -> None:
        # The record view starts at the first column, its field names in sight.
        self.body.scroll_to(x=0, animate=False, immediate=True)
        self.body.update_virtual_size()
        self.body.scroll_to_cursor()
        self.body.refresh()
        self._check_need_rows()

    def compose(self) -> ComposeResult:
        yield Static(id="results-view", markup=False)
        yield self.body
        yield Static(id="results-message")
        yield _ExportInput(id="results-export", placeholder="Export to… (.csv, .json, .jsonl or .parquet)")
        yield _GridPrompt(id="results-prompt")
        with Horizontal(id="results-status-bar"):
            yield Static(id="results-status", markup=False)
            yield Static(id="results-position", markup=False)

    def on_mount(self) -> None:
        self._update_status()

    def on_resize(self) -> None:
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
    def complete(self) -> bool:
        """Every row of the result is loaded (finished, and not stopped early)."""
        return self._finished and self._complete

    @property
    def cursor_coordinate(self) -> tuple[int, int]:
        """(row, column) of the cell cursor."""
        return self.body.cursor_row, self.body.cursor_column

    def focus(self, scroll_visible: bool = True) -> ResultsGrid:
        """Focus the grid itself (the pane container is not focusable)."""
        self.body.focus(scroll_visible)
        return self

    def cell_text(self, value: Any) -> str:
        """What a cell shows for ``value`` (:func:`cell_text` in this grid's text form)."""
        return cell_text(value, self.value_text)

    def move_cursor(self, row: int, column: int) -> None:
        """Put the cell cursor on (`row`, `column`), clamped to the loaded data."""
        self.body.cursor_row = min(max(row, 0), max(len(self._rows) - 1, 0))
        self.body.cursor_column = min(max(column, 0), max(len(self._columns) - 1, 0))

    def set_columns(self, columns: list[tuple[str, str]]) -> None:
        """Start a new result with these (name, type name) columns; loaded rows are dropped.

        The result of a `ViewRequested` (same column names) keeps its sort and filter."""
        view = (self._sort, self._condition, self._view_columns) if self._view_pending else None
        self._reset()
        self._columns = [(str(name), str(type_name)) for name, type_name in columns]
        if view is not None and view[2] == [name for name, _ in self._columns]:
            self._sort, self._condition, self._view_columns = view
            self._view_where = "server"
            self._server_condition = self._condition
            self.body.set_reactive(ResultsBody.cursor_column, self._view_cursor_column)
            self._show_view_bar()
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
        if first_page and self.expanded_auto:  # psql's \x auto: records when a row is too wide
            self.expanded = sum(width + 2 for width in self._seen_widths) > max(self.body.size.width, 1)
        self._rows.extend(rows)
        self._need_pending = False
        if first_page and self._running_since is not None:
            self._first_rows_ms = (time.monotonic() - self._running_since) * 1000
        if self._view_where == "loaded":
            self._apply_view()
        if self._search is not None:
            self._extend_search()
        if self._to_end:
            # Fetching to the end: keep the stream running ahead, repaint a few times a second.
            self._need_pending = True
            self.post_message(self.NeedRows(self, self.page_size * _TO_END_PAGES))
            now = time.monotonic()
            if now - self._to_end_painted >= _TO_END_PAINT_EVERY:
                self._to_end_painted = now
                self._show_loaded()
                self.body.cursor_row = len(self._shown) - 1
            return
        self._show_loaded()
        self._check_need_rows()

    def _show_loaded(self) -> None:
        self.body.update_virtual_size()
        self.body.refresh()
        self._update_status()

    def finish(self, rowcount: int, elapsed_ms: float | None, status: str, *, complete: bool = True) -> None:
        """No more rows will come: show the final count, elapsed time and server status.

        `elapsed_ms` None shows no time (e.g. psql's ``\\timing`` off); `complete` False: the
        result was stopped, more rows exist than were loaded.
        """
        self._stop_timer()
        self._finished = True
        self._complete = complete
        if self._to_end:
            self._to_end = False
            self._show_loaded()
            self.body.cursor_row = max(0, len(self._shown) - 1)
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
        """Back to the empty state (no columns, no rows, no error); a view asked of the server
        (`ViewRequested`) stays for the result that answers it."""
        self._stop_timer()
        self._reset(keep_view=self._view_pending)
        self._refresh_all()

    def apply_view_locally(self, reason: str) -> None:
        """The answer to `ViewRequested` when the server cannot sort or filter this statement:
        the view applies to the rows loaded (and to those loaded later), and the status says why."""
        self._view_pending = False
        self._view_reason = reason
        self._view_where = "loaded"
        self._view_changed()

    def fetch_to_end(self) -> None:
        """Ask for pages until the result ends (`End`); Escape stops. The cursor goes to the last row."""
        if self._finished or not self._columns:
            self.body.action_last_row()
            return
        self._to_end = True
        self._to_end_since = self._to_end_painted = time.monotonic()
        self.body.cursor_row = len(self._shown) - 1
        self._update_status()
        if not self._need_pending:
            self._need_pending = True
            self.post_message(self.NeedRows(self, self.page_size * _TO_END_PAGES))

    def escape(self) -> None:
        """Stop fetching to the end, else clear the selection, else the search."""
        if self._to_end:
            self._to_end = False
            self._show_loaded()
            self.body.cursor_row = max(0, len(self._shown) - 1)
            self._flash(f"Stopped: {len(self._rows):,} loaded of more")
        elif self._anchor is not None:
            self._anchor = None
            self._row_selection = False
            self.body.refresh()
            self._update_status()
        elif self._search is not None:
            self._search = None
            self.body.refresh()
            self._update_status()

    def close_prompt(self) -> None:
        """Hide the search or filter prompt and give the focus back to the grid."""
        self.remove_class("-prompting")
        self.query_one("#results-prompt", Input).display = False
        self._prompt_purpose = ""
        self.body.focus()

    def set_running(self, running: bool) -> None:
        """Start (True) or stop (False) the running timer shown in the status line."""
        if running:
            self._stop_timer()
            self._running_since = time.monotonic()
            self._timer = self.set_interval(0.1, self._update_status)
        else:
            if self._running_since is None and self._timer is None:
                return  # already stopped: the screen says so at every page
            if self._running_since is not None:
                self._elapsed_ms = (time.monotonic() - self._running_since) * 1000
                if self._columns and not self._rows:
                    # Stopped as the first page arrives (the screen's order): the time to first rows.
                    self._first_rows_ms = self._elapsed_ms
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
        if not self._shown or not self._columns:
            self.app.bell()
            return
        if self._anchor is not None:
            self._copy_range("tsv", header=False)
            return
        row, column = self.cursor_coordinate
        values = self._shown[row]
        value = values[column] if column < len(values) else None
        self.app.copy_to_clipboard(cellrange.copy_text(value, self.cell_text))
        self._flash(f"Copied cell {self._columns[column][0]} of row {row + 1:,}")

    def action_copy_row(self) -> None:
        if not self._shown:
            self.app.bell()
            return
        if self._anchor is not None:
            self._copy_range("tsv", header=False, whole_rows=True)
            return
        row = self.cursor_coordinate[0]
        self.app.copy_to_clipboard(cellrange.as_tsv([self._shown[row]], self.cell_text))
        self._flash(f"Copied row {row + 1:,}")

    def action_copy_as(self, fmt: str) -> None:
        """The selection (else the row under the cursor) as CSV or Markdown, with a header."""
        if not self._shown or not self._columns:
            self.app.bell()
            return
        self._copy_range(fmt, header=True, whole_rows=self._anchor is None)

    def action_select_rows(self) -> None:
        """`V`: select whole rows from the cursor's; again: end the selection."""
        if not self._shown:
            self.app.bell()
            return
        if self._row_selection:
            self._anchor, self._row_selection = None, False
        else:
            self._anchor, self._row_selection = self.cursor_coordinate, True
        self.body.refresh()
        self._update_status()

    def action_sort(self) -> None:
        """Sort by the cursor's column: ascending, then descending, then the result's own order."""
        if not self._columns or self._error:
            self.app.bell()
            return
        column = self.cursor_coordinate[1]
        if self._sort is None or self._sort[0] != column:
            self._sort = (column, False)
        elif not self._sort[1]:
            self._sort = (column, True)
        else:
            self._sort = None
        self._view_changed()

    def action_filter(self) -> None:
        if not self._columns or self._error:
            self.app.bell()
            return
        self._open_prompt(
            "filter",
            self._condition.source if self._condition is not None else "",
            "Filter: a SQL condition (total > 100, name = bob); empty shows every row",
        )

    def action_search(self) -> None:
        if not self._shown:
            self.app.bell()
            return
        self._open_prompt("search", self._search.term if self._search is not None else "", "Search the loaded rows…")

    def action_next_match(self, step: int) -> None:
        search = self._search
        if search is None:
            self._flash("No search: / to search the loaded rows", error=True)
            return
        if search.searched < len(self._shown):
            self._extend_search()
        if not search.matches:
            self._flash(f"No match for {search.term!r} in {_plural(len(self._shown), 'row')}", error=True)
            return
        here = self.cursor_coordinate
        if search.current >= 0 and search.matches[search.current] == here:
            index = (search.current + step) % len(search.matches)
        elif step > 0:
            index = bisect_right(search.matches, here) % len(search.matches)
        else:
            index = (bisect_right(search.matches, (here[0], here[1] - 1)) - 1) % len(search.matches)
        self._go_to_match(index)

    def action_view_cell(self) -> None:
        if not self._shown or not self._columns:
            self.app.bell()
            return
        from aishell.tui.widgets.cellviewer import CellViewer

        row, column = self.cursor_coordinate
        values = self._shown[row]
        value = values[column] if column < len(values) else None
        name, type_name = self._columns[column]
        title = f"{name}{f' ({type_name})' if type_name else ''} · row {row + 1:,}"
        self.app.push_screen(CellViewer(title, value, self.cell_text))

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
            self._flash("Export needs a file name ending in .csv, .json, .jsonl or .parquet", error=True)
            return
        self._export_path = path
        self.close_export_prompt()
        self.request_export(fmt, path)

    @on(Input.Changed, "#results-export")
    def _export_changed(self, event: Input.Changed) -> None:
        event.stop()

    @on(Input.Submitted, "#results-prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        purpose, text = self._prompt_purpose, event.value.strip()
        if purpose == "filter":
            if not text:
                self._condition = None
            else:
                try:
                    self._condition = Condition.parse(text, [name for name, _ in self._columns])
                except ConditionError as exc:
                    self._flash(str(exc), error=True)
                    return
            self.close_prompt()
            self._view_changed()
        elif purpose == "search":
            self.close_prompt()
            self._start_search(text)

    @on(Input.Changed, "#results-prompt")
    def _prompt_changed(self, event: Input.Changed) -> None:
        event.stop()

    # -- internals

    def _reset(self, *, keep_view: bool = False) -> None:
        if not keep_view:
            self._sort = None
            self._condition = None
            self._view_pending = False
            self._view_columns = []
        self._server_condition = None
        self._view_where = ""
        self._view_reason = ""
        self._search = None
        self._anchor = None
        self._row_selection = False
        self._to_end = False
        self._complete = True
        self.remove_class("-viewing")
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
        self._shown = self._rows
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
        # Fetching to the end, widths hardly change any more: a smaller sample keeps pages fast.
        budget = max(_WIDTH_SAMPLE // 8 if self._to_end else _WIDTH_SAMPLE, _WIDTH_FULL - len(self._rows))
        step = max(1, -(-len(rows) // budget))
        before = list(seen)
        for index in range(0, len(rows), step):
            row = rows[index]
            for column in range(min(ncols, len(row))):
                text = self.cell_text(row[column])
                width = len(text) if text.isascii() else cell_len(text)
                if width > seen[column]:
                    seen[column] = min(width, _EXPANDED_VALUE_CAP)
        return seen != before

    def _recompute_offsets(self) -> None:
        cap = self.max_column_width
        self._widths = [max(1, min(width, cap)) for width in self._seen_widths]
        if self._sort is not None and self._sort[0] < len(self._widths):
            # Room for the ▲/▼ after the name.
            column = self._sort[0]
            name_width = cell_len(self._columns[column][0])
            self._widths[column] = min(cap, max(self._widths[column], name_width + 2))
        offsets = [0]
        for width in self._widths:
            offsets.append(offsets[-1] + width + 2 * _CELL_PADDING)
        self._offsets = offsets

    def _check_need_rows(self) -> None:
        """Post NeedRows when the cursor or the viewport nears the end of the loaded rows."""
        if self._finished or self._need_pending or not self._columns or not self.is_mounted:
            return
        nearest = max(self.body.cursor_row, self.body.last_visible_row())
        if nearest >= len(self._shown) - self.page_size:
            self._need_pending = True
            self.post_message(self.NeedRows(self, self.page_size))

    def _cursor_moved(self) -> None:
        self._notice = ""
        self._update_status()
        self._check_need_rows()

    # -- sort, filter, search, selection

    def _view_changed(self) -> None:
        """Sort or filter changed: exact on the rows loaded when all are, else asked of the server."""
        self._search = None
        self._anchor, self._row_selection = None, False
        server_rows_kept = self._server_condition is None or (
            self._condition is not None and self._condition.text == self._server_condition.text
        )
        if self._view_where == "loaded" or (self._finished and server_rows_kept):
            # Every row is loaded (or the server cannot help): exact here.
            self._view_where = "loaded" if self._view_where == "loaded" else ""
            if len(self._rows) > _BACKGROUND_ROWS:
                self._apply_view_in_background()
            else:
                self._apply_view()
        else:
            self._view_pending = True
            self._view_columns = [name for name, _ in self._columns]
            self._view_cursor_column = self.cursor_coordinate[1]
            order = (self._columns[self._sort[0]][0], self._sort[1]) if self._sort is not None else None
            where = self._condition.tree if self._condition is not None else None
            self._notice = "Sorting and filtering on the server…"
            self.post_message(self.ViewRequested(self, where, order))
        self._recompute_offsets()
        self._show_view_bar()
        self.body.set_reactive(ResultsBody.cursor_row, 0)
        self.body.update_virtual_size()
        self.body.scroll_to(y=0, animate=False, immediate=True)
        self.body.refresh()
        self._update_status()

    def _apply_view(self) -> None:
        """Show the loaded rows through the sort and filter (all of them when neither is set);
        a filter the server applied already is not applied again."""
        self._view_generation += 1
        sort, condition = self._local_view()
        try:
            positions = _view_positions(self._rows, sort, condition)
        except ConditionError as exc:
            self._condition = None
            self._flash(str(exc), error=True)
            positions = _view_positions(self._rows, sort, None)
        self._shown = self._rows if positions is None else IndexedRows(self._rows, positions)

    def _apply_view_in_background(self) -> None:
        """`_apply_view` for many rows: sorted in a thread on a frozen copy of the rows, the
        grid stays responsive and says so; a newer view makes this one's answer moot."""
        self._view_generation += 1
        generation, rows = self._view_generation, self._rows
        frozen = rows.frozen()
        sort, condition = self._local_view()
        verb = "Sorting" if condition is None else "Filtering"

        def compute() -> None:
            try:
                positions, error = _view_positions(frozen, sort, condition), ""
            except ConditionError as exc:
                positions, error = None, str(exc)
            self.app.call_from_thread(self._view_ready, generation, rows, positions, error)

        self._notice = f"{verb} {len(frozen):,} rows…"
        self.run_worker(compute, thread=True, exclusive=True, group="results-view", exit_on_error=False)

    def _view_ready(self, generation: int, rows: RowStore, positions: Sequence[int] | None, error: str) -> None:
        if generation != self._view_generation or rows is not self._rows:
            return  # another view, or another result, came since
        if error:
            self._condition = None
            self._show_view_bar()
            self._flash(error, error=True)
            return
        self._shown = rows if positions is None else IndexedRows(rows, positions)
        self._notice = ""
        self.body.set_reactive(ResultsBody.cursor_row, 0)
        self._show_loaded()

    def _local_view(self) -> tuple[tuple[int, bool] | None, Condition | None]:
        """The sort and the filter still to apply here (not the filter the server applied)."""
        condition = self._condition if self._condition is not self._server_condition else None
        return self._sort, condition

    def _show_view_bar(self) -> None:
        parts: list[str] = []
        if self._sort is not None and self._sort[0] < len(self._columns):
            parts.append(f"Sort: {self._columns[self._sort[0]][0]} {'▼' if self._sort[1] else '▲'}")
        if self._condition is not None:
            parts.append(f"Filter: {self._condition.text}")
        if not parts:
            self.remove_class("-viewing")
            return
        if self._view_pending:
            parts.append("asking the server…")
        elif self._view_where == "server":
            parts.append("by the server")
        elif self._view_where == "loaded" and self._view_reason:
            parts.append(f"loaded rows only: {self._view_reason}")
        elif not self._complete:
            parts.append("loaded rows only (the result was stopped)")
        if self.is_mounted:
            self.query_one("#results-view", Static).update(" · ".join(parts))
        self.add_class("-viewing")

    @property
    def view_text(self) -> str:
        """What the view bar says (empty: neither sorted nor filtered)."""
        return str(self.query_one("#results-view", Static).content) if self.has_class("-viewing") else ""

    def _open_prompt(self, purpose: str, value: str, placeholder: str) -> None:
        prompt = self.query_one("#results-prompt", Input)
        self._prompt_purpose = purpose
        prompt.placeholder = placeholder
        prompt.value = value
        prompt.cursor_position = len(value)
        self.add_class("-prompting")
        # Shown and focused at once, not after the next refresh as CSS and focus() would: the
        # keys typed right after / or f are already queued and must reach the prompt.
        prompt.display = True
        self.screen.set_focus(prompt)

    def _start_search(self, term: str) -> None:
        if not term:
            self._search = None
            self.body.refresh()
            self._update_status()
            return
        self._search = search = _Search(term, [], set(), 0)
        if len(self._shown) > _BACKGROUND_ROWS:
            self._search_in_background(search)
            return
        self._extend_search()
        self._search_done(search)

    def _search_done(self, search: _Search) -> None:
        if search is not self._search:
            return  # another search, or another result, came since
        if not search.matches:
            self._flash(f"No match for {search.term!r} in {_plural(len(self._shown), 'row')}", error=True)
            self.body.refresh()
            return
        here = self.cursor_coordinate
        self._go_to_match(bisect_right(search.matches, (here[0], here[1] - 1)) % len(search.matches))

    def _search_in_background(self, search: _Search) -> None:
        """Search many rows in a thread (on a frozen copy of the rows); the grid stays responsive."""
        shown = self._shown
        rows = self._rows.frozen()
        view = shown if isinstance(shown, IndexedRows) else rows

        def compute() -> None:
            found, searched, capped = _find(rows, view, 0, search.term, _SEARCH_CAP, self.value_text)
            self.app.call_from_thread(self._search_found, search, found, searched, capped)

        self._notice = f"Searching {len(shown):,} rows…"
        self._update_status()
        self.run_worker(compute, thread=True, exclusive=True, group="results-search", exit_on_error=False)

    def _search_found(self, search: _Search, found: list[tuple[int, int]], searched: int, capped: bool) -> None:
        search.matches, search.cells, search.searched, search.capped = found, set(found), searched, capped
        self._notice = ""
        self._search_done(search)

    def _extend_search(self) -> None:
        """Search the rows shown since the last search (case-insensitive, on the text shown)."""
        search = self._search
        assert search is not None
        if self._view_where == "loaded" and search.searched:
            search.matches, search.cells, search.searched, search.current = [], set(), 0, -1
        room = _SEARCH_CAP - len(search.matches)
        found, search.searched, capped = _find(self._rows, self._shown, search.searched, search.term, room, self.value_text)
        search.capped = search.capped or capped
        search.matches.extend(found)
        search.cells.update(found)

    def _go_to_match(self, index: int) -> None:
        search = self._search
        assert search is not None
        search.current = index
        row, column = search.matches[index]
        self._anchor = None
        self.move_cursor(row, column)
        self._notice = self._match_status()
        self.body.refresh()
        self._update_status()

    def _match_status(self) -> str:
        search = self._search
        if search is None or search.current < 0:
            return ""
        total = f"{len(search.matches):,}{'+' if search.capped else ''}"
        return f"match {search.current + 1:,} of {total} · {search.term!r}"

    def _selection(self) -> tuple[range, range] | None:
        """(rows, columns) selected, or None."""
        if self._anchor is None:
            return None
        row, column = self.cursor_coordinate
        rows = range(min(row, self._anchor[0]), max(row, self._anchor[0]) + 1)
        if self._row_selection:
            return rows, range(len(self._columns))
        return rows, range(min(column, self._anchor[1]), max(column, self._anchor[1]) + 1)

    def _selected_columns(self, row: int) -> range | tuple[()]:
        selection = self._selection()
        if selection is None or row not in selection[0]:
            return ()
        return selection[1]

    def _copy_range(self, fmt: str, *, header: bool, whole_rows: bool = False) -> None:
        selection = self._selection()
        row, _ = self.cursor_coordinate
        rows, columns = selection if selection is not None else (range(row, row + 1), range(len(self._columns)))
        if whole_rows:
            columns = range(len(self._columns))
        if len(rows) > _COPY_ROWS_CAP:
            self._flash(f"{len(rows):,} rows is too many to copy (at most {_COPY_ROWS_CAP:,}); export them instead", error=True)
            return
        names = [self._columns[column][0] for column in columns]
        values = [[values[column] if column < len(values) else None for column in columns] for values in (self._shown[index] for index in rows)]
        text = cellrange.render(fmt, names, values, self.cell_text)
        self.app.copy_to_clipboard(text if fmt != "csv" else text.rstrip("\n"))
        label = {"tsv": "", "csv": " as CSV", "markdown": " as Markdown"}[fmt]
        what = _plural(len(rows), "row") if len(columns) == len(self._columns) else f"{len(rows) * len(columns):,} cells"
        self._flash(f"Copied {what}{label}")

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
            if len(self._shown) != loaded:
                parts.append(f"{len(self._shown):,} of {_plural(loaded, 'row')} shown")
            elif self._rowcount is not None and self._rowcount > loaded:
                parts.append(f"{loaded:,} of {_plural(self._rowcount, 'row')} loaded")
            elif not self._complete:
                parts.append(f"{loaded:,} loaded of more")
            else:
                parts.append(_plural(loaded, "row"))
        elif self._rowcount is not None and self._rowcount >= 0 and not self._status:
            parts.append(_plural(self._rowcount, "row") + " affected")
        if self._elapsed_ms is not None:
            parts.append(format_elapsed(self._elapsed_ms))
        if self._status:
            parts.append(self._status)
        return " · ".join(parts) or "Done"

    def _status_text(self, *, compact: bool = False) -> str:
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
        if self._to_end:
            seconds = time.monotonic() - self._to_end_since
            return f"Fetching to the end… {_plural(len(self._rows), 'row')} loaded · {seconds:.1f} s · Esc stops"
        if self._finished:
            return self._final_status_text()
        if self._columns:
            if compact:
                text = f"{len(self._rows):,}+ rows"
            else:
                text = f"{_plural(len(self._rows), 'row')} loaded · more rows available"
            if len(self._shown) != len(self._rows):
                text = f"{len(self._shown):,} of {text}"
            if self._first_rows_ms is not None:
                text += f" · first rows in {format_elapsed(self._first_rows_ms)}"
            if self.held:
                text = f"{self.held} · {text}"
            return text
        return "No results yet"

    def _position_text(self, *, narrow: bool) -> str:
        row, column = self.cursor_coordinate
        name, type_name = self._columns[column]
        more = "" if self._finished else "+"
        position = f"{'' if narrow else 'row '}{row + 1:,}/{len(self._shown):,}{more} · {name}"
        if type_name and not narrow:
            position += f" ({type_name})"
        selection = self._selection()
        if selection is not None:
            rows, columns = selection
            size = _plural(len(rows), "row") if self._row_selection else f"{len(rows):,}×{len(columns):,} cells"
            hint = "" if narrow else " · y copy, C CSV, M Markdown"
            position = f"{size} selected{hint} · {position}"
        return position

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        status = self._status_text()
        position = ""
        if self._shown and self._columns and not self._error:
            position = self._position_text(narrow=False)
            if cell_len(status) + cell_len(position) + 4 > self.size.width:
                # Short of room: the position leaves out words and the type, then the status
                # says the same in fewer words; the count and the time stay in sight.
                position = self._position_text(narrow=True)
                if cell_len(status) + cell_len(position) + 4 > self.size.width:
                    status = self._status_text(compact=True)
        self.query_one("#results-status", Static).update(status)
        self.query_one("#results-position", Static).update(position)
