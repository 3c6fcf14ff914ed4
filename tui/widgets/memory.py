"""Memory pane: search everything run before, see why each hit ranked, recall it.

Typing in the search box posts ``SearchChanged`` (every change; the app runs the search in an
exclusive worker so a newer text supersedes an older one) and the app answers with
``show_hits``. Enter on a hit posts ``Recall`` with its statement so the app can put it in the
editor. Each hit shows its statement on one line; under it its outcome (ok, failed), the
database, the age ("3 min ago"), the duration and the rows; ``w`` shows why each ranked (its
score and the per-signal scores: "ranked 0.91: text 0.82 · recency 0.40"). Filters narrow the
hits shown: ``d`` this database only, ``f`` outcome (ok, failed), ``t`` time (last hour, day,
week). ``p`` pins a hit (pinned ones come first, marked ★) and Delete forgets it; the app does
both and searches again.

Public API (the app codes against exactly this)::

    pane = MemoryPane()
    pane.show_hits(hits: list[dict])   # keys: text, database, age_s, duration_ms, rows, success,
                                       #       score, signals: dict[str, float], id, pinned
                                       #       (all but text optional)
    pane.show_unavailable(reason: str) # memory store missing/corrupt: say so, disable the search box
    pane.search_text -> str            # what is in the search box
    pane.focus()                       # focuses the search box; pane.focus_hits() the list

    MemoryPane.SearchChanged(pane, text: str)
    MemoryPane.Recall(pane, text: str)
    MemoryPane.PinRequested(pane, id: int, pinned: bool)
    MemoryPane.ForgetRequested(pane, id: int)

Keys (binding ids in brackets): ``/`` focuses the search box [memory.focus_search]; Down or Enter
in the search box moves to the hits [memory.to_hits]; Enter on a hit recalls it (OptionList); on
the hits ``w`` [memory.why], ``d`` [memory.filter_database], ``f`` [memory.filter_outcome],
``t`` [memory.filter_time], ``p`` [memory.pin], Delete [memory.forget].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

__all__ = ["MemoryPane", "format_age", "short_database"]

OUTCOMES = (None, True, False)
"""The outcome filter's steps: any, succeeded, failed."""
PERIODS = (None, 3600.0, 86400.0, 7 * 86400.0)
"""The time filter's steps: any time, the last hour, day, week (seconds)."""
_PERIOD_NAMES = {3600.0: "last hour", 86400.0: "last day", 7 * 86400.0: "last week"}


def format_age(seconds: float) -> str:
    """How long ago, the way people say it.

    >>> format_age(20), format_age(185), format_age(7300), format_age(86400 * 3)
    ('just now', '3 min ago', '2 h ago', '3 days ago')
    """
    if seconds < 45:
        return "just now"
    minutes = seconds / 60
    if minutes < 59.5:
        return f"{max(1, round(minutes))} min ago"
    hours = minutes / 60
    if hours < 23.5:
        return f"{round(hours)} h ago"
    days = round(hours / 24)
    if days < 60:
        return "1 day ago" if days == 1 else f"{days} days ago"
    months = round(days / 30.4)
    if months < 24:
        return f"{months} months ago"
    return f"{round(days / 365.25)} years ago"


def short_database(target: str) -> str:
    """A database as a narrow pane can show it: its name, then the host.

    >>> short_database("sqlite:////home/ann/data/demo.db"), short_database("postgresql://ann@db.example:5432/shop")
    ('demo.db', 'shop@db.example')
    >>> short_database("shop")
    'shop'
    """
    if "://" not in target:
        return target
    rest = target.split("://", 1)[1].split("?", 1)[0]
    name = rest.rstrip("/").rsplit("/", 1)[-1] if "/" in rest else ""
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
    if not name:
        return host or target
    return f"{name}@{host}" if host else name


