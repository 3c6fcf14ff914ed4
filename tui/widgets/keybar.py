"""The key bar at the bottom of the screen: the keys that matter where the focus is, and the
pinned ones (Help, Quit) always at the right end, however narrow the terminal.

Cheaper than Textual's Footer, which recomposes on every focus change: the screen hands it the
keys when the focused pane changes, and it redraws only when they differ::

    bar.show([("F5", "Run"), ("y", "Copy cell")], pinned=[("F1", "Help"), ("^Q", "Quit")])

Keys that do not fit are left out from the end of the list, never the pinned ones.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

Key = tuple[str, str]
"""A key as written (``^Q``) and what it does (``Quit``)."""


class KeyBar(Widget):
    """One line of keys; the pinned keys at the right end."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys: list[Key] = []
        self._pinned: list[Key] = []

    def show(self, keys: list[Key], pinned: list[Key]) -> None:
        """Show ``keys`` in order, as many as fit, and ``pinned`` always."""
        if (keys, pinned) != (self._keys, self._pinned):
            self._keys, self._pinned = list(keys), list(pinned)
            self.refresh()

    @property
    def shown(self) -> list[str]:
        """What each key shown does, left to right, at the current width (tests read it)."""
        return [label for _, label in self._fit(self.size.width)[0] + self._pinned]

    def render(self) -> Text:
        width = self.size.width
        keys, used = self._fit(width)
        text = Text(no_wrap=True, overflow="crop")
        for key in keys:
            _append(text, key)
        text.append(" " * max(0, width - used))
        for key in self._pinned:
            _append(text, key)
        return text

    def _fit(self, width: int) -> tuple[list[Key], int]:
        """The leading keys that fit beside the pinned ones, and the cells they all take."""
        used = sum(_cells(key) for key in self._pinned)
        keys = []
        for key in self._keys:
            if used + _cells(key) > width:
                break
            keys.append(key)
            used += _cells(key)
        return keys, used


def _append(text: Text, key: Key) -> None:
    text.append(f" {key[0]} ", style="bold reverse")
    text.append(f" {key[1]} ")


def _cells(key: Key) -> int:
    return len(key[0]) + len(key[1]) + 4


__all__ = ["KeyBar"]
