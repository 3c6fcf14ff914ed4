"""The catalog for the main screen: the schema tree's levels, loaded when expanded, and the
snapshot completion and the analyzer read. Reports with :mod:`tui.messages`: SchemasLoaded,
TablesLoaded, TableLoaded, CatalogLoaded; failures are notified (title "Schema")."""

from __future__ import annotations

from aishell.engine.errors import AishellError
from aishell.tui.controllers import Controller
from aishell.tui.messages import CatalogLoaded, SchemasLoaded, TableLoaded, TablesLoaded


class CatalogController(Controller):
    """Schema names, tables and table details on demand; the whole catalog after DDL."""

    def schemas(self) -> None:
        """The schema names for the tree's top level."""
        self.start(self._schemas(), group="schemas", name="load_schemas")

    def node(self, schema: str, table: str | None) -> None:
        """The tables of ``schema`` (``table`` None) or one table's columns and indexes."""
        # Not exclusive: expanding two nodes quickly loads both.
        self.screen.run_worker(self._node(schema, table), name="load_schema_node", group="schema-node", exit_on_error=False)

    def snapshot(self) -> None:
        """The whole catalog (completion, schema-aware analyzer rules)."""
        self.start(self._snapshot(), group="catalog", name="load_catalog")

    async def _schemas(self) -> None:
        try:
            names = await self.session.schemas()
        except AishellError as exc:
            self.screen.notify(str(exc), title="Schema", severity="error")
            return
        self.post(SchemasLoaded(names))

    async def _node(self, schema: str, table: str | None) -> None:
        session = self.session
        try:
            if table is None:
                tables = await session.tables(schema)
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
        try:
            info = await self.session.schema()
        except AishellError:
            return  # completion goes on without the catalog
        default = {s.lower() for s in info.search_path} | {"main", ""}
        tables: dict[str, list[str]] = {}
        for table in info.tables.values():
            key = table.name if table.schema.lower() in default else f"{table.schema}.{table.name}"
            tables[key] = [c.name for c in table.columns]
        self.post(CatalogLoaded(tables, sorted({t.schema for t in info.tables.values() if t.schema})))


__all__ = ["CatalogController"]
