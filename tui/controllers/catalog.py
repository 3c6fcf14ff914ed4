"""The catalog for the main screen: the schema tree's levels, loaded when expanded, and the
snapshot completion and the analyzer read. Reports with :mod:`tui.messages`: SchemasLoaded,
TablesLoaded, TableLoaded, CatalogLoaded; failures are notified (title "Schema").

Schema changes reach both: the Session's schema watcher (``Session.on_catalog_change``) tells
:meth:`CatalogController.watch`'s listener when a relation was created, altered or dropped, here
or from another client, and the completion catalog and the loaded levels of the tree reload.
"""

from __future__ import annotations

from typing import Callable

from aishell.engine.errors import AishellError
from aishell.engine.types import CatalogObjects, SchemaInfo
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from aishell.tui.completion import FUNCTIONS, Catalog
from aishell.tui.completion.catalog import TYPES
from aishell.tui.controllers import Controller
from aishell.tui.messages import CatalogLoaded, SchemasLoaded, TableLoaded, TablesLoaded

_KIND = {"view": "view", "materialized view": "matview"}


def build_catalog(info: SchemaInfo, objects: CatalogObjects, dialect: str) -> Catalog:
    """The completion catalog from the session's schema and catalog objects: relations in a
    schema of the search path by their name, others as ``schema.name``; names fold to lower
    case unless sqlglot's ``dialect`` compares them without case.

    >>> from aishell.engine.types import TableInfo, ColumnInfo
    >>> info = SchemaInfo(search_path=("public",))
    >>> info.add(TableInfo("public", "v", "view", columns=[ColumnInfo("a", "int")]))
    >>> cat = build_catalog(info, CatalogObjects(), "postgres")
    >>> cat.tables, cat.kind("v")
    ({'v': ['a']}, 'view')
    """
    default = {s.lower() for s in info.search_path} | {"main", ""}

    def key(schema: str, name: str) -> str:
        return name if schema.lower() in default else f"{schema}.{name}"

    tables: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for table in info.tables.values():
        k = key(table.schema, table.name)
        tables[k] = [c.name for c in table.columns]
        if table.kind in _KIND:
            kinds[k] = _KIND[table.kind]
    keys = tuple(
        (key(fk.schema, fk.table), fk.columns, key(fk.ref_schema, fk.ref_table), fk.ref_columns) for fk in objects.foreign_keys
    )
    builtin = set(FUNCTIONS)
    user_functions = tuple(dict.fromkeys(key(s, n) for s, n in objects.functions if n.lower() not in builtin))
    return Catalog(
        tables,
        sorted({t.schema for t in info.tables.values() if t.schema}),
        kinds=kinds,
        foreign_keys=keys,
        user_functions=user_functions,
        user_types=tuple(key(s, n) for s, n in objects.types),
        folds=_folds(dialect),
        builtin_types=objects.builtin_types or TYPES,
        search_path=tuple(info.search_path) + ("main",),
    )


def _folds(dialect: str) -> bool:
    """Whether unquoted names fold to one case in ``dialect`` (a language sqlglot does not know,
    mongosh, has no SQL names: its completion matches names as stored)."""
    try:
        strategy = Dialect.get_or_raise(dialect).normalization_strategy
    except ValueError:
        return True
    return strategy is not NormalizationStrategy.CASE_INSENSITIVE


class CatalogController(Controller):
    """Schema names, tables and table details on demand; the whole catalog after DDL and
    whenever the schema watcher sees a change."""

    def __init__(self, screen) -> None:
        super().__init__(screen)
        self._unsubscribe: Callable[[], None] | None = None
        self._schema_names: list[str] | None = None
        self._loaded: set[str] = set()
        """Schemas whose tables the tree shows (reloaded on a change)."""

    def schemas(self) -> None:
        """The schema names for the tree's top level."""
        self._loaded.clear()
        self.start(self._schemas(), group="schemas", name="load_schemas")

    def node(self, schema: str, table: str | None) -> None:
        """The tables of ``schema`` (``table`` None) or one table's columns and indexes."""
        # Not exclusive: expanding two nodes quickly loads both.
        self.screen.run_worker(self._node(schema, table), name="load_schema_node", group="schema-node", exit_on_error=False)

    def snapshot(self) -> None:
        """The whole catalog (completion, schema-aware analyzer rules)."""
        self.start(self._snapshot(), group="catalog", name="load_catalog")

    def watch(self) -> None:
        """Reload the catalog and the tree's loaded schemas when the session's schema watcher
        sees a change (replaces the subscription to an earlier session)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        session = self.session
        if session is not None:
            self._unsubscribe = session.on_catalog_change(lambda: self.screen.call_later(self.changed))

    def changed(self) -> None:
        """The schema changed: completion and the tree catch up."""
        self.snapshot()
        self.start(self._refresh_tree(), group="schema-refresh", name="refresh_schema_tree")

    async def _schemas(self) -> None:
        try:
            names = await self.session.schemas()
        except AishellError as exc:
            self.screen.notify(str(exc), title="Schema", severity="error")
            return
        self._schema_names = names
        self.post(SchemasLoaded(names))

    async def _refresh_tree(self) -> None:
        session = self.session
        try:
            names = await session.schemas()
            if names != self._schema_names:
                self._schema_names = names
                self._loaded.clear()
                self.post(SchemasLoaded(names))
                return
            for schema in sorted(self._loaded):
                tables = await session.tables(schema)
                self.post(TablesLoaded(schema, [(t.name, t.kind, t.row_estimate) for t in tables]))
        except AishellError:
            return  # the next change or a manual reload tries again

    async def _node(self, schema: str, table: str | None) -> None:
        session = self.session
        try:
            if table is None:
                tables = await session.tables(schema)
                self._loaded.add(schema)
                self.post(TablesLoaded(schema, [(t.name, t.kind, t.row_estimate) for t in tables]))
            else:
                columns = await session.columns(table, schema)
                indexes = await session.indexes(table, schema)
                self.post(TableLoaded(
                    schema,
                    table,
                    [(c.name, c.type_name, c.nullable) for c in columns],
                    [(i.name, tuple(i.columns), i.unique) for i in indexes],
                ))
        except AishellError as exc:
            self.screen.notify(str(exc), title="Schema", severity="error")

    async def _snapshot(self) -> None:
        session = self.session
        try:
            info = await session.schema()
        except AishellError:
            return  # completion goes on without the catalog
        try:
            objects = await session.catalog_objects()
        except AishellError:
            objects = CatalogObjects()  # relations and columns still complete
        catalog = build_catalog(info, objects, session.dialect)
        self.post(CatalogLoaded(dict(catalog.tables), catalog.schemas, catalog))


__all__ = ["CatalogController", "build_catalog"]
