"""Plan view: a query plan as a tree, or two side by side (index advice: before and after).

Each step of the plan is a node: its type, relation and index, then the rows the planner
estimated (and those it got, after EXPLAIN ANALYZE), its cost, and its share of the plan (time
when the statement ran, else estimated cost) as a percentage; the most expensive step is
marked ``◆``. Filter, index, join and sort conditions hang under their step.

Public API (the app codes against exactly this)::

    view = PlanView()
    view.show(nodes: list[dict], titles=("Plan", ""), after: list[dict] | None = None)
        # nodes in pre-order; keys: depth, node, relation, alias, index, conditions
        # [(key, text)], plan_rows, actual_rows, loops, cost, time_ms, share (0..1 or None),
        # costliest (bool). ``after`` (with its title in titles[1]) is shown beside them.
    view.clear()

>>> node_label({"node": "Seq Scan", "relation": "orders", "alias": "o", "plan_rows": 500,
...             "actual_rows": 20, "cost": 431.0, "share": 0.7, "costliest": True}).plain
'◆ Seq Scan on orders o  rows 500 est → 20 (25× over)  cost 431  70%'
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, Tree

__all__ = ["PlanTree", "PlanView", "node_label"]

MISESTIMATE = 10.0
"""Estimated and actual rows this many times apart are shown as a warning."""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _rows(value: float) -> str:
    return f"{int(round(value)):,}"


def node_label(node: Mapping[str, Any], style: Callable[[str], Style | str] = lambda name: "") -> Text:
    """One line for a plan step: what it is, its rows, cost and share. ``style`` gives the
    style of each part by its component class name (``costliest``, ``relation``, ``index``,
    ``muted``, ``warning``)."""
    text = Text(no_wrap=True, end="")
    costliest = bool(node.get("costliest"))
    if costliest:
        text.append("◆ ", style=style("costliest"))
    text.append(str(node.get("node") or "?"), style="bold")
    if node.get("relation"):
        text.append(" on ")
        text.append(str(node["relation"]), style=style("relation"))
        if node.get("alias"):
            text.append(f" {node['alias']}")
    if node.get("index"):
        text.append(" using ")
        text.append(str(node["index"]), style=style("index"))
    muted = style("muted")
    estimate, actual = node.get("plan_rows"), node.get("actual_rows")
    if _number(estimate) or _number(actual):
        text.append("  rows ", style=muted)
        if _number(estimate):
            text.append(f"{_rows(estimate)} est", style=muted)
        if _number(actual):
            loops = node.get("loops")
            got = actual * loops if _number(loops) and loops > 1 else actual
            text.append(" → " if _number(estimate) else "", style=muted)
            text.append(_rows(got))
            if _number(estimate):
                high, low = max(estimate, got), max(min(estimate, got), 1.0)
                if high >= 100 and high / low >= MISESTIMATE:
                    text.append(f" ({high / low:.0f}× {'over' if estimate > got else 'under'})", style=style("warning"))
    if _number(node.get("cost")):
        text.append(f"  cost {node['cost']:,.0f}", style=muted)
    if _number(node.get("time_ms")):
        text.append(f"  {node['time_ms']:,.2f} ms", style=muted)
    share = node.get("share")
    if _number(share):
        text.append(f"  {share:.0%}", style=style("costliest") if costliest else ("bold" if share >= 0.25 else muted))
    return text


class PlanTree(Tree[Mapping[str, Any]]):
    """The steps of one plan, every node expanded."""

    COMPONENT_CLASSES = {
        "plan-tree--costliest",
        "plan-tree--relation",
        "plan-tree--index",
        "plan-tree--muted",
        "plan-tree--warning",
    }

    DEFAULT_CSS = """
    PlanTree {
        height: 1fr; background: $surface; padding: 0;
        & > .plan-tree--costliest { color: $error; text-style: bold; }
        & > .plan-tree--relation { color: $accent; }
        & > .plan-tree--index { color: $success; }
        & > .plan-tree--muted { color: $text-muted; }
        & > .plan-tree--warning { color: $warning; text-style: bold; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("plan", id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 3

    def show(self, nodes: list[Mapping[str, Any]]) -> None:
        """Replace the tree with ``nodes`` (pre-order, with their depth)."""
        self.clear()
        parents: list[Any] = [self.root]
        for node in nodes:
            depth = node.get("depth", 0) if _number(node.get("depth")) else 0
            del parents[depth + 1 :]
            parent = parents[-1]
            item = parent.add(node_label(node, self._style), data=node, expand=True)
            for key, value in node.get("conditions") or ():
                line = Text(no_wrap=True, end="")
                line.append(f"{key}: ", style=self._style("muted"))
                line.append(" ".join(str(value).split()))
                item.add_leaf(line)
            parents.append(item)
        self.root.expand()
        self.cursor_line = 0

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"plan-tree--{name}", partial=True)

    def costliest_line(self) -> str | None:
        """The label of the step marked most expensive (tests and the status line)."""
        for node in _walk(self.root):
            if isinstance(node.data, Mapping) and node.data.get("costliest"):
                return node.label.plain
        return None


def _walk(node: Any):
    for child in node.children:
        yield child
        yield from _walk(child)


class PlanView(Vertical, can_focus=False):
    """One plan, or two side by side with their titles."""

    DEFAULT_CSS = """
    PlanView {
        height: 1fr;
        #plan-panes { height: 1fr; }
        .plan-side { width: 1fr; height: 1fr; }
        .plan-title { height: 1; padding: 0 1; background: $panel; color: $text-muted; text-style: bold;
                      text-wrap: nowrap; text-overflow: ellipsis; }
        #plan-after-side { display: none; border-left: vkey $panel; }
        &.-compare #plan-after-side { display: block; }
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="plan-panes"):
            with Vertical(id="plan-before-side", classes="plan-side"):
                yield Static("Plan", id="plan-before-title", classes="plan-title", markup=False)
                yield PlanTree(id="plan-before")
            with Vertical(id="plan-after-side", classes="plan-side"):
                yield Static("", id="plan-after-title", classes="plan-title", markup=False)
                yield PlanTree(id="plan-after")

    def show(self, nodes: list[Mapping[str, Any]], titles: tuple[str, str] = ("Plan", ""), after: list[Mapping[str, Any]] | None = None) -> None:
        """Show ``nodes``; with ``after``, both side by side."""
        self.query_one("#plan-before-title", Static).update(titles[0])
        self.query_one("#plan-before", PlanTree).show(nodes)
        self.set_class(after is not None, "-compare")
        if after is not None:
            self.query_one("#plan-after-title", Static).update(titles[1] or "After")
            self.query_one("#plan-after", PlanTree).show(after)

    def clear(self) -> None:
        """No plan."""
        self.remove_class("-compare")
        for tree in self.query(PlanTree):
            tree.clear()
