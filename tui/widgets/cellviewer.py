"""The whole value of one cell, on a screen of its own: long text wrapped, JSON pretty-printed,
scrollable, selectable and copyable. Escape closes it.

    >>> print(viewer_text({"b": [1, 2], "a": None}))
    {
      "b": [
        1,
        2
      ],
      "a": null
    }
    >>> viewer_text('{"k":1}'), viewer_text("plain\\ttext"), viewer_text(None)
    ('{\\n  "k": 1\\n}', 'plain\\ttext', 'NULL')
"""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

__all__ = ["CellViewer", "viewer_text"]


def _json_of(value: Any) -> Any:
    """The JSON document ``value`` holds (a dict or list, or text of an object or array), else None."""
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def viewer_text(value: Any, display: Any = str) -> str:
    """The text the viewer shows: JSON indented, text as it is, NULL, the rest as the grid shows it."""
    document = _json_of(value)
    if document is not None:
        return json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return value
    return display(value)


class CellViewer(ModalScreen[None]):
    """A read-only text area over the grid with the cell's full value."""

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="cell_viewer.close", tooltip="Close the cell viewer"),
        Binding("y", "copy_all", "Copy", id="cell_viewer.copy", tooltip="Copy the whole value (a selection: ctrl+c)"),
        Binding("w", "toggle_wrap", "Wrap", id="cell_viewer.wrap", tooltip="Wrap long lines, or scroll them sideways"),
    ]

    DEFAULT_CSS = """
    CellViewer {
        align: center middle;
        background: $background 60%;
        #cell-viewer {
            width: 90%;
            height: 90%;
            border: round $primary;
            border-title-color: $text;
            border-subtitle-color: $text-muted;
            background: $surface;
        }
        #cell-viewer-text { height: 1fr; border: none; padding: 0 1; }
        #cell-viewer-help { height: 1; color: $text-muted; padding: 0 1; }
    }
    """

    def __init__(self, title: str, value: Any, display: Any = str) -> None:
        super().__init__()
        self.title_text = title
        self.value_text = viewer_text(value, display)
        self.is_json = _json_of(value) is not None

    def compose(self) -> ComposeResult:
        with Vertical(id="cell-viewer") as frame:
            frame.border_title = self.title_text
            lines = self.value_text.count("\n") + 1
            frame.border_subtitle = f"{'JSON · ' if self.is_json else ''}{len(self.value_text):,} characters · {lines:,} lines"
            area = TextArea(self.value_text, id="cell-viewer-text", read_only=True, soft_wrap=not self.is_json, show_line_numbers=self.is_json)
            area.cursor_blink = False
            yield area
            yield Static("Esc close · y copy all · ctrl+c copy selection · w wrap", id="cell-viewer-help", markup=False)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_all(self) -> None:
        self.app.copy_to_clipboard(self.value_text)
        self.notify(f"Copied {len(self.value_text):,} characters", timeout=2)

    def action_toggle_wrap(self) -> None:
        area = self.query_one(TextArea)
        area.soft_wrap = not area.soft_wrap
