"""Which rows to export when the result is still open: the rows loaded, or the full result run
again (streamed to the file, with progress, while the grid keeps its own)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

LOADED = "loaded"
FULL = "full"


class ExportScopeScreen(ModalScreen[str | None]):
    """Dismisses with LOADED, FULL or None (export nothing)."""

    BINDINGS = [
        Binding("l", "choose('loaded')", "Loaded rows", id="export.loaded", tooltip="Export the rows loaded so far"),
        Binding("f", "choose('full')", "Full result", id="export.full", tooltip="Run the statement again and export every row"),
        Binding("escape", "choose('')", "Cancel", id="export.cancel", tooltip="Export nothing"),
    ]

    def __init__(self, path: str, loaded: int) -> None:
        super().__init__()
        self.path = path
        self.loaded = loaded

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Export to {self.path}", id="dialog-title", markup=False)
            yield Static(
                f"The result is larger than what is loaded ({self.loaded:,} rows so far). Export the loaded rows, "
                "or the full result? The full result runs the statement again on its own connection and "
                "streams it to the file; the grid keeps its rows meanwhile, and Escape stops the export.",
                id="dialog-reason",
                markup=False,
            )
            with Horizontal(id="dialog-buttons"):
                yield Button(f"Loaded rows, {self.loaded:,} (l)", id=LOADED, variant="default")
                yield Button("Full result (f)", id=FULL, variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(f"#{FULL}", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id if event.button.id in (LOADED, FULL) else None)


__all__ = ["ExportScopeScreen", "FULL", "LOADED"]
