"""The Textual shim (tui/compat/textual.py) on the pinned Textual: its version range matches the
pin, the internals it uses still have the shape it expects, and both of its paths (internals and
public fallback) build the same tree."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from aishell.tui.compat import textual as compat
from tests.tui.widgets_harness import WidgetHarness

ROOT = Path(__file__).resolve().parents[2]


def test_the_tested_range_is_the_pinned_range():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(d for d in deps if re.match(r"textual\b", d))
    major, minor, below = re.fullmatch(r"textual>=(\d+)\.(\d+),<(\d+)", pin.replace(" ", "")).groups()
    assert compat.TESTED == ((int(major), int(minor)), (int(below), 0))
    assert compat.internals(), f"textual {version('textual')} is outside {compat.TESTED}: check the shim"


def test_the_text_area_hooks_the_editor_overrides_still_exist():
    """The editor overrides two of TextArea's private hooks (the clamp for Textualize/textual#6686
    and the key handling that keeps Enter a newline): a Textual that renames them would silently
    drop both fixes, so the upgrade fails here instead."""
    import inspect

    from textual.widgets import TextArea

    from aishell.tui.widgets.editor import SqlTextArea

    for hook in ("_recompute_cursor_offset", "_on_key"):
        assert hook in vars(SqlTextArea), f"the editor no longer overrides TextArea.{hook}"
        original = getattr(TextArea, hook, None)
        assert original is not None, f"TextArea.{hook} is gone: the editor's override is dead"
        assert list(inspect.signature(original).parameters) == list(
            inspect.signature(getattr(SqlTextArea, hook)).parameters
        )


async def test_tree_internals_have_the_shape_the_shim_uses():
    tree: Tree[str] = Tree("root")
    async with WidgetHarness(tree).run_test():
        node = tree._add_node(tree.root, Text("a"), "a")
        assert isinstance(node, TreeNode)
        assert isinstance(tree.root._children, list) and isinstance(tree.root._updates, int)
        assert isinstance(node._allow_expand, bool) and callable(tree._invalidate)


async def _leaves(monkeypatch, internals: bool) -> list[tuple[str, str, bool]]:
    monkeypatch.setattr(compat, "internals", lambda: internals)
    tree: Tree[str] = Tree("root")
    async with WidgetHarness(tree).run_test() as pilot:
        compat.add_leaves(tree, tree.root, [(Text(f"t{i}"), f"d{i}", i % 2 == 0) for i in range(5)])
        tree.root.expand()
        await pilot.pause()
        assert tree.last_line == 5  # laid out: root and five leaves
        return [(str(n.label), n.data, n.allow_expand) for n in tree.root.children]


async def test_internals_and_public_fallback_build_the_same_tree(monkeypatch):
    expected = [(f"t{i}", f"d{i}", i % 2 == 0) for i in range(5)]
    assert await _leaves(monkeypatch, True) == expected
    assert await _leaves(monkeypatch, False) == expected


async def test_keymap_is_what_the_app_was_given():
    from textual.app import App

    app = App()
    assert compat.keymap(app) == {}
    compat.set_keymap(app, {"main.run": "f12"})
    assert compat.keymap(app) == {"main.run": "f12"}


def test_lazy_keeps_its_widget_where_deferred_reads_it():
    from textual.lazy import Lazy
    from textual.widgets import Static

    widget = Static("x")
    assert Lazy(widget)._replace_widget is widget
