"""Modal dialogs: confirm a destructive statement, show an error, settle an open transaction
(the connection picker is :mod:`aishell.tui.screens.picker`)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask before running a destructive statement. Dismisses with True to run it."""

    BINDINGS = [
        Binding("y", "answer(True)", "Run it", id="confirm.yes", tooltip="Run the statement"),
        Binding("n,escape", "answer(False)", "Don't run", id="confirm.no", tooltip="Go back without running"),
    ]

    def __init__(self, reason: str, sql: str, *, title: str = "Run a destructive statement?") -> None:
        super().__init__()
        self.reason = reason
        self.sql = sql
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-warning"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(self.reason, id="dialog-reason", markup=False)
            with VerticalScroll(id="dialog-sql"):
                yield Static(self.sql if len(self.sql) < 2000 else self.sql[:2000] + "…", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button("Run it (y)", id="yes", variant="error")
                yield Button("Cancel (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ErrorScreen(ModalScreen[str]):
    """An error that stops the work (a failed connection): title, message and choices."""

    BINDINGS = [Binding("escape", "dismiss_default", "Close", id="error.close", tooltip="Close this message")]

    def __init__(self, title: str, message: str, *, buttons: tuple[tuple[str, str], ...] = (("ok", "OK"),)) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.buttons = buttons

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-error"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(self.message, id="dialog-reason", markup=False)
            with Horizontal(id="dialog-buttons"):
                for key, text in self.buttons:
                    yield Button(text, id=key, variant="primary" if key == self.buttons[0][0] else "default")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def action_dismiss_default(self) -> None:
        self.dismiss(self.buttons[-1][0] if len(self.buttons) > 1 else self.buttons[0][0])

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class TransactionScreen(ModalScreen[str]):
    """A transaction is open and the user is leaving it (quit, another database): commit it, roll
    it back or stay. Dismisses with ``commit``, ``rollback`` or ``stay``. A failed transaction
    cannot be committed: only roll back and stay are offered."""

    BINDINGS = [
        Binding("c", "answer('commit')", "Commit", id="transaction.commit", tooltip="Commit the open transaction, then go on"),
        Binding("r", "answer('rollback')", "Roll back", id="transaction.rollback", tooltip="Roll the open transaction back, then go on"),
        Binding("s,escape", "answer('stay')", "Stay", id="transaction.stay", tooltip="Go back with the transaction still open"),
    ]

    def __init__(self, failed: bool = False) -> None:
        super().__init__()
        self.failed = failed

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-warning"):
            yield Label("A transaction is open", id="dialog-title")
            if self.failed:
                reason = "It failed: the server ignores everything in it until ROLLBACK. Roll it back and go on, or stay."
            else:
                reason = "Nothing in it is committed yet: others do not see its changes, and leaving would roll it back."
            yield Static(reason, id="dialog-reason", markup=False)
            with Horizontal(id="dialog-buttons"):
                if not self.failed:
                    yield Button("Commit (c)", id="commit", variant="primary")
                yield Button("Roll back (r)", id="rollback", variant="error")
                yield Button("Stay (s)", id="stay")

    def on_mount(self) -> None:
        self.query_one("#stay", Button).focus()

    def action_answer(self, answer: str) -> None:
        if answer == "commit" and self.failed:
            self.app.bell()
            return
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)
