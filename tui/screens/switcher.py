"""The list of open connections (Alt-L): which one is in front, which have a transaction open,
and the keys that go between them. Dismisses with the index of the one to bring to the front,
or None."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from aishell.tui.open_connections import OpenConnection

HINT = "Enter goes to it · F12 / Shift-F12 next and previous · Alt-X closes the one in front · Ctrl-O, then Ctrl-N, opens another"


class ConnectionSwitcher(ModalScreen[int | None]):
    """One line an open connection, the one in front highlighted."""

    BINDINGS = [Binding("escape,alt+l", "cancel", "Close", id="switcher.close", tooltip="Close the list and stay on this connection")]

    def __init__(self, connections: list[OpenConnection]) -> None:
        super().__init__()
        self.connections = connections

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-switcher"):
            yield Label(f"Open connections ({len(self.connections)})", id="dialog-title")
            yield OptionList(*(Option(_line(item), id=f"connection-{item.index}") for item in self.connections), id="switcher-list")
            yield Static(HINT, id="switcher-hint", markup=False)

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.highlighted = next((i for i, item in enumerate(self.connections) if item.active), 0)
        listing.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)


def _line(item: OpenConnection) -> Content:
    """``2  Shop (live)  sqlite:///…  transaction open  ◀``: what a row says."""
    line = Content.from_markup("[b]$index[/]  ", index=str(item.index))
    if item.label:
        style = {"red": "$error", "yellow": "$warning", "green": "$success", "blue": "$primary"}.get(item.colour, "")
        line += Content.from_markup(f"[b {style}]$label[/]  " if style else "[b]$label[/]  ", label=item.label)
    line += Content.from_markup("$url", url=item.url)
    if item.transaction:
        line += Content.from_markup("  [$warning]$tx[/]", tx=item.transaction)
    if item.active:
        line += Content.from_markup("  [dim](in front)[/]")
    return line


__all__ = ["ConnectionSwitcher"]