def _duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.1f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    return f"{int(ms // 60_000)} min {int(ms % 60_000 // 1000):02d} s"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _SearchInput(Input):
    """The search box: Down (or Enter) moves into the hits."""

    BINDINGS = [
        Binding("down", "to_hits", "To hits", show=False, id="memory.to_hits", tooltip="Move to the list of hits"),
    ]

    def on_mount(self) -> None:
        # Mounted after the first frame (after the screen's own pass over inputs): a steady
        # cursor in tests and snapshots, or pictures depend on the blink phase.
        self.cursor_blink = not self.app.is_headless

    def action_to_hits(self) -> None:
        self.query_ancestor(MemoryPane).focus_hits()


class _HitList(OptionList):
    """The hits: keys that act on the highlighted hit or narrow the list (not while typing)."""

    BINDINGS = [
        Binding("w", "pane('toggle_why')", "Why", id="memory.why", tooltip="Show or hide why each statement ranked where it did"),
        Binding("d", "pane('filter_database')", "This database", id="memory.filter_database", tooltip="Only statements run on this database (again: all)"),
        Binding("f", "pane('filter_outcome')", "Outcome", id="memory.filter_outcome", tooltip="Only statements that succeeded, then failed, then all"),
        Binding("t", "pane('filter_time')", "Time", id="memory.filter_time", tooltip="Only statements run in the last hour, day, week, then any time"),
        Binding("p", "pane('pin')", "Pin", id="memory.pin", tooltip="Pin the statement (listed first) or unpin it"),
        Binding("delete", "pane('forget')", "Forget", id="memory.forget", tooltip="Forget the statement: remove it from memory"),
    ]

    def action_pane(self, name: str) -> None:
        getattr(self.query_ancestor(MemoryPane), f"action_{name}")()


