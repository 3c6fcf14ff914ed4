"""Small modal questions: a line of text to type (a buffer's name, a file to open or save) and a
yes/no question (close a buffer whose text would be lost). They look like the other dialogs
(``#dialog`` in ``app.tcss``)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text. Dismisses with the text typed (stripped, not empty), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel", tooltip="Close without changing anything")]

    def __init__(self, title: str, hint: str, value: str = "", *, action: str = "OK", password: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.value = value
        self.action = action
        self.password = password
        """Mask what is typed (a password)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title", markup=False)
            yield Static(self.hint, id="dialog-reason", markup=False)
            yield Input(self.value, id="prompt-value", password=self.password)
            with Horizontal(id="dialog-buttons"):
                yield Button(self.action, id="go", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = not self.app.is_headless
        field.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._answer()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go":
            self._answer()
        else:
            self.dismiss(None)

    def _answer(self) -> None:
        value = self.query_one(Input).value.strip()
        if value:
            self.dismiss(value)


class QuestionScreen(ModalScreen[bool]):
    """A yes/no question; the safe answer (no) has the focus. Dismisses with True for yes."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="question.yes", tooltip="Answer yes"),
        Binding("n,escape", "answer(False)", "No", id="question.no", tooltip="Answer no (nothing changes)"),
    ]

    def __init__(self, title: str, message: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-warning"):
            yield Label(self.title_text, id="dialog-title", markup=False)
            yield Static(self.message, id="dialog-reason", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="error")
                yield Button(f"{self.no} (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


__all__ = ["PromptScreen", "QuestionScreen"]
