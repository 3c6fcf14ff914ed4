"""The text cursor stops blinking after a while without input, as GTK's terminals do.

A blinking cursor repaints its cell twice a second: over SSH that is a stream of bytes and
wake-ups for a program nobody is typing into (the workbench is often left open for hours). The
cursor blinks while the user works, rests steady ``rest_after`` seconds after the last key or
click (setting ``ui.cursor_rest``, 10 s like GTK's ``cursor-blink-timeout``) and blinks again at
the next one. Widgets set to a steady cursor (tests, snapshots) are left alone.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, TextArea

if TYPE_CHECKING:
    from textual.app import App

class CursorRest:
    """Rests and wakes the blinking cursors of ``app``'s current screen."""

    def __init__(self, app: "App", rest_after: float) -> None:
        self.app = app
        self.rest_after = rest_after
        self.last_input = time.monotonic()
        self.resting: list[Widget] = []
        """The widgets whose blinking was stopped (they blink again on the next input)."""
        self._timer: Timer | None = None

    def start(self) -> None:
        """Count from now (call once the app is running)."""
        self.last_input = time.monotonic()
        self._schedule(self.rest_after)

    def input_seen(self) -> None:
        """A key, click or paste arrived: blink again, rest later."""
        self.last_input = time.monotonic()
        for widget in self.resting:
            if widget.is_mounted:
                widget.cursor_blink = True  # type: ignore[attr-defined]
        self.resting = []
        if self._timer is None:
            self._schedule(self.rest_after)

    def _schedule(self, delay: float) -> None:
        self._timer = self.app.set_timer(delay, self._check, name="cursor-rest")

    def _check(self) -> None:
        quiet_for = time.monotonic() - self.last_input
        if quiet_for < self.rest_after:  # input came meanwhile: wait for the rest of the time
            self._schedule(self.rest_after - quiet_for)
            return
        self.resting = [w for w in self.app.screen.query("TextArea, Input") if isinstance(w, (TextArea, Input)) and w.cursor_blink]
        for widget in self.resting:
            widget.cursor_blink = False
        self._timer = None
