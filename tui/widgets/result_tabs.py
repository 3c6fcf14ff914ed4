"""The results pane's tabs: one result a statement when several run (Run all, ``\\i FILE``),
around the one :class:`~aishell.tui.widgets.results.ResultsGrid`.

There is always exactly one grid (``#results``): the tab shown owns it, the others keep their
result in a :class:`ResultSlot` (columns, rows packed in a ``RowStore``, the final status or
error, the cursor) and get the grid back when shown again. A plain run (one statement) shows no
strip and writes to the grid as before; a script (several statements) shows the strip (one
line of tabs) and writes each result to its slot, which forwards to the grid while its tab is
shown. At most :data:`MAX_TABS` results are kept a run.

Usage (the screen)::

    tabs = ResultTabs(ResultsGrid(id="results"), id="result-tabs")
    tabs.begin("statements")                 # a script starts: tabs from here on
    slot = tabs.add(1, "select 1 as a")      # its first result; tabs.live is where it goes
    tabs.live.set_columns([("a", "int")]); tabs.live.append_rows([(1,)]); tabs.live.finish(1, 2.0, "SELECT 1")
    tabs.end(ran=1, elapsed_ms=3.0)          # the summary, in the grid's bottom border
    tabs.single()                            # a plain run: back to the grid alone

Keys (binding ids): ``]``/Ctrl-PageDown next result [results.next_tab], ``[``/Ctrl-PageUp
previous [results.previous_tab]; a click on a tab shows it. The run mode and the run's summary
show in the grid's bottom border while the tabs do.

>>> ResultTabs.short("select  count(*)\\n  from customers where id > 10", 20)
'select count(*) fro…'
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from aishell.tui.widgets.results import ResultsGrid
from aishell.tui.widgets.rowstore import RowStore

__all__ = ["MAX_TABS", "MODES", "ResultSlot", "ResultTabs"]

MAX_TABS = 20
"""Results kept a run; later statements still run and the summary counts them."""
MODES = {"statements": "stop on error", "transaction": "one transaction"}
"""The run modes and how the strip names them."""
_LABEL = 32
"""Widest tab label (number, text and mark)…"""
_LABEL_MIN = 14
"""…and the narrowest, when many share the strip (the strip then scrolls to the tab shown)."""


class ResultSlot:
    """One statement's result: what the grid would hold, kept while its tab is not shown.

    It has the grid's writing API (``set_columns``, ``append_rows``, ``finish``,
    ``show_error``, ``set_running``, ``clear``); while attached to the grid it forwards there
    and records only the status, so switching back shows the same result.
    """

    __slots__ = ("number", "label", "columns", "rows", "rowcount", "elapsed_ms", "status", "complete",
                 "error", "finished", "running", "cursor", "grid")

    def __init__(self, number: int, label: str) -> None:
        self.number = number
        self.label = label
        self.columns: list[tuple[str, str]] = []
        self.rows = RowStore()
        self.rowcount = 0
        self.elapsed_ms: float | None = None
        self.status = ""
        self.complete = True
        self.error: tuple[str, int | None, int | None] | None = None
        self.finished = False
        self.running = False
        self.cursor = (0, 0)
        self.grid: ResultsGrid | None = None
        """The grid while this result is the one shown."""

    @property
    def state(self) -> str:
        """``running``, ``ok`` or ``failed``."""
        return "failed" if self.error is not None else ("ok" if self.finished else "running")

    @property
    def row_count(self) -> int:
        """Rows loaded so far."""
        return self.grid.row_count if self.grid is not None else len(self.rows)

    def set_columns(self, columns: list[tuple[str, str]]) -> None:
        self.columns = [(str(name), str(type_name)) for name, type_name in columns]
        self.rows = RowStore()
        if self.grid is not None:
            self.grid.set_columns(columns)

    def append_rows(self, rows: list[tuple]) -> None:
        if self.grid is not None:
            self.grid.append_rows(rows)
        elif rows:
            if not self.columns:
                self.columns = [(f"column{index + 1}", "") for index in range(max(len(row) for row in rows))]
            self.rows.extend(rows)

    def finish(self, rowcount: int, elapsed_ms: float | None, status: str, *, complete: bool = True) -> None:
        self.rowcount, self.elapsed_ms, self.status, self.complete = rowcount, elapsed_ms, status, complete
        self.finished, self.running = True, False
        if self.grid is not None:
            self.grid.finish(rowcount, elapsed_ms, status, complete=complete)

    def show_error(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.error = (message, line, column)
        self.finished, self.running = True, False
        if self.grid is not None:
            self.grid.show_error(message, line, column)

    def set_running(self, running: bool) -> None:
        self.running = running
        if self.grid is not None:
            self.grid.set_running(running)

    def clear(self) -> None:
        self.columns, self.rows, self.error, self.finished = [], RowStore(), None, False
        if self.grid is not None:
            self.grid.clear()

    def attach(self, grid: ResultsGrid) -> None:
        """Show this result in ``grid`` (its rows move there)."""
        grid.clear()
        self.grid = grid
        if self.columns:
            grid.set_columns(self.columns)
            if self.rows:
                grid.append_rows(self.rows)  # type: ignore[arg-type]  (a Sequence of rows)
        self.rows = RowStore()
        if self.error is not None:
            grid.show_error(*self.error)
        elif self.finished:
            grid.finish(self.rowcount, self.elapsed_ms, self.status, complete=self.complete)
        elif self.running:
            grid.set_running(True)
        grid.move_cursor(*self.cursor)

    def detach(self) -> None:
        """Take the rows back from the grid (no copy: the grid starts a new store when cleared)."""
        grid = self.grid
        if grid is None:
            return
        self.rows = grid.rows  # type: ignore[assignment]
        self.cursor = grid.cursor_coordinate
        self.grid = None


class _Strip(Static):
    """The tab labels; a click on one shows it."""

    def action_show(self, index: int) -> None:
        if isinstance(self.parent, ResultTabs):
            self.parent.show(index)


class ResultTabs(Vertical):
    """The grid with a strip of result tabs above it while a run has more than one result."""

    BINDINGS = [
        Binding("right_square_bracket,ctrl+pagedown", "next_tab", "Next result", show=False, id="results.next_tab", tooltip="Show the next statement's result (Run all)"),
        Binding("left_square_bracket,ctrl+pageup", "previous_tab", "Previous result", show=False, id="results.previous_tab", tooltip="Show the previous statement's result (Run all)"),
    ]

    DEFAULT_CSS = """
    ResultTabs {
        height: 1fr;
        #result-strip { height: 1; width: 1fr; display: none; }
        &.-tabs #result-strip { display: block; }
    }
    """

    def __init__(self, grid: ResultsGrid, *, mode: str = "statements", id: str | None = None) -> None:
        super().__init__(id=id)
        self.grid = grid
        """The one grid: the shown tab's result."""
        self.slots: list[ResultSlot] = []
        """This run's kept results, in order (empty for a plain run)."""
        self.active = 0
        """Index of the tab shown."""
        self.mode = mode
        """The run mode shown on the strip (one of :data:`MODES`)."""
        self.summary = ""
        """What the grid's bottom border says after the mode (statements run, failures)."""
        self.scripting = False
        """A script is running: results go to tabs (between :meth:`begin` and :meth:`end`)."""
        self._live: ResultSlot | None = None

    def compose(self) -> ComposeResult:
        yield _Strip(id="result-strip")
        yield self.grid

    def on_resize(self) -> None:
        self._render_strip()

    # -- what the screen calls

    @property
    def live(self) -> "ResultSlot | ResultsGrid":
        """Where the running result's messages go: its slot in a script, else the grid."""
        return self._live if self._live is not None else self.grid

    @property
    def shows_live(self) -> bool:
        """The tab shown is the result being fetched (so the grid's requests for rows are its)."""
        return self._live is None or self._live.grid is not None

    def single(self) -> None:
        """A plain run: one result in the grid, no strip."""
        self.scripting = False
        self._drop_slots()
        self.set_class(False, "-tabs")
        self.grid.border_subtitle = None

    def begin(self, mode: str) -> None:
        """A script starts in ``mode``: its results become tabs."""
        self._drop_slots()
        self.mode = mode
        self.summary = ""
        self.scripting = True
        self.set_class(True, "-tabs")
        self._render_strip()

    def add(self, number: int, label: str) -> ResultSlot:
        """Statement ``number`` starts: its slot becomes :attr:`live` and is shown unless the user
        moved to another tab. Beyond :data:`MAX_TABS` the slot is not kept (only counted)."""
        slot = ResultSlot(number, label)
        self.summary = f"{number} ran" + (f" · {MAX_TABS} shown" if number > MAX_TABS else "")
        following = not self.slots or (self.active == len(self.slots) - 1)
        if len(self.slots) >= MAX_TABS:
            if self._live is not None and self._live.grid is not None:
                self._live.detach()
            self._live = slot  # written to, never shown
            self._render_strip()
            return slot
        self.slots.append(slot)
        self._live = slot
        if following:
            self.show(len(self.slots) - 1)
        self._render_strip()
        return slot

    def end(self, ran: int, elapsed_ms: float, failed: int | None = None, rolled_back: bool = False, *, stopped: bool = False) -> None:
        """The script ended: say how many ran, which failed, what was rolled back, whether it
        was stopped (nothing when a plain run replaced it meanwhile)."""
        if not self.scripting:
            return
        self.scripting = False
        live = self._live
        if stopped and live is not None and not live.finished:  # stopped while it ran
            live.finish(live.row_count, None, "stopped", complete=False)
        if failed is not None:
            parts = [f"#{failed} failed", "rolled back" if rolled_back else "rest not run"]
        else:
            cut = stopped and live is not None and live.status == "stopped"  # not just the last result's fetch
            parts = [f"stopped at #{ran}" if cut else f"{ran} ran"] + (["rolled back"] if rolled_back else [])
        if ran > MAX_TABS:
            parts.append(f"{MAX_TABS} shown")
        self.summary = " · ".join(parts)
        if failed is not None and failed <= len(self.slots):
            self.show(failed - 1)
        self._render_strip()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._render_strip()

    def show(self, index: int) -> None:
        """Show tab ``index`` in the grid."""
        if not self.slots or not 0 <= index < len(self.slots):
            return
        current = self.slots[self.active] if self.active < len(self.slots) else None
        target = self.slots[index]
        if current is not target or target.grid is None:
            if current is not None:
                current.detach()
            target.attach(self.grid)
        self.active = index
        self._render_strip()

    def changed(self) -> None:
        """A slot's state changed (finished, failed): redraw its mark."""
        self._render_strip()

    def action_next_tab(self) -> None:
        if self.slots:
            self.show((self.active + 1) % len(self.slots))

    def action_previous_tab(self) -> None:
        if self.slots:
            self.show((self.active - 1) % len(self.slots))

    # -- internals

    def _drop_slots(self) -> None:
        for slot in self.slots:
            slot.grid = None
        self.slots = []
        self.active = 0
        self._live = None
        self.summary = ""

    @staticmethod
    def short(text: str, width: int) -> str:
        """``text`` on one line, squeezed to ``width`` cells with an ellipsis."""
        flat = " ".join(text.split())
        if cell_len(flat) <= width:
            return flat
        out = ""
        for char in flat:
            if cell_len(out + char) > width - 1:
                break
            out += char
        return out + "…"

    def _labels(self, width: int) -> list[Content]:
        marks = {"ok": "✓", "failed": "✗", "running": "…"}
        texts = [(slot, " ".join(slot.label.split())) for slot in self.slots]
        # The widest label that lets every tab fit (not below _LABEL_MIN: then the strip scrolls).
        natural = [len(str(slot.number)) + cell_len(text) + 5 for slot, text in texts]
        cap = _LABEL
        while cap > _LABEL_MIN and sum(min(n, cap) for n in natural) > width:
            cap -= 1
        labels = []
        for index, (slot, text) in enumerate(texts):
            text = f" {slot.number} {self.short(text, cap - 5 - len(str(slot.number)))} {marks[slot.state]} "
            style = ("reverse " if index == self.active else "") + ("$text-error " if slot.state == "failed" else "")
            labels.append(Content.styled(text, f"{style}@click=show({index})"))
        return labels

    def _render_strip(self) -> None:
        if not self.is_mounted:
            return
        strip = self.query_one("#result-strip", _Strip)
        width = self.size.width or 80
        labels = self._labels(width)
        first = 0
        # Show a window of tabs that holds the active one.
        while first < self.active and sum(label.cell_length for label in labels[first: self.active + 1]) + (2 if first else 0) > width:
            first += 1
        parts = [Content("‹ ")] if first else []
        parts.extend(labels[first:])
        strip.update(Content("").join(parts))
        # The mode and the summary go in the grid's bottom border while the tabs show.
        showing = self.has_class("-tabs")
        self.grid.border_subtitle = " · ".join(p for p in (MODES.get(self.mode, self.mode), self.summary) if p) if showing else None
