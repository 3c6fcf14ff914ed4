"""Textual's private internals, touched only here.

The schema tree of a big catalog adds thousands of nodes at once; ``TreeNode.add`` relayouts the
tree for each one, so :func:`add_leaves` appends them through Tree's internals
(``TreeNode._children``, ``Tree._add_node``, ``Tree._invalidate``) and relayouts once. It does so
only on the Textual versions that was tested on (:data:`TESTED`, the range pinned in
pyproject.toml) and falls back to ``TreeNode.add`` on any other. On the pinned versions
``tests/tui/test_compat_textual.py`` checks those internals still have the shape used here, so an
upgrade that moves them fails there, in one place.

The key map in force is read from what the app gave :func:`set_keymap` (Textual keeps its own
copy in the private ``App._keymap``; nothing here reads it).

>>> TESTED
((8, 2), (9, 0))
>>> _release("8.2.8"), _release("10.0.0rc1")
((8, 2), (10, 0))
"""

from __future__ import annotations

import functools
import weakref
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from textual.lazy import Lazy

if TYPE_CHECKING:
    from rich.text import Text
    from textual.app import App
    from textual.widgets import Tree
    from textual.widgets.tree import TreeNode

TESTED = ((8, 2), (9, 0))
"""Textual versions whose internals this module uses: from the first (included) to the second
(excluded)."""

_given: "weakref.WeakKeyDictionary[App, dict[str, str]]" = weakref.WeakKeyDictionary()


def _release(text: str) -> tuple[int, int]:
    """The (major, minor) of a version string."""
    major, minor = (text.split(".") + ["0"])[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


@functools.cache
def internals() -> bool:
    """The installed Textual is one of :data:`TESTED`, so its internals may be used.

    Read on first use (importlib.metadata is too slow to import while the first frame is drawn).
    """
    from importlib.metadata import version

    return TESTED[0] <= _release(version("textual")) < TESTED[1]


def set_keymap(app: "App", keymap: Mapping[str, str]) -> None:
    """``app.set_keymap(keymap)``: binding id -> keys (``"ctrl+j,f5"``), remembered for :func:`keymap`."""
    _given[app] = dict(keymap)
    app.set_keymap(dict(keymap))


def keymap(app: "App") -> Mapping[str, str]:
    """The keys the user gave binding ids (through :func:`set_keymap`); empty when none."""
    return _given.get(app, {})


def add_leaves(tree: "Tree", parent: "TreeNode", items: Sequence[tuple["Text", Any, bool]]) -> None:
    """Add ``(label, data, allow_expand)`` children under ``parent`` with one relayout."""
    if not internals():
        for label, data, allow_expand in items:
            parent.add(label, data, allow_expand=allow_expand)
        return
    children = parent._children
    for label, data, allow_expand in items:
        child = tree._add_node(parent, label, data)
        child._allow_expand = allow_expand
        children.append(child)
    parent._updates += 1
    tree._invalidate()


__all__ = ["TESTED", "internals", "set_keymap", "keymap", "add_leaves"]



class Deferred(Lazy):
    """Textual's ``Lazy`` (mounts its widget after the first frame), except that a place that left
    the screen before that frame gets nothing: ``Lazy`` raised MountError when the app quit at
    start from the picker while the main screen's side panes waited for their frame. Uses
    ``Lazy._replace_widget``; on another shape of Lazy it is Lazy itself."""

    async def mount_composed_widgets(self, widgets: list[Any]) -> None:
        parent = self.parent
        widget = getattr(self, "_replace_widget", None)
        if parent is None or widget is None:
            await super().mount_composed_widgets(widgets)
            return

        async def mount() -> None:
            if not parent.is_attached:  # the screen went before its frame came
                return
            await parent.mount(widget, after=self)
            await self.remove()

        self.call_after_refresh(mount)
