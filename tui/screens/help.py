"""The help screen: every key of every pane, read from the bindings (so remapped keys show as
remapped), and the backslash commands."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from aishell.tui.backslash import COMMANDS


def binding_rows(app) -> list[tuple[str, str, str, str]]:
    """(area, keys, description, binding id) for the app, its screens and every pane."""
    from aishell.tui.app import AishellApp
    from aishell.tui.screens.dialogs import ConfirmScreen
    from aishell.tui.screens.main import MainScreen
    from aishell.tui.widgets.editor import EditorPane
    from aishell.tui.widgets.memory import MemoryPane
    from aishell.tui.widgets.metrics import MetricsPane
    from aishell.tui.widgets.results import ResultsBody, ResultsGrid
    from aishell.tui.widgets.schema import SchemaTree
    from aishell.tui.widgets.suggestions import SuggestionsPane

    keymap = getattr(app, "_keymap", {}) or {}
    areas = (
        ("App", AishellApp),
        ("Workbench", MainScreen),
        ("Editor", EditorPane),
        ("Results", ResultsGrid),
        ("Results", ResultsBody),
        ("Suggestions", SuggestionsPane),
        ("Metrics", MetricsPane),
        ("Memory", MemoryPane),
        ("Schema", SchemaTree),
        ("Confirm", ConfirmScreen),
    )
    rows = []
    seen = set()
    for area, cls in areas:
        for binding in cls.BINDINGS:
            if not isinstance(binding, Binding):
                continue
            if binding.id and binding.id in seen:
                continue
            seen.add(binding.id)
            keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
            rows.append((area, _pretty(keys), binding.tooltip or binding.description, binding.id or ""))
    return rows


def _pretty(keys: str) -> str:
    """``ctrl+j,f5`` -> ``Ctrl-J / F5``."""
    names = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "escape": "Esc", "enter": "Enter", "pageup": "PgUp",
             "pagedown": "PgDn", "underscore": "_", "slash": "/", "space": "Space", "@": "Space"}
    out = []
    for key in keys.split(","):
        parts = [p for p in key.strip().split("+") if p]
        out.append("-".join(names.get(p, p.upper() if len(p) <= 3 else p.capitalize()) for p in parts))
    return " / ".join(out)


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
        for row in binding_rows(self.app):
            table.add_row(*row)
        for command, (args, text) in COMMANDS.items():
            table.add_row("Editor", f"{command} {args}".strip(), text, "(type, then run)")
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
