"""Server pane: what the server is doing (sessions, who blocks whom, top statements, health),
with sparklines for transactions per second, active sessions and the cache hit ratio.

The pane draws a view model of plain values (``tui/controllers/server.py`` makes it from the
engine's samples): a summary line, one table and a note. It repaints only what changed: the
summary when its text changed (without a layout pass when its shape is the same), a sparkline
when its picture would change, and in the table only the cells that changed, so an idle server
writes next to nothing to the terminal.

Public API (the screen codes against exactly this)::

    pane = ServerPane()
    pane.show(model)          # {"view", "filter", "summary", "columns", "rows", "note", "history", "actions", "drop"}
    pane.view, pane.filter    # what the user asked to see
    pane.selected()           # the row under the cursor: {"key", "pid", "query", "statement"} or None

``rows`` are ``(key, cells, info)``: ``key`` stays the same for the same session or statement
across refreshes, ``cells`` are the table's strings (or Rich Text), ``info`` is a dict with
``pid`` (for cancel and terminate), ``query`` (what a confirmation shows) and ``statement`` (what
``o`` opens in a new buffer: the query, or an index's DROP suggestion, never run from here).

The last column (the statement) is what a narrow pane must not lose: it keeps at least a third of
the width (:data:`LAST_SHARE`), its text cut to what is left, and the other columns give way in
the model's ``drop`` order (names, the least needed first), as pg_activity drops columns at 80;
a column keeps the widest width it had in a view, so the set shown does not flicker.

Keys (binding ids in brackets): ``a`` activity [server.activity], ``l`` locks [server.locks],
``t`` top statements [server.statements], ``h`` health [server.health], ``f`` filter: active,
all, idle in transaction [server.filter], ``x`` cancel the statement [server.cancel], ``X``
terminate the session [server.terminate], ``o`` open the statement in a new buffer with its plan,
advice and memory [server.open], ``z`` count top statements from now [server.restart],
``i`` integrity check [server.check].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Sparkline, Static

__all__ = ["ServerPane"]

VIEWS = ("activity", "locks", "statements", "health")
LAST_SHARE = 3
"""The last column keeps at least 1/LAST_SHARE of the table's width…"""
LAST_MIN = 14
"""…and never fewer than this many cells."""
_SLACK = 3
"""Cells kept free for the vertical scrollbar and a duration growing by a digit."""
FILTERS = ("active", "all", "idle in transaction")


