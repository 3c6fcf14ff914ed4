"""Server pane: what the server is doing (sessions, who blocks whom, top statements, health),
with sparklines for transactions per second, active sessions and the cache hit ratio.

The pane draws a view model of plain values (``tui/controllers/server.py`` makes it from the
engine's samples): a summary line, one table and a note. It repaints only what changed: the
summary when its text changed (without a layout pass when its shape is the same), a sparkline
when its picture would change, and in the table only the cells that changed, so an idle server
writes next to nothing to the terminal.

Public API (the screen codes against exactly this)::

    pane = ServerPane()
    pane.show(model)          # {"view", "filter", "summary", "columns", "rows", "note", "history", "actions"}
    pane.view, pane.filter    # what the user asked to see
    pane.selected()           # the row under the cursor: {"key", "pid", "query", "statement"} or None

``rows`` are ``(key, cells, info)``: ``key`` stays the same for the same session or statement
across refreshes, ``cells`` are the table's strings (or Rich Text), ``info`` is a dict with
``pid`` (for cancel and terminate), ``query`` (what a confirmation shows) and ``statement`` (what
``o`` opens in a new buffer: the query, or an index's DROP suggestion, never run from here).

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

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Sparkline, Static

__all__ = ["ServerPane"]

VIEWS = ("activity", "locks", "statements", "health")
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
        self._table(tuple(model.get("columns", ())), model.get("rows", []))

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
