"""Shared harness for the pane widget tests (tests/tui/test_widgets_*.py).

`WidgetHarness` mounts one widget alone in an App and records every message that reaches
the app (each message once, however far it bubbled). `widget_snap_compare` is
pytest-textual-snapshot's `snap_compare` with the SVGs kept under the top-level
``snapshots/widgets/<test module>/`` folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_textual_snapshot
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

SNAPSHOT_ROOT = Path(__file__).resolve().parents[2] / "snapshots" / "widgets"


class WidgetSnapshotExtension(pytest_textual_snapshot.SVGImageExtension):
    """SVG snapshots stored in snapshots/widgets/<test module>/<test name>.svg."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(SNAPSHOT_ROOT / test_location.basename)


@pytest.fixture
def widget_snap_compare(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """`snap_compare`, writing to and reading from snapshots/widgets/."""
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", WidgetSnapshotExtension)
    return request.getfixturevalue("snap_compare")


class WidgetHarness(App[None]):
    """A tiny app around one widget, recording the messages it posts."""

    CSS = "Screen { layout: vertical; }"

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_mount(self) -> None:
        for text_input in self.query(Input):
            text_input.cursor_blink = False

    async def _on_message(self, message: Message) -> None:
        if not any(message is seen for seen in self.messages):
            self.messages.append(message)
        await super()._on_message(message)

    def posted(self, *types: type[Message]) -> list[Message]:
        """Messages of these types that reached the app, oldest first."""
        return [message for message in self.messages if isinstance(message, types)]


def screen_text(app: App[Any]) -> str:
    """The screen as plain text, one line a row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