class MemoryPane(Vertical):
    """A search box over the statement history and the ranked hits."""

    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="memory.focus_search", tooltip="Type to search the history"),
    ]

    COMPONENT_CLASSES = {
        "memory-pane--meta",
        "memory-pane--ok",
        "memory-pane--failed",
        "memory-pane--score",
        "memory-pane--signal",
        "memory-pane--pinned",
    }

    DEFAULT_CSS = """
    MemoryPane {
        height: 1fr;
        & > .memory-pane--meta { color: $text-muted; }
        & > .memory-pane--ok { color: $success; text-style: bold; }
        & > .memory-pane--failed { color: $error; text-style: bold; }
        & > .memory-pane--score { color: $accent; }
        & > .memory-pane--signal { color: $text-muted; text-style: italic; }
        & > .memory-pane--pinned { color: $warning; text-style: bold; }
        #memory-filters { height: 1; padding: 0 1; color: $accent; display: none; text-wrap: nowrap; text-overflow: ellipsis; }
        &.-filtered #memory-filters { display: block; }
        #memory-search {
            height: 1;
            border: none;
            padding: 0 1;
            background: $boost;
            &:focus { background: $primary 25%; }
        }
        #memory-hits {
            height: 1fr;
            border: none;
        }
        #memory-status { height: auto; color: $text-muted; padding: 0 1; text-style: italic; }
        &.-unavailable #memory-status { color: $warning; text-style: none; }
        &.-unavailable #memory-hits { display: none; }
    }
    """

    @dataclass
    class SearchChanged(Message):
        """The search text changed: search the memory and call `show_hits`."""

        pane: MemoryPane
        """The pane asking."""
        text: str
        """The text to search for (may be empty)."""

        @property
        def control(self) -> MemoryPane:
            return self.pane

    @dataclass
    class Recall(Message):
        """The user picked a hit: put `text` in the editor."""

        pane: MemoryPane
        """The pane asking."""
        text: str
        """The statement recalled."""

        @property
        def control(self) -> MemoryPane:
            return self.pane

    @dataclass
    class PinRequested(Message):
        """Pin (or unpin) the statement ``id``, then search again."""

        pane: MemoryPane
        id: int
        """The statement's id in memory."""
        pinned: bool
        """True to pin, False to unpin."""

        @property
        def control(self) -> MemoryPane:
            return self.pane

    @dataclass
    class ForgetRequested(Message):
        """Remove the statement ``id`` from memory, then search again."""

        pane: MemoryPane
        id: int
        """The statement's id in memory."""

        @property
        def control(self) -> MemoryPane:
            return self.pane

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._all: list[Mapping[str, Any]] = []
        """Every hit of the last search; :attr:`_hits` are those the filters keep."""
        self._hits: list[Mapping[str, Any]] = []
        self.why = False
        """Show why each hit ranked (``w``)."""
        self.this_database = False
        """Only hits run on the session's database (``d``)."""
        self.outcome: bool | None = None
        """Only hits that succeeded (True) or failed (False); None: any (``f``)."""
        self.period: float | None = None
        """Only hits run in the last this many seconds; None: any time (``t``)."""

    def compose(self) -> ComposeResult:
        yield _SearchInput(placeholder="Search history…  (/)", id="memory-search")
        yield Static("", id="memory-filters", markup=False)
        yield Static("Type to search the statements you ran", id="memory-status", markup=False)
        yield _HitList(id="memory-hits")

    # -- public API

    @property
    def search_text(self) -> str:
        """The text in the search box."""
        return self.query_one("#memory-search", Input).value

    def show_hits(self, hits: list[dict]) -> None:
        """Show these hits, best first (replacing the previous ones)."""
        self.remove_class("-unavailable")
        self.query_one("#memory-search", Input).disabled = False
        self._all = [hit for hit in hits if isinstance(hit.get("text"), str)]
        self._refilter()

    @property
    def shown(self) -> list[Mapping[str, Any]]:
        """The hits on screen, in order (after the filters)."""
        return list(self._hits)

    def _keep(self, hit: Mapping[str, Any]) -> bool:
        if self.this_database and (hit.get("signals") or {}).get("same_db") != 1.0:
            return False
        if self.outcome is not None and hit.get("success") is not self.outcome:
            return False
        age = hit.get("age_s")
        return self.period is None or (_is_number(age) and age <= self.period)

    def _refilter(self) -> None:
        option_list = self.query_one("#memory-hits", OptionList)
        highlighted = option_list.highlighted
        self._hits = [hit for hit in self._all if self._keep(hit)]
        option_list.clear_options()
        option_list.add_options([Option(self._hit_prompt(hit)) for hit in self._hits])
        if self._hits:
            option_list.highlighted = min(highlighted or 0, len(self._hits) - 1)
        filters = [name for name in (
            "this database" if self.this_database else "",
            {True: "succeeded", False: "failed"}.get(self.outcome, ""),  # type: ignore[arg-type]
            _PERIOD_NAMES.get(self.period or 0.0, ""),
        ) if name]
        self.query_one("#memory-filters", Static).update("only: " + " · ".join(filters) if filters else "")
        self.set_class(bool(filters), "-filtered")
        status = self.query_one("#memory-status", Static)
        if self._hits:
            status.update(f"{len(self._hits)} match{'es' if len(self._hits) != 1 else ''} · Enter recalls · w why · p pin · Del forget")
        elif self._all:
            status.update(f"No statement passes the filters ({len(self._all)} hidden) · d f t change them")
        elif self.search_text.strip():
            status.update("No statement in the history matches")
        else:
            status.update("Type to search the statements you ran")

    def show_unavailable(self, reason: str) -> None:
        """Say why the memory cannot be searched; the search box is disabled until `show_hits`."""
        self._hits = []
        self.query_one("#memory-hits", OptionList).clear_options()
        self.query_one("#memory-search", Input).disabled = True
        self.query_one("#memory-status", Static).update(f"Memory not available: {reason}")
        self.add_class("-unavailable")

    def focus(self, scroll_visible: bool = True) -> MemoryPane:
        """Focus the search box (the pane container is not focusable)."""
        self.query_one("#memory-search", Input).focus(scroll_visible)
        return self

    def focus_hits(self) -> None:
        """Move the focus to the list of hits (if there are any), on the best one."""
        if self._hits:
            option_list = self.query_one("#memory-hits", OptionList)
            option_list.highlighted = 0
            option_list.focus()

    # -- events and actions

    def action_focus_search(self) -> None:
        self.query_one("#memory-search", Input).focus()

    def action_toggle_why(self) -> None:
        self.why = not self.why
        self._refilter()

    def action_filter_database(self) -> None:
        self.this_database = not self.this_database
        self._refilter()

    def action_filter_outcome(self) -> None:
        self.outcome = OUTCOMES[(OUTCOMES.index(self.outcome) + 1) % len(OUTCOMES)]
        self._refilter()

    def action_filter_time(self) -> None:
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        self._refilter()

    def _highlighted_hit(self) -> Mapping[str, Any] | None:
        index = self.query_one("#memory-hits", OptionList).highlighted
        hit = self._hits[index] if index is not None and 0 <= index < len(self._hits) else None
        return hit if hit is not None and _is_number(hit.get("id")) else None

    def action_pin(self) -> None:
        if (hit := self._highlighted_hit()) is not None:
            self.post_message(self.PinRequested(self, int(hit["id"]), not hit.get("pinned")))

    def action_forget(self) -> None:
        if (hit := self._highlighted_hit()) is not None:
            self.post_message(self.ForgetRequested(self, int(hit["id"])))

    @on(Input.Changed, "#memory-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.SearchChanged(self, event.value))

    @on(Input.Submitted, "#memory-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_hits()

    @on(OptionList.OptionSelected, "#memory-hits")
    def _hit_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._hits):
            self.post_message(self.Recall(self, self._hits[event.option_index]["text"]))

    # -- internals

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _hit_prompt(self, hit: Mapping[str, Any]) -> Text:
        statement = " ".join(hit["text"].split())
        prompt = Text(no_wrap=True, overflow="ellipsis", end="")
        if hit.get("pinned"):
            prompt.append("★ ", style=self._style("memory-pane--pinned"))
        prompt.append(statement)
        meta_style = self._style("memory-pane--meta")
        meta = Text(end="")  # wraps: a narrow pane still shows the database
        meta.append("  ")
        success = hit.get("success")
        if success is True:
            meta.append("✓ ok ", style=self._style("memory-pane--ok"))
        elif success is False:
            meta.append("✗ failed ", style=self._style("memory-pane--failed"))
        parts: list[str] = []
        if _is_number(hit.get("age_s")):
            parts.append(format_age(hit["age_s"]))
        if _is_number(hit.get("duration_ms")):
            parts.append(_duration(hit["duration_ms"]))
        if _is_number(hit.get("rows")) and hit["rows"] >= 0:
            parts.append(f"{int(hit['rows']):,} row{'' if hit['rows'] == 1 else 's'}")
        if isinstance(hit.get("database"), str) and hit["database"]:  # last: the longest
            parts.append(short_database(hit["database"]))
        meta.append(" · ".join(parts), style=meta_style)
        lines = [prompt, meta]
        if not self.why:
            return Text("\n", end="").join(lines)
        why = Text(end="")
        if _is_number(hit.get("score")):
            why.append(f"    ranked {hit['score']:.2f}", style=self._style("memory-pane--score"))
        signals = hit.get("signals")
        if isinstance(signals, Mapping) and signals:
            ranked = sorted(
                ((str(key), value) for key, value in signals.items() if _is_number(value)),
                key=lambda item: -item[1],
            )
            reasons = " · ".join(f"{key} {value:.2f}" for key, value in ranked)
            if reasons:
                why.append(": " if why else "    ", style=self._style("memory-pane--signal"))
                why.append(reasons, style=self._style("memory-pane--signal"))
        if why:
            lines.append(why)
        return Text("\n", end="").join(lines)
