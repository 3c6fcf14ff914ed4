"""The help screen: every key of the app, its screens and the panes on them, read from their
bindings (so remapped keys show as remapped), and the backslash commands."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from aishell.engine.commands import COMMANDS
from aishell.tui.compat.textual import keymap
from aishell.tui.keys import keys_label


def binding_rows(app: App) -> list[tuple[str, str, str, str]]:
    """(area, keys, description, binding id) of every binding with an id: the app's, then each
    screen's under the help and its widgets' in the order they sit on screen. The area is the
    binding id's first part (``main.run``: Main), the name a user remaps it by."""
    nodes: list[DOMNode] = [app]
    for screen in app.screen_stack:
        if not isinstance(screen, HelpScreen):
            nodes.append(screen)
            nodes.extend(screen.query("*"))
    remapped = keymap(app)
    rows = []
    seen: set[str] = set()
    for cls in dict.fromkeys(type(node) for node in nodes):
        for binding in cls.BINDINGS:
            if not isinstance(binding, Binding) or not binding.id or binding.id in seen:
                continue
            seen.add(binding.id)
            area = binding.id.split(".", 1)[0].capitalize()
            rows.append((area, keys_label(remapped.get(binding.id, binding.key)), binding.tooltip or binding.description, binding.id))
    return rows


class HelpScreen(ModalScreen[None]):
    """Every key, with the binding id to remap it in config.toml's [keys] table."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close", tooltip="Close the help")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label('Keys · remap any in config.toml: [keys] binding_id = "key" · Esc closes', id="help-title", markup=False)
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Keys", "What it does", "Binding id")
        for area, keys, what, binding_id in binding_rows(self.app):
            # Alternatives one under the other past a short width: the descriptions keep their
            # room at 80 columns.
            long = len(keys) > 16
            table.add_row(area, keys.replace(" / ", "\n") if long else keys, what, binding_id, height=None if long else 1)
        for entry in COMMANDS.values():
            # The usage goes with the description: a long one in the Keys column would push
            # every description off the screen.
            usage = f" · {entry.name} {entry.usage}" if entry.usage else ""
            table.add_row("Command", entry.name, f"{entry.summary}{usage}", "(type, then run)")
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
