"""Schema pane: a lazily loaded tree of schemas, tables, columns and indexes.

Nothing is loaded up front: expanding a schema or a table that has not been loaded yet
posts ``Expand`` and shows a "loading…" line until the app answers with ``set_tables`` or
``set_table_details``. Tables of a schema are added in one batch (no per-node relayout); a
schema with more than GROUP_SIZE tables shows them in slices ("orders … payments (500)") whose
nodes are made when the slice is expanded, and columns and indexes are only created when a table
is expanded, so databases with tens of thousands of tables stay fast.

Public API (the app codes against exactly this)::

    tree = SchemaTree(label="demo", default_schemas=("public", "main"))
    tree.set_schemas(names: list[str])
    tree.show_message(text: str)         # the whole tree is one line, e.g. "loading…"
    tree.set_tables(schema: str, tables: list[tuple[str, str, int]])    # (name, kind, row_estimate < 0 = unknown)
    tree.set_table_details(schema: str, table: str,
                           columns: list[tuple[str, str, bool]],         # (name, type, nullable)
                           indexes: list[tuple[str, tuple[str, ...], bool]])  # (name, columns, unique)
    tree.show_load_error(schema: str, table: str | None, message: str)   # loading failed; retried on next expand
    tree.expand_schema(name: str)        # expand it (posts Expand if not loaded yet)

    SchemaTree.Expand(tree, schema: str, table: str | None)   # load this schema's tables / this table's details
    SchemaTree.InsertName(tree, text: str)                    # put this (quoted when needed) name in the editor

Keys (binding ids in brackets): Enter inserts the name under the cursor [schema.insert_name],
Space expands or collapses [schema.toggle], ``r`` reloads the node [schema.reload]. Tables of
the ``default_schemas`` are inserted without their schema; others as ``schema.table``.
Columns that are a unique index by themselves are highlighted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Span, Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from aishell.tui.compat.textual import add_leaves

__all__ = ["GROUP_SIZE", "SchemaTree", "quote_identifier"]

GROUP_SIZE = 500
"""A schema with more tables shows them in slices of this many, each made when expanded."""

_PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]*$")

# Words a plain identifier cannot be without quotes (SQL:2016 / PostgreSQL / SQLite reserved).
_RESERVED = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization between binary both case cast
    check collate collation column concurrently constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default deferrable desc
    distinct do else end except false fetch for foreign freeze from full grant group having ilike in
    initially inner intersect into is isnull join lateral leading left like limit localtime
    localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
    references returning right select session_user similar some symmetric system_user table
    tablesample then to trailing true union unique user using variadic verbose when where window with
    abort autoincrement delete drop exists glob index insert key escape values update set vacuum
    """.split()
)


def quote_identifier(name: str) -> str:
    """`name` as an SQL identifier, double-quoted only when it needs to be.

    >>> quote_identifier("orders"), quote_identifier("Order Items"), quote_identifier("user")
    ('orders', '"Order Items"', '"user"')
    """
    if _PLAIN_IDENTIFIER.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _estimate(rows: int) -> str:
    if rows < 0:
        return ""
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if rows >= limit:
            value = rows / limit
            return f"~{value:.1f}{suffix}" if value < 10 else f"~{value:.0f}{suffix}"
    return f"~{rows}"


@dataclass(slots=True)
class _Node:
    """What a tree node stands for."""

    kind: str
    """schema, bucket (a slice of a schema's tables), table, column, index, group or placeholder."""
    schema: str
    table: str | None = None
    name: str | None = None
    loaded: bool = False
    """For schemas and tables: their children came from the app."""


