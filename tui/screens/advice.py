"""The workload advice screen (Shift-F8, ``\\advise``, or "Workload advice" in the command
palette): index advice for everything this database runs, tested with HypoPG.

The advice runs in a worker with its progress shown; the list holds the indexes worth creating,
best first (estimated total time saved), then existing indexes that are unused or repeat
another. The selected row shows its statement and the statements it helps and slows. ``e``
puts the statement into the editor (the screen closes with it); ``r`` runs it after a question,
and never in a read-only session (refused at once, with why). Nothing is created otherwise.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, VerticalScroll
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, ProgressBar, Static

from aishell.tui.controllers.advice import AdviceController, AdviceFailed, AdviceProgress, AdviceReady, StatementApplied, last_advice

READ_ONLY = "read-only session: nothing is created or dropped here. e puts the statement in the editor, to run in a writable session"


class AdviceScreen(Screen[str | None]):
    """Workload advice for the current connection. Dismisses with a statement to put into the
    editor, or None."""

    CSS_PATH = "advice.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="advice.close", tooltip="Back to the workbench"),
        Binding("e", "to_editor", "To editor", id="advice.to_editor", tooltip="Put the selected statement into the editor and go back"),
        Binding("r", "run", "Run it…", id="advice.run", tooltip="Run the selected CREATE or DROP INDEX (asks first; never in a read-only session)"),
        Binding("a", "again", "Again", id="advice.again", tooltip="Advise again (after creating an index, or more statements run)"),
    ]

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        """The Session advised on: the connection of the screen that opened this one."""
        self.advice = AdviceController(self)
        self.items: list[dict[str, Any]] = []
        """The rows listed (see :func:`tui.controllers.advice.advice_items`)."""
        self.state = "idle"
        """idle, running, ready or failed: tests and the status line read it."""

    def compose(self) -> ComposeResult:
        yield Label(f"Workload advice · {self.session.display_url}", id="advice-title", markup=False)
        with Horizontal(id="advice-progress"):
            yield ProgressBar(id="advice-bar", show_eta=False)
            yield Label("", id="advice-step", markup=False)
        yield Label("", id="advice-status", markup=False)
        table: DataTable = DataTable(id="advice-table", cursor_type="row", zebra_stripes=True)
        table.add_column("Kind", key="kind", width=9)
        table.add_column("Saves", key="saves", width=12)
        table.add_column("Helps", key="helps", width=5)
        table.add_column("Slows", key="slows", width=5)
        table.add_column("Index", key="what")
        yield table
        with VerticalScroll(id="advice-detail"):
            yield Static("", id="advice-detail-text", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        last = last_advice(self.session)
        if last is None:
            self.action_again()
        else:
            self.state = "ready"
            self.query_one("#advice-progress").display = False
            self._show(last, "last advice (a: again) · ")

    @property
    def read_only(self) -> bool:
        return bool(self.session.read_only)

    @property
    def selected(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0 or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    # -- actions ----------------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_again(self) -> None:
        if self.state == "running":
            return
        self.state = "running"
        self.query_one("#advice-progress").display = True
        self.query_one("#advice-bar", ProgressBar).update(total=None, progress=0)
        self._status("reading the workload…")
        self.advice.advise()

    def action_to_editor(self) -> None:
        item = self.selected
        if item is None:
            self.app.bell()
            return
        self.dismiss(item["statement"])

    def action_run(self) -> None:
        item = self.selected
        if item is None:
            self.app.bell()
            return
        if item.get("applied"):
            self.notify("Already run: a advises again with it in place.", title="Workload advice", timeout=4)
            return
        if self.read_only:
            self.notify(READ_ONLY, title="Not run", severity="error", timeout=8)
            self._status(READ_ONLY, error=True)
            return
        from aishell.tui.screens.dialogs import ConfirmScreen

        statement = item["statement"]
        if item["kind"] == "index":
            title, reason = "Create this index?", f"Builds the index now ({item['saves']} a run of the workload, estimated). Writes to the table wait while it builds."
        else:
            title, reason = "Drop this index?", f"{item['detail'][1]}. CONCURRENTLY: writes go on while it is dropped."

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._status(f"running {statement}")
                self.advice.apply(statement)

        self.app.push_screen(ConfirmScreen(reason, statement, title=title), confirmed)

    # -- the controller's reports -----------------------------------------------------------------

    def on_advice_progress(self, message: AdviceProgress) -> None:
        bar = self.query_one("#advice-bar", ProgressBar)
        bar.update(total=message.total or None, progress=message.done)
        self.query_one("#advice-step", Label).update(f"{message.done}/{message.total} {message.what}" if message.total else message.what)
        if message.total:
            self._status("planning each statement shape once, then each candidate index as a hypothetical one (HypoPG)…")

    def on_advice_ready(self, message: AdviceReady) -> None:
        self.state = "ready"
        self.query_one("#advice-progress").display = False
        self._show(message)

    def _show(self, message: AdviceReady, prefix: str = "") -> None:
        self.items = message.items  # shared with the remembered advice: what was run stays marked
        table = self.query_one(DataTable)
        table.clear()
        for number, item in enumerate(self.items, 1):
            kind = f"{number}. index" if item["kind"] == "index" else item["kind"]
            if item.get("applied"):
                kind = "✔ created" if item["kind"] == "index" else "✔ dropped"
            table.add_row(kind, item["saves"], str(item["helps"]), str(item["slows"]), item["what"])
        if not any(item["kind"] == "index" for item in self.items):
            self._status(prefix + message.summary + " · no index would save the workload time")
        else:
            self._status(prefix + message.summary)
        self._show_detail()

    def on_advice_failed(self, message: AdviceFailed) -> None:
        self.state = "failed"
        self.query_one("#advice-progress").display = False
        self._status(message.reason, error=True)

    def on_statement_applied(self, message: StatementApplied) -> None:
        if message.error:
            self.notify(message.error, title="Not run", severity="error", timeout=8)
            self._status(message.error, error=True)
            return
        table = self.query_one(DataTable)
        for number, item in enumerate(self.items):
            if item["statement"] == message.statement:
                item["applied"] = True
                table.update_cell_at(Coordinate(number, 0), "✔ created" if item["kind"] == "index" else "✔ dropped")
        self.notify(f"{message.statement} ({message.elapsed_ms:,.0f} ms). a advises again.", title="Done", timeout=6)
        self._status(f"done: {message.statement} · a advises again with it in place")

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_to_editor()

    # -- helpers ----------------------------------------------------------------------------------

    def _show_detail(self) -> None:
        item = self.selected
        text = "\n".join(item["detail"]) if item is not None else ""
        if item is not None and self.read_only:
            text += "\n\n" + READ_ONLY
        self.query_one("#advice-detail-text", Static).update(text)

    def _status(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#advice-status", Label)
        label.update(text)
        label.set_class(error, "-error")


class AdviceCommands(Provider):
    """"Workload advice" in the command palette (Ctrl-P) of the main screen."""

    NAME = "Workload advice"
    HELP = "Index advice for the whole workload of this database (memory, pg_stat_statements, HypoPG)"

    async def discover(self) -> Hits:
        yield DiscoveryHit(self.NAME, self._open, help=self.HELP)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        score = matcher.match(self.NAME)
        if score > 0:
            yield Hit(score, matcher.highlight(self.NAME), self._open, help=self.HELP)

    async def _open(self) -> None:
        await self.screen.run_action("workload_advice")


__all__ = ["AdviceCommands", "AdviceScreen", "READ_ONLY"]
