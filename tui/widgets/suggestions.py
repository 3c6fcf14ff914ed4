"""Suggestions pane: the analyzer's findings for the statement under the cursor, and the plan.

Findings are listed with their severity in colour, code, rule, position and suggestion, one
line each (cut at the pane's width). Selecting one (Enter or click) posts ``FindingSelected`` so
the app can move the editor's cursor there, and opens it below the list: its full text, the
suggestion and a preview of the fix (the text the finding is about, then what replaces it). The
plan (a tree, :class:`~aishell.tui.widgets.plan.PlanView`; for index advice the plan before and
after side by side) and the findings from it are shown once the app calls ``show_plan``; keys
ask the app for them.

Public API (the app codes against exactly this)::

    pane = SuggestionsPane()
    pane.show_findings(findings: list[dict])   # keys: code, rule, severity ("info"|"warning"|"error"),
                                               #       message, line, column, suggestion, span (the
                                               #       text it is about; all optional but message)
    pane.show_plan(summary: str, findings: list[dict],      # plan text and the findings/advice from it;
                   nodes=None, after=None, titles=("Plan", ""))  # the tree(s): see PlanView.show
    pane.open_finding(index: int | None)       # show this finding of the list in full (None: close)
    pane.clear_plan()
    pane.show_unavailable(reason: str)
    pane.focus()                               # focuses the list of findings

    SuggestionsPane.FindingSelected(pane, line: int, column: int | None)
    SuggestionsPane.ExplainRequested(pane, analyze: bool)
    SuggestionsPane.AdviceRequested(pane)

Keys (binding ids in brackets): ``p`` runs EXPLAIN [suggestions.explain], ``P`` EXPLAIN ANALYZE
[suggestions.explain_analyze], ``a`` asks for index advice [suggestions.advice], ``o`` opens or
closes the highlighted finding [suggestions.open]; Enter on a finding jumps to it and opens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from aishell.tui.widgets.plan import PlanView

__all__ = ["SuggestionsPane"]

SEVERITIES = ("error", "warning", "info")
"""Known severities, most severe first."""

_ICONS = {"error": "✗", "warning": "▲", "info": "●"}
_STATEMENT_WORDS = frozenset(
    "select with insert update delete create alter drop analyze set truncate vacuum reindex cluster "
    "where order limit not exists union join".split()
)
"""First words of a suggestion that is SQL (a statement to run or a fragment to write) rather than prose."""


def split_suggestion(suggestion: str) -> tuple[str, str]:
    """``(code, note)``: the SQL of a suggestion and the prose after its ``--`` comment (or
    ``("", suggestion)`` when it is prose only).

    >>> split_suggestion("CREATE INDEX ON orders (lower(status));  -- or a citext column")
    ('CREATE INDEX ON orders (lower(status));', 'or a citext column')
    >>> split_suggestion("an index on the filtered columns")
    ('', 'an index on the filtered columns')
    """
    code, _, note = suggestion.partition("  -- ")
    code, note = code.strip(), note.strip()
    words = code.split(None, 1)
    if not words or words[0].lower().rstrip("(") not in _STATEMENT_WORDS:
        return "", suggestion.strip()
    return code, note


def _position(finding: Mapping[str, Any]) -> str:
    line, column = finding.get("line"), finding.get("column")
    if not isinstance(line, int) or isinstance(line, bool):
        return ""
    if isinstance(column, int) and not isinstance(column, bool):
        return f"{line}:{column}"
    return f"{line}"


class SuggestionsPane(Vertical, can_focus=False):
    """Findings, plan summary and advice for the statement being edited."""

    BINDINGS = [
        Binding("p", "explain", "Explain", id="suggestions.explain", tooltip="Show the query plan (EXPLAIN) of the statement"),
        Binding("P", "explain(True)", "Explain analyze", id="suggestions.explain_analyze", tooltip="Run the statement and show its plan with times (EXPLAIN ANALYZE; a write is rolled back)"),
        Binding("a", "advice", "Index advice", id="suggestions.advice", tooltip="Ask for index advice on the statement"),
        Binding("o", "open", "Open", id="suggestions.open", tooltip="Open or close the highlighted finding: full text, suggestion, fix preview"),
    ]

    COMPONENT_CLASSES = {
        "suggestions-pane--error",
        "suggestions-pane--warning",
        "suggestions-pane--info",
        "suggestions-pane--code",
        "suggestions-pane--position",
        "suggestions-pane--suggestion",
        "suggestions-pane--removed",
    }

    DEFAULT_CSS = """
    SuggestionsPane {
        height: 1fr;
        & > .suggestions-pane--error { color: $error; text-style: bold; }
        & > .suggestions-pane--warning { color: $warning; text-style: bold; }
        & > .suggestions-pane--info { color: $primary; text-style: bold; }
        & > .suggestions-pane--code { color: $text-muted; }
        & > .suggestions-pane--position { color: $accent; }
        & > .suggestions-pane--suggestion { color: $success; }
        & > .suggestions-pane--removed { color: $error; }
        #suggestions-header {
            height: 1;
            padding: 0 1;
            background: $panel;
            color: $text-muted;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        #suggestions-list { height: 1fr; border: none; text-wrap: nowrap; text-overflow: ellipsis; }
        #suggestions-detail {
            height: auto;
            max-height: 45%;
            display: none;
            border-top: hkey $panel;
            padding: 0 1;
        }
        &.-open #suggestions-detail { display: block; }
        #suggestions-plan {
            height: 1fr;
            display: none;
            border-top: hkey $panel;
        }
        &.-plan #suggestions-plan { display: block; }
        #suggestions-plan-text { height: auto; max-height: 6; padding: 0 1; }
        #suggestions-plan PlanView { display: none; }
        &.-tree #suggestions-plan PlanView { display: block; }
        &.-tree #suggestions-plan-text { max-height: 3; }
        #suggestions-status { padding: 1 1; color: $text-muted; text-style: italic; display: none; }
        &.-unavailable #suggestions-status { display: block; color: $warning; text-style: none; }
        &.-unavailable #suggestions-list, &.-unavailable #suggestions-plan, &.-unavailable #suggestions-detail { display: none; }
    }
    """

    @dataclass
    class FindingSelected(Message):
        """A finding with a position was picked: move the editor's cursor there."""

        pane: SuggestionsPane
        """The pane it came from."""
        line: int
        """Line of the finding (as the analyzer reported it)."""
        column: int | None
        """Column of the finding, if known."""

        @property
        def control(self) -> SuggestionsPane:
            return self.pane

    @dataclass
    class ExplainRequested(Message):
        """The user wants the plan of the statement under the cursor."""

        pane: SuggestionsPane
        """The pane it came from."""
        analyze: bool = False
        """Run it (EXPLAIN ANALYZE): the app asks before running a write."""

        @property
        def control(self) -> SuggestionsPane:
            return self.pane

    @dataclass
    class AdviceRequested(Message):
        """The user wants index advice for the statement under the cursor."""

        pane: SuggestionsPane
        """The pane it came from."""

        @property
        def control(self) -> SuggestionsPane:
            return self.pane

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._findings: list[Mapping[str, Any]] = []
        self._plan_findings: list[Mapping[str, Any]] = []
        self._plan_summary: str | None = None
        self._alerts: list[Mapping[str, Any]] = []
        """Regression alerts about the statement last run, above the findings until the next run."""
        self._rows: list[Mapping[str, Any] | None] = []
        """The finding behind each option of the list (None for separators)."""
        self.opened: Mapping[str, Any] | None = None
        """The finding shown in full below the list (None: closed)."""

    def compose(self) -> ComposeResult:
        yield Static("No statement analysed yet", id="suggestions-header", markup=False)
        yield Static(id="suggestions-status", markup=False)
        yield OptionList(id="suggestions-list")
        with VerticalScroll(id="suggestions-detail", can_focus=False):
            yield Static(id="suggestions-detail-text", markup=False)
        with Vertical(id="suggestions-plan"):
            with VerticalScroll(id="suggestions-plan-scroll", can_focus=False):
                yield Static(id="suggestions-plan-text", markup=False)
            yield PlanView()

    # -- public API

    def show_findings(self, findings: list[dict]) -> None:
        """Show the analyzer's findings for the statement (replacing the previous ones)."""
        self.remove_class("-unavailable")
        self._findings = [finding for finding in findings if isinstance(finding, Mapping)]
        self._rebuild()

    def show_alert(self, alert: Mapping[str, Any] | None) -> None:
        """Show (or, with None, remove) the alert that the statement last run was much slower
        than usual; it stays above the findings until the next run."""
        self._alerts = [alert] if isinstance(alert, Mapping) else []
        self._rebuild()

    def show_plan(
        self,
        summary: str,
        findings: list[dict],
        nodes: list[dict] | None = None,
        after: list[dict] | None = None,
        titles: tuple[str, str] = ("Plan", ""),
    ) -> None:
        """Show the plan and the findings or advice drawn from it: ``summary``'s text (none when
        empty) above the tree of ``nodes`` (beside ``after``, the plan with a proposed index)."""
        self.remove_class("-unavailable")
        self._plan_summary = summary
        self._plan_findings = [finding for finding in findings if isinstance(finding, Mapping)]
        self.query_one("#suggestions-plan-text", Static).update(Text(summary))
        self.query_one("#suggestions-plan-scroll").display = bool(summary)
        view = self.query_one(PlanView)
        if nodes:
            view.show(nodes, titles, after)
        else:
            view.clear()
        self.set_class(bool(nodes), "-tree")
        self.add_class("-plan")
        self._rebuild()

    def clear_plan(self) -> None:
        """Forget the plan (e.g. when the statement changed)."""
        self._plan_summary = None
        self._plan_findings = []
        self.query_one(PlanView).clear()
        self.remove_class("-plan", "-tree")
        self._rebuild()

    def open_finding(self, index: int | None) -> None:
        """Show the finding at ``index`` of the list in full below it (None, or a heading: close)."""
        finding = self._rows[index] if index is not None and 0 <= index < len(self._rows) else None
        self.opened = finding
        self.set_class(finding is not None, "-open")
        if finding is not None:
            self.query_one("#suggestions-detail-text", Static).update(self._detail(finding))

    def show_unavailable(self, reason: str) -> None:
        """Say why there are no suggestions (e.g. the analyzer is not installed)."""
        self.query_one("#suggestions-status", Static).update(f"Suggestions not available: {reason}")
        self.query_one("#suggestions-header", Static).update("Suggestions")
        self.add_class("-unavailable")

    def focus(self, scroll_visible: bool = True) -> SuggestionsPane:
        """Focus the list of findings (the pane container is not focusable)."""
        self.query_one("#suggestions-list", OptionList).focus(scroll_visible)
        return self

    # -- actions and events

    def action_explain(self, analyze: bool = False) -> None:
        self.post_message(self.ExplainRequested(self, analyze))

    def action_open(self) -> None:
        highlighted = self.query_one("#suggestions-list", OptionList).highlighted
        self.open_finding(None if self.opened is not None else highlighted)

    @on(OptionList.OptionHighlighted, "#suggestions-list")
    def _finding_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self.opened is not None:  # an open finding follows the cursor
            self.open_finding(event.option_index)

    def action_advice(self) -> None:
        self.post_message(self.AdviceRequested(self))

    @on(OptionList.OptionSelected, "#suggestions-list")
    def _finding_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if not 0 <= event.option_index < len(self._rows):
            return
        finding = self._rows[event.option_index]
        if finding is None:
            return
        self.open_finding(event.option_index)
        line, column = finding.get("line"), finding.get("column")
        if isinstance(line, int) and not isinstance(line, bool):
            column = column if isinstance(column, int) and not isinstance(column, bool) else None
            self.post_message(self.FindingSelected(self, line, column))
        elif finding not in self._alerts:  # an alert is about the run, not a place in the text
            self.app.bell()

    # -- internals

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _rebuild(self) -> None:
        option_list = self.query_one("#suggestions-list", OptionList)
        highlighted = option_list.highlighted
        option_list.clear_options()
        options: list[Option | None] = []
        rows: list[Mapping[str, Any] | None] = []
        for finding in [*self._alerts, *self._findings]:
            options.append(Option(self._finding_prompt(finding)))
            rows.append(finding)
        if self._plan_findings:
            options.append(Option(Text("Plan", style="bold"), disabled=True))
            rows.append(None)
            for finding in self._plan_findings:
                options.append(Option(self._finding_prompt(finding)))
                rows.append(finding)
        option_list.add_options(options)
        self._rows = rows
        if rows:
            option_list.highlighted = 0 if highlighted is None else min(highlighted, len(rows) - 1)
        if self.opened is not None:
            self.open_finding(option_list.highlighted)
        self.query_one("#suggestions-header", Static).update(self._header_text())

    def _header_text(self) -> Text:
        findings = self._findings
        if not findings:
            text = Text("No findings ✓")
        else:
            counts = {severity: 0 for severity in SEVERITIES}
            for finding in findings:
                severity = str(finding.get("severity", "info"))
                counts[severity if severity in counts else "info"] += 1
            text = Text(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: ")
            parts = [f"{count} {severity}{'s' if count != 1 else ''}" for severity, count in counts.items() if count]
            text.append(", ".join(parts))
        if self._alerts:
            text.append(" · last run slower than usual")
        if self._plan_summary is not None:
            text.append(" · plan below")
        text.append("  (p explain · a advice)", style="dim")
        return text

    def _detail(self, finding: Mapping[str, Any]) -> Text:
        """The finding in full: its heading, the whole message, the suggestion and the fix."""
        text = self._finding_prompt(finding).split("\n")[0]
        text.no_wrap = False
        text.append("\n")
        text.append(str(finding.get("message", "")))
        suggestion = finding.get("suggestion")
        if not suggestion:
            return text
        code, note = split_suggestion(str(suggestion))
        if note:
            text.append("\n\nSuggestion: ", style="bold")
            text.append(note)
        if code:
            text.append("\n\nFix preview\n", style="bold")
            span = finding.get("span")
            if isinstance(span, str) and span and not code.split(None, 1)[0].lower() in ("create", "analyze", "set", "vacuum", "reindex"):
                for line in span.splitlines():
                    text.append(f"- {line}\n", style=self._style("suggestions-pane--removed"))
            for index, line in enumerate(code.splitlines()):
                text.append(("\n" if index else "") + f"+ {line}", style=self._style("suggestions-pane--suggestion"))
        return text

    def _finding_prompt(self, finding: Mapping[str, Any]) -> Text:
        severity = str(finding.get("severity", "info"))
        style_name = f"suggestions-pane--{severity}" if severity in SEVERITIES else "suggestions-pane--info"
        first = Text(no_wrap=True, overflow="ellipsis", end="")
        first.append(f"{_ICONS.get(severity, '●')} {severity}", style=self._style(style_name))
        if position := _position(finding):
            first.append(f"  {position}", style=self._style("suggestions-pane--position"))
        code, rule = finding.get("code"), finding.get("rule")
        label = " ".join(str(part) for part in (code, rule) if part)
        if label:
            first.append(f"  {label}", style=self._style("suggestions-pane--code"))
        lines = [first]
        message = " ".join(str(finding.get("message", "")).split())
        lines.append(Text(f"  {message}", no_wrap=True, overflow="ellipsis", end=""))
        suggestion = finding.get("suggestion")
        if suggestion:
            suggestion_text = " ".join(str(suggestion).split())
            lines.append(Text(f"  → {suggestion_text}", style=self._style("suggestions-pane--suggestion"), no_wrap=True, overflow="ellipsis", end=""))
        return Text("\n", end="").join(lines)
