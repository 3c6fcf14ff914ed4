"""The strip of buffer tabs over the editor: one tab a buffer, in order, the active one always in
view (a session with 42 buffers at 80 columns still shows where you are).

Never takes the focus: a click on a tab switches the buffer and the text area keeps typing. The
editor owns the list of buffers; the strip only shows it and says which tab was clicked::

    strip = BufferStrip(["query 1", "orders.sql"], active=1, id="buffer-tabs")
    await strip.show(names, active)     # the list changed (new, close, rename, move)
    strip.select(index)                 # another buffer became active
    BufferStrip.Chosen(strip, index)    # the user clicked a tab

Tab ``i`` always stands for buffer ``i``: a change to the list relabels the tabs in place and
adds or removes tabs at the end, so the strip never remounts 42 tabs for one move.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.message import Message
from textual.widgets import Tab, Tabs


class BufferStrip(Tabs, can_focus=False):
    """Tabs named after the buffers, the active one scrolled into view."""

    @dataclass
    class Chosen(Message):
        """The tab of buffer ``index`` became active (clicked, or selected by the editor)."""

        strip: "BufferStrip"
        index: int

        @property
        def control(self) -> "BufferStrip":
            return self.strip

    def __init__(self, names: list[str], active: int = 0, *, id: str | None = None) -> None:
        super().__init__(*(Tab(name, id=_tab_id(i)) for i, name in enumerate(names)), active=_tab_id(active), id=id)

    def on_mount(self) -> None:
        self.reveal()

    async def show(self, names: list[str], active: int) -> None:
        """Show ``names`` (one tab each, in order) with ``active`` the active one, in view."""
        tabs = list(self.query(Tab))
        for tab, name in zip(tabs, names):
            if tab.label_text != name:
                tab.label = name
        for index in range(len(tabs), len(names)):
            await self.add_tab(Tab(names[index], id=_tab_id(index)))
        self.select(active)
        for tab in tabs[len(names) :]:
            await self.remove_tab(tab)

    def select(self, index: int) -> None:
        """Make the tab of buffer ``index`` the active one and scroll it into view."""
        self.active = _tab_id(index)
        self.reveal()

    @property
    def names(self) -> list[str]:
        """The labels as shown, left to right."""
        return [tab.label_text for tab in self.query(Tab)]

    def reveal(self) -> None:
        """Scroll the active tab into view once the strip is laid out: a tab added or relabelled
        in this frame has no place yet, so the scroll Textual does on activation misses it."""

        def scroll() -> None:
            tab = self.active_tab
            if tab is not None:
                tab.scroll_visible(animate=False, immediate=True, force=True)

        self.call_after_refresh(scroll)

    @on(Tabs.TabActivated)
    def _activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab is not None and event.tab.id:
            self.post_message(self.Chosen(self, int(event.tab.id.rsplit("-", 1)[1])))

    @on(Tabs.Cleared)
    def _cleared(self, event: Tabs.Cleared) -> None:
        event.stop()


def _tab_id(index: int) -> str:
    return f"buffer-{index}"


__all__ = ["BufferStrip"]
