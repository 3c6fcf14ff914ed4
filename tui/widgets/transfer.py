"""The transfer bar: one line above the key bar while an export or a ``\\copy`` moves rows, with
how far it is and how to stop it. It appears with the first report and goes away by itself a
moment after the last one (or at once with :meth:`TransferBar.done`).

    TransferBar.report(screen, "Exporting to big.csv", rows=120_000, size=0, total=None)
    TransferBar.done(screen)
"""

from __future__ import annotations

import time

from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

LINGER = 1.5
"""Seconds the bar stays after the last report (a transfer that ends says so elsewhere)."""


class TransferBar(Static):
    """``Exporting to big.csv · 120,000 rows · 18.4 MB · 3.1 s · Escape cancels``."""

    def __init__(self) -> None:
        super().__init__("", id="transfer-bar", markup=False)
        self._started = time.monotonic()
        self._what = ""
        self._hide: Timer | None = None

    @classmethod
    def report(cls, screen: Screen, what: str, rows: int, size: int = 0, total: int | None = None) -> None:
        """Show how far ``what`` is on ``screen`` (the bar is mounted on first use)."""
        bars = screen.query(cls)
        if bars:
            bar = bars.first()
        else:
            bar = cls()
            screen.mount(bar)
        bar.show(what, rows, size, total)

    @classmethod
    def done(cls, screen: Screen) -> None:
        """Take the bar away now."""
        for bar in screen.query(cls):
            bar.remove()

    def show(self, what: str, rows: int, size: int, total: int | None) -> None:
        if what != self._what:
            self._what = what
            self._started = time.monotonic()
        parts = [what, f"{rows:,} rows"]
        if size:
            parts.append(_size(size) + (f" of {_size(total)} ({size * 100 // total}%)" if total else ""))
        parts.append(f"{time.monotonic() - self._started:.1f} s")
        parts.append("Escape cancels")
        self.update(" · ".join(parts))
        if self._hide is not None:
            self._hide.stop()
        self._hide = self.set_timer(LINGER, self.remove)


def _size(size: int) -> str:
    """``18.4 MB``, ``912 kB``, ``40 B``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if scale > 1e3 else f"{size / scale:.0f} {unit}"
    return f"{size} B"


__all__ = ["TransferBar"]