class SchemaTree(Tree[_Node]):
    """Schemas → tables → columns and indexes, loaded on demand."""

    BINDINGS: ClassVar = [
        Binding("enter", "insert_name", "Insert name", id="schema.insert_name", tooltip="Insert the name under the cursor into the editor"),
        Binding("space", "toggle_node", "Expand", show=False, id="schema.toggle", tooltip="Expand or collapse the node"),
        Binding("r", "reload", "Reload", id="schema.reload", tooltip="Load this schema or table again"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "schema-tree--detail",
        "schema-tree--kind",
        "schema-tree--key",
        "schema-tree--error",
    }

    DEFAULT_CSS = """
    SchemaTree {
        height: 1fr;
        & > .schema-tree--detail { color: $text-muted; }
        & > .schema-tree--kind { color: $secondary; text-style: italic; }
        & > .schema-tree--key { color: $warning; }
        & > .schema-tree--error { color: $error; }
    }
    """

    @dataclass
    class Expand(Message):
        """A schema (`table` None) or a table not loaded yet was expanded: load it."""

        tree: SchemaTree
        """The tree asking."""
        schema: str
        """Schema to load, or the table's schema."""
        table: str | None
        """Table whose columns and indexes to load, or None for the schema's tables."""

        @property
        def control(self) -> SchemaTree:
            return self.tree

    @dataclass
    class InsertName(Message):
        """Insert `text` (already quoted where needed) at the editor's cursor."""

        tree: SchemaTree
        """The tree asking."""
        text: str
        """The name to insert."""

        @property
        def control(self) -> SchemaTree:
            return self.tree

    def __init__(
        self,
        label: str = "schemas",
        *,
        default_schemas: tuple[str, ...] = ("public", "main"),
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(label, name=name, id=id, classes=classes)
        self.default_schemas = default_schemas
        self.show_root = False
        self.guide_depth = 3
        self._schemas: dict[str, TreeNode[_Node]] = {}
        self._tables: dict[tuple[str, str], TreeNode[_Node]] = {}
        self._buckets: dict[int, list[tuple[str, str, int]]] = {}
        """Tables of each not yet expanded slice node, by node id."""

    # -- public API

    def set_schemas(self, names: list[str]) -> None:
        """Replace the tree with these schemas (none of them loaded yet)."""
        self.clear()
        self._schemas.clear()
        self._tables.clear()
        self._buckets.clear()
        if not names:
            self._add_batch(self.root, [(Text("no schemas", style="italic"), _Node("placeholder", ""), False)])
            return
        self._add_batch(self.root, [(Text(name), _Node("schema", name), True) for name in names])
        self._schemas = {node.data.schema: node for node in self.root.children if node.data}
        self.cursor_line = 0

    def show_message(self, text: str) -> None:
        """Replace the tree with one line of text (e.g. "loading…" while connecting)."""
        self.clear()
        self._schemas.clear()
        self._tables.clear()
        self._buckets.clear()
        self._add_batch(self.root, [(Text(text, style="italic"), _Node("placeholder", ""), False)])

    def set_tables(self, schema: str, tables: list[tuple[str, str, int]]) -> None:
        """Fill `schema` with its tables (name, kind, row estimate); replaces what it had."""
        node = self._schemas.get(schema)
        if node is None:
            self._add_batch(self.root, [(Text(schema), _Node("schema", schema), True)])
            node = self.root.children[-1]
            self._schemas[schema] = node
        for key in [key for key in self._tables if key[0] == schema]:
            del self._tables[key]
        for child in node.children:
            self._buckets.pop(child.id, None)
        node.remove_children()
        node.data.loaded = True
        if not tables:
            self._add_batch(node, [(Text("no tables", style="italic"), _Node("placeholder", schema), False)])
            return
        if len(tables) <= GROUP_SIZE:
            self._add_tables(node, schema, tables)
            return
        # Many tables: one collapsed node a slice of them; a slice's nodes are made on expand.
        groups = []
        for start in range(0, len(tables), GROUP_SIZE):
            part = tables[start : start + GROUP_SIZE]
            label = Text(f"{part[0][0]} … {part[-1][0]}", end="")
            label.append(f" ({len(part):,})", style=self.get_component_rich_style("schema-tree--detail", partial=True))
            groups.append((label, _Node("bucket", schema, loaded=True), True))
        self._add_batch(node, groups)
        for child, start in zip(node.children, range(0, len(tables), GROUP_SIZE)):
            self._buckets[child.id] = tables[start : start + GROUP_SIZE]

    def set_table_details(
        self,
        schema: str,
        table: str,
        columns: list[tuple[str, str, bool]],
        indexes: list[tuple[str, tuple[str, ...], bool]],
    ) -> None:
        """Fill a table with its columns (name, type, nullable) and indexes (name, columns, unique)."""
        node = self._tables.get((schema, table))
        if node is None:
            return
        node.remove_children()
        node.data.loaded = True
        detail = self.get_component_rich_style("schema-tree--detail", partial=True)
        key_style = self.get_component_rich_style("schema-tree--key", partial=True)
        unique_single = {cols[0] for _, cols, unique in indexes if unique and len(cols) == 1}
        items = []
        for column, type_name, nullable in columns:
            label = Text(column, style=key_style if column in unique_single else "")
            label.append(f" {type_name}" if type_name else "", style=detail)
            if not nullable:
                label.append(" not null", style=detail)
            items.append((label, _Node("column", schema, table, column), False))
        if not columns:
            items.append((Text("no columns", style="italic"), _Node("placeholder", schema, table), False))
        self._add_batch(node, items)
        if indexes:
            group = node.add(Text(f"indexes ({len(indexes)})", style=detail), _Node("group", schema, table), allow_expand=True)
            index_items = []
            for index_name, index_columns, unique in indexes:
                label = Text(index_name)
                label.append(f" ({', '.join(index_columns)})", style=detail)
                if unique:
                    label.append(" unique", style=key_style)
                index_items.append((label, _Node("index", schema, table, index_name), False))
            self._add_batch(group, index_items)

    def show_load_error(self, schema: str, table: str | None, message: str) -> None:
        """Loading a schema's tables (`table` None) or a table's details failed: say why.

        The node stays unloaded, so collapsing and expanding it (or ``r``) tries again.
        """
        node = self._schemas.get(schema) if table is None else self._tables.get((schema, table))
        if node is None or node.data is None:
            return
        node.data.loaded = False
        node.remove_children()
        error_style = self.get_component_rich_style("schema-tree--error", partial=True)
        label = Text(" ".join(message.split()) or "could not be loaded", style=error_style)
        self._add_batch(node, [(label, _Node("placeholder", schema, table), False)])

    def expand_schema(self, name: str) -> None:
        """Expand schema `name` (posting Expand when its tables are not loaded yet)."""
        node = self._schemas.get(name)
        if node is not None:
            node.expand()

    # -- events and actions

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[_Node]) -> None:
        data = event.node.data
        if data is not None and data.kind == "bucket" and not event.node.children:
            self._add_tables(event.node, data.schema, self._buckets.get(event.node.id, []))
            return
        if data is None or data.loaded or data.kind not in ("schema", "table"):
            return
        # An unloaded node only ever holds a placeholder ("loading…" or the last load error).
        event.node.remove_children()
        event.node.add_leaf(Text("loading…", style="italic"), _Node("placeholder", data.schema, data.table))
        self.post_message(self.Expand(self, data.schema, data.table))

    def action_insert_name(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None or node.data.kind in ("placeholder", "group", "bucket"):
            return
        data = node.data
        if data.kind == "schema":
            text = quote_identifier(data.schema)
        elif data.kind == "table":
            text = quote_identifier(data.table or "")
            if data.schema not in self.default_schemas:
                text = f"{quote_identifier(data.schema)}.{text}"
        else:
            text = quote_identifier(data.name or "")
        self.post_message(self.InsertName(self, text))

    def action_reload(self) -> None:
        node = self.cursor_node
        while node is not None and (node.data is None or node.data.kind not in ("schema", "table")):
            node = node.parent
        if node is None or node.data is None:
            return
        node.data.loaded = False
        node.remove_children()
        if node.is_expanded:
            node.add_leaf(Text("loading…", style="italic"), _Node("placeholder", node.data.schema, node.data.table))
            self.post_message(self.Expand(self, node.data.schema, node.data.table))
        self.move_cursor(node)

    def _add_tables(self, parent: TreeNode[_Node], schema: str, tables: list[tuple[str, str, int]]) -> None:
        detail = self.get_component_rich_style("schema-tree--detail", partial=True)
        kind_style = self.get_component_rich_style("schema-tree--kind", partial=True)
        items = []
        for table, kind, estimate in tables:
            # Spans by hand: Text.append is the cost that matters with 10,000s of tables.
            plain, spans = table, []
            if kind and kind not in ("table", "BASE TABLE"):
                start = len(plain)
                plain = f"{plain} {kind.lower()}"
                spans.append(Span(start, len(plain), kind_style))
            if rows := _estimate(estimate):
                start = len(plain)
                plain = f"{plain} {rows}"
                spans.append(Span(start, len(plain), detail))
            items.append((Text(plain, spans=spans, end=""), _Node("table", schema, table), True))
        self._add_batch(parent, items)
        for child in parent.children:
            if child.data is not None and child.data.kind == "table":
                self._tables[(schema, child.data.table)] = child

    # -- Tree overrides (cheap enough for tens of thousands of nodes)

    def process_label(self, label: str | Text) -> Text:
        """Labels built here are single-line Text already: skip Tree's markup parse and split."""
        if isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)

    def get_label_width(self, node: TreeNode[_Node]) -> int:
        """Width of icon and label without rendering the label (Tree measures every line)."""
        icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
        return (len(icon) if node.allow_expand else 0) + node.label.cell_len

    # -- internals

    def _add_batch(self, parent: TreeNode[_Node], items: list[tuple[Text, _Node, bool]]) -> None:
        """Add many children with one invalidation (TreeNode.add relayouts every time)."""
        add_leaves(self, parent, items)