class ServerPane(Vertical, can_focus=False):
    """The server's sessions, locks, statements and health, refreshed by the screen."""

    BINDINGS = [
        Binding("a", "view('activity')", "Activity", id="server.activity", tooltip="Show every session: who runs what, for how long"),
        Binding("l", "view('locks')", "Locks", id="server.locks", tooltip="Show who blocks whom, the blocking roots first"),
        Binding("t", "view('statements')", "Top", id="server.statements", tooltip="Show the costliest statements while watched (pg_stat_statements)"),
        Binding("h", "view('health')", "Health", id="server.health", tooltip="Show the server's health: connections, sizes, vacuum, indexes"),
        Binding("f", "cycle_filter", "Filter", id="server.filter", tooltip="List active sessions, all of them, or the idle in transaction"),
        Binding("x", "signal(False)", "Cancel", id="server.cancel", tooltip="Cancel the selected session's statement (asks first)"),
        Binding("X", "signal(True)", "Terminate", show=False, id="server.terminate", tooltip="Terminate the selected session (asks first)"),
        Binding("o", "open", "Open", id="server.open", tooltip="Open the selected statement in a new buffer with its plan, advice and memory"),
        Binding("z", "restart", "From now", show=False, id="server.restart", tooltip="Count the top statements from now on"),
        Binding("i", "check", "Check", show=False, id="server.check", tooltip="Run the database's integrity check (SQLite)"),
    ]

    DEFAULT_CSS = """
    ServerPane {
        height: 1fr;
        padding: 0 1;
        #server-summary { height: auto; color: $text; }
        .server-spark { height: 1; }
        .server-spark Label { width: 8; color: $text-muted; }
        .server-spark Sparkline { width: 1fr; }
        .server-spark .server-last { width: 9; color: $text-muted; text-align: right; }
        #server-table { height: 1fr; }
        #server-note { height: auto; color: $text-muted; }
        &.-no-spark .server-spark { display: none; }
    }
    """

    @dataclass
    class ViewChanged(Message):
        """The user asked for another view or filter; the screen refreshes at once."""

        pane: "ServerPane"
        view: str
        filter: str

        @property
        def control(self) -> "ServerPane":
            return self.pane

    @dataclass
    class SignalRequested(Message):
        """Cancel (or terminate) the session ``pid``; the screen asks for confirmation first."""

        pane: "ServerPane"
        pid: int
        query: str
        terminate: bool

        @property
        def control(self) -> "ServerPane":
            return self.pane

    @dataclass
    class OpenRequested(Message):
        """Open ``statement`` in a new buffer with its plan, advice and memory matches."""

        pane: "ServerPane"
        statement: str

        @property
        def control(self) -> "ServerPane":
            return self.pane

    @dataclass
    class ActionRequested(Message):
        """``restart`` (top statements from now) or ``check`` (integrity check)."""

        pane: "ServerPane"
        action: str

        @property
        def control(self) -> "ServerPane":
            return self.pane

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.view = "activity"
        """The view shown: one of activity, locks, statements, health."""
        self.filter = "all"
        """Which sessions the activity view lists: active, all, idle in transaction."""
        self._shown: dict[str, object] = {}
        """What each part shows now: a part is written only when it changes."""
        self._columns: tuple[str, ...] = ()
        self._keys: list[str] = []
        self._cells: dict[str, tuple] = {}
        self._info: dict[str, dict[str, Any]] = {}
        self._model_table: tuple[tuple[str, ...], list, tuple[str, ...]] = ((), [], ())
        """The last model's columns, rows and drop order (fitted again on resize)."""
        self._widest: dict[str, int] = {}
        """The widest each column of this view has been (columns only grow: no flicker)."""

    def compose(self) -> ComposeResult:
        yield Static("Waiting for the first sample…", id="server-summary")
        for name, label in (("tps", "TPS"), ("active", "active"), ("hit", "hit %")):
            with Horizontal(classes="server-spark"):
                yield Label(label)
                yield Sparkline([], id=f"server-spark-{name}")
                yield Static("–", id=f"server-last-{name}", classes="server-last")
        table: DataTable = DataTable(id="server-table", cursor_type="row", zebra_stripes=False)
        yield table
        yield Static("", id="server-note")

    # -- drawing ----------------------------------------------------------------------------------

    def show(self, model: dict[str, Any]) -> None:
        """Draw ``model`` (see the module docstring), touching only what changed."""
        self._text("#server-summary", model.get("summary", ""))
        self._text("#server-note", model.get("note", ""))
        history = model.get("history") or {}
        self.set_class(not history, "-no-spark")
        for name, values in history.items():
            self._series(name, list(values))
        columns, drop = tuple(model.get("columns", ())), tuple(model.get("drop", ()))
        if columns != self._model_table[0]:
            self._widest = {}
        self._model_table = (columns, model.get("rows", []), drop)
        self._table(*self._fit(*self._model_table))

    def on_resize(self) -> None:
        if self._model_table[0]:
            self._table(*self._fit(*self._model_table))

    def _fit(self, columns: tuple[str, ...], rows: list, drop: tuple[str, ...]) -> tuple[tuple[str, ...], list]:
        """The columns that fit the table's width, and the rows cut to them (the last cell to the
        room left); everything as it is before the table has a size."""
        width = self.query_one("#server-table", DataTable).size.width
        if not width or len(columns) < 2:
            return columns, rows
        widest = self._widest
        for number, name in enumerate(columns[:-1]):
            widest[name] = max(widest.get(name, 0), cell_len(name), *(cell_len(_plain(cells[number])) for _, cells, _ in rows))
        shown = list(range(len(columns) - 1))
        padding = 2  # DataTable's cell padding, one each side

        def left() -> int:
            return width - _SLACK - sum(widest[columns[i]] + padding for i in shown) - padding

        for name in drop:
            if left() >= max(LAST_MIN, width // LAST_SHARE):
                break
            if name in columns[:-1] and columns.index(name) in shown:
                shown.remove(columns.index(name))
        room = max(left(), cell_len(columns[-1]), 1)
        shown.append(len(columns) - 1)
        fitted = [(key, tuple(cells[i] for i in shown[:-1]) + (_cut(cells[-1], room),), info) for key, cells, info in rows]
        return tuple(columns[i] for i in shown), fitted

    def _text(self, target: str, content: str | Text) -> None:
        key = content.markup if isinstance(content, Text) else content
        if self._shown.get(target) == key:
            return
        self._shown[target] = key
        plain = content.plain if isinstance(content, Text) else content
        shape = [len(line) for line in plain.split("\n")]
        same_shape = self._shown.get(f"{target}.shape") == shape
        self._shown[f"{target}.shape"] = shape
        self.query_one(target, Static).update(content, layout=not same_shape)

    def _series(self, name: str, values: list[float]) -> None:
        """A sparkline is given its history only when its picture would change: a flat line
        stays the same flat line as it grows."""
        flat = values[0] if values and min(values) == max(values) else None
        key = ("flat", flat) if flat is not None else ("data", tuple(values))
        if self._shown.get(f"spark-{name}") != key:
            self._shown[f"spark-{name}"] = key
            self.query_one(f"#server-spark-{name}", Sparkline).data = values
        last = "–" if not values else (f"{values[-1]:.0%}" if name == "hit" else f"{values[-1]:,.1f}".removesuffix(".0"))
        self._text(f"#server-last-{name}", last)

    def _table(self, columns: tuple[str, ...], rows: list[tuple[str, tuple, dict[str, Any]]]) -> None:
        table = self.query_one("#server-table", DataTable)
        keys = [key for key, _, _ in rows]
        self._info = {key: info for key, _, info in rows}
        if columns != self._columns or keys != self._keys:
            selected = self._selected_key()
            if columns != self._columns:
                table.clear(columns=True)
                for number, column in enumerate(columns):
                    table.add_column(column, key=str(number))
                self._columns = columns
            else:
                table.clear()
            for key, cells, _ in rows:
                table.add_row(*cells, key=key)
            self._keys, self._cells = keys, {key: tuple(cells) for key, cells, _ in rows}
            if selected in keys:
                table.move_cursor(row=keys.index(selected), animate=False)
            return
        for key, cells, _ in rows:  # same rows in the same order: only the cells that changed
            before = self._cells.get(key, ())
            for number, cell in enumerate(cells):
                if number >= len(before) or _key(before[number]) != _key(cell):
                    table.update_cell(key, str(number), cell, update_width=number == len(cells) - 1)
            self._cells[key] = tuple(cells)

    # -- selection and actions --------------------------------------------------------------------

    def _selected_key(self) -> str | None:
        table = self.query_one("#server-table", DataTable)
        if not self._keys or not 0 <= table.cursor_row < len(self._keys):
            return None
        return self._keys[table.cursor_row]

    def selected(self) -> dict[str, Any] | None:
        """The row under the cursor as ``{"key", "pid", "query", "statement"}``, or None."""
        key = self._selected_key()
        return None if key is None else {"key": key, **self._info.get(key, {})}

    def action_view(self, view: str) -> None:
        if view != self.view:
            self.view = view
            self.post_message(self.ViewChanged(self, view, self.filter))

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        if self.view != "activity":
            self.view = "activity"
        self.post_message(self.ViewChanged(self, self.view, self.filter))

    def action_signal(self, terminate: bool) -> None:
        row = self.selected()
        if row is None or row.get("pid") is None:
            self.notify("Select a session first (activity or locks).", severity="warning", timeout=3)
            return
        self.post_message(self.SignalRequested(self, int(row["pid"]), row.get("query") or "", terminate))

    def action_open(self) -> None:
        row = self.selected()
        statement = (row or {}).get("statement")
        if not statement:
            self.notify("No statement on this row.", severity="warning", timeout=3)
            return
        self.post_message(self.OpenRequested(self, statement))

    def action_restart(self) -> None:
        self.post_message(self.ActionRequested(self, "restart"))

    def action_check(self) -> None:
        self.post_message(self.ActionRequested(self, "check"))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()


def _key(cell: Any) -> Any:
    return cell.markup if isinstance(cell, Text) else cell


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _cut(cell: Any, room: int) -> Any:
    """``cell`` in at most ``room`` cells, an ellipsis where it was cut."""
    if cell_len(_plain(cell)) <= room:
        return cell
    if isinstance(cell, Text):
        cut = cell.copy()
        cut.truncate(room, overflow="ellipsis")
        return cut
    return set_cell_size(str(cell), room - 1) + "…"
