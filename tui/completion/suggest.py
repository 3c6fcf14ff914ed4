"""Turning what the context wants into items: relations, columns of the relations in scope,
join conditions (foreign keys first, then same-named columns), the columns both sides of a
``USING`` share, ``*`` expanded, types, schemas, functions and keywords.

>>> from aishell.tui.completion.catalog import Catalog
>>> from aishell.tui.completion.scope import Relation
>>> cat = Catalog({"orders": ["id", "customer_id"], "customers": ["id", "email"]},
...               foreign_keys=(("orders", ("customer_id",), "customers", ("id",)),))
>>> rels = [Relation([("orders", False)], 0, "o"), Relation([("customers", False)], 4, "c")]
>>> [i.text for i in join_conditions(rels, 9, cat, {})]
['o.customer_id = c.id', 'o.id = c.id']
"""

from __future__ import annotations

from typing import Callable, Iterator

from aishell.tui.completion.catalog import Catalog
from aishell.tui.completion.ranking import Item
from aishell.tui.completion.scope import Relation, Scope


def relation_key(rel: Relation, catalog: Catalog, ctes: dict[str, list[str]]) -> str | None:
    """The catalog key of ``rel`` (None for a CTE, a subquery or an unknown name)."""
    if not rel.parts or rel.columns is not None:
        return None
    if len(rel.parts) == 1 and catalog.fold(*rel.parts[0]) in ctes:
        return None
    return catalog.resolve(rel.parts)


def relation_columns(rel: Relation, catalog: Catalog, ctes: dict[str, list[str]]) -> list[str]:
    """Output columns of ``rel``: its own (subquery), a CTE's, or the catalog's."""
    if rel.columns is not None:
        return rel.columns
    if len(rel.parts) == 1:
        cte = ctes.get(catalog.fold(*rel.parts[0]))
        if cte is not None:
            return cte
    return catalog.columns(catalog.resolve(rel.parts))


def reference(rel: Relation, catalog: Catalog) -> str:
    """How to qualify a column of ``rel``: its alias, else its name as written."""
    if rel.alias is not None:
        return catalog.quote(rel.alias)
    return ".".join(catalog.quote(name) if quoted else name for name, quoted in rel.parts)


def relations(catalog: Catalog, ctes: dict[str, list[str]], prefix: str = "", freq: Callable[[str], float] | None = None) -> Iterator[Item]:
    """CTEs, then the catalog's relations (labelled table, view or materialized view) that may
    rank for ``prefix``, then schemas.

    A catalog of thousands of tables is cut before ranking: the first :data:`CAP` matches in
    the ranking's own order (shortest name first), and every name the user has used."""
    for name in ctes:
        yield Item(name, catalog.quote(name), "cte")
    items = catalog_items(catalog)
    if len(items) <= CAP:
        yield from items
    else:
        low = prefix.lower().lstrip('"')
        names = [i.name.lower() for i in items]
        starts = [i for i, n in zip(items, names) if n.startswith(low)]
        if len(starts) < CAP:
            starts += [i for i, n in zip(items, names) if low in n and not n.startswith(low)]
        yield from starts[:CAP]
        if freq is not None:
            yield from (i for i, n in zip(items, names) if freq(n))
    for schema in catalog.schemas:
        yield Item(schema, catalog.quote(schema), "schema")


CAP = 300
"""Relations handed to the ranking at most (besides those the user used)."""


def catalog_items(catalog: Catalog, kind: str | None = None) -> list[Item]:
    """The catalog's relations as items (built once per catalog: thousands of tables)."""
    cache = _ITEMS.get(id(catalog))
    if cache is None or cache[0] is not catalog:
        items = []
        for key in catalog.tables:
            rel_kind = catalog.kind(key)
            items.append(Item(key.rsplit(".", 1)[-1], catalog.quote_key(key), rel_kind))
        _ITEMS.clear()  # one catalog at a time
        cache = (catalog, _by_length(items))
        _ITEMS[id(catalog)] = cache
    items = cache[1]
    return items if kind is None else [i for i in items if i.kind == kind]


def _by_length(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (len(i.text), i.name.lower()))


_ITEMS: dict[int, tuple[Catalog, list[Item]]] = {}


def scope_columns(scope: Scope, catalog: Catalog) -> Iterator[Item]:
    """Columns of the relations in scope (detail: the alias or table), then their aliases."""
    for rel in scope.relations:
        owner = rel.alias or rel.name
        for col in relation_columns(rel, catalog, scope.ctes):
            yield Item(col, catalog.quote(col), "column", owner)
    for rel in scope.relations:
        if rel.alias is not None:
            yield Item(rel.alias, catalog.quote(rel.alias), "alias", rel.name)


def functions(catalog: Catalog) -> Iterator[Item]:
    for name in catalog.user_functions:
        yield Item(name, catalog.quote(name), "function", "user")
    for name in catalog.functions:
        yield Item(name, name, "function")


def keywords(catalog: Catalog, only: tuple[str, ...] | None = None) -> Iterator[Item]:
    for word in only or catalog.keywords:
        yield Item(word, word, "keyword")


def types(catalog: Catalog) -> Iterator[Item]:
    for name in catalog.types:
        yield Item(name, catalog.quote(name) if name in catalog.user_types else name, "type")


def qualified(parts: list[tuple[str, bool]], scope: Scope, catalog: Catalog) -> list[Item]:
    """After ``name.``: the columns of the alias, CTE or relation ``name`` names (inner levels
    first), or the relations of the schema ``name``."""
    if len(parts) == 1:
        name = catalog.fold(*parts[0])
        for rel in scope.relations + scope.outer:
            if rel.alias is not None and (rel.alias == name or (not catalog.folds and rel.alias.lower() == name.lower())):
                return _columns_items(rel, scope, catalog)
        for rel in scope.relations + scope.outer:
            if rel.alias is None and rel.parts and catalog.fold(*rel.parts[-1]) == name:
                found = _columns_items(rel, scope, catalog)
                if found:  # else it may be a schema being typed: FROM sales.
                    return found
        if name in scope.ctes:
            return [Item(c, catalog.quote(c), "column", name) for c in scope.ctes[name]]
    key = catalog.resolve(parts)
    if key is not None:
        return [Item(c, catalog.quote(c), "column", key) for c in catalog.columns(key)]
    if len(parts) == 1:
        schema = catalog.fold(*parts[0])
        found = [s for s in catalog.schemas if s == schema or (not catalog.folds and s.lower() == schema.lower())]
        if found or schema.lower() in (s.lower() for s in catalog.search_path):
            prefix = (found[0] if found else schema) + "."
            out = [Item(k.split(".", 1)[1], catalog.quote(k.split(".", 1)[1]), catalog.kind(k), found[0] if found else schema)
                   for k in catalog.tables if k.startswith(prefix)]
            if not out and schema.lower() in (s.lower() for s in catalog.search_path):
                out = [Item(k, catalog.quote(k), catalog.kind(k), schema) for k in catalog.tables if "." not in k]
            return out
    return []


def _columns_items(rel: Relation, scope: Scope, catalog: Catalog) -> list[Item]:
    owner = rel.alias or rel.name
    return [Item(c, catalog.quote(c), "column", owner) for c in relation_columns(rel, catalog, scope.ctes)]


def _split(relations_: list[Relation], pos: int) -> tuple[list[Relation], Relation] | None:
    before = [r for r in relations_ if r.at < pos]
    if len(before) < 2:
        return None
    return before[:-1], before[-1]


def join_conditions(relations_: list[Relation], pos: int, catalog: Catalog, ctes: dict[str, list[str]]) -> list[Item]:
    """Conditions joining the relation just joined (the last before ``pos``) to those before it:
    from foreign keys either way (the referencing side first), then same-named columns."""
    split = _split(relations_, pos)
    if split is None:
        return []
    lefts, right = split
    right_key = relation_key(right, catalog, ctes)
    right_cols = relation_columns(right, catalog, ctes)
    r_ref = reference(right, catalog)
    out: list[Item] = []
    seen: set[str] = set()
    for left in reversed(lefts):
        left_key = relation_key(left, catalog, ctes)
        l_ref = reference(left, catalog)
        for child, cols, parent, ref_cols in catalog.foreign_keys:
            for child_key, child_ref, parent_key, parent_ref in ((left_key, l_ref, right_key, r_ref), (right_key, r_ref, left_key, l_ref)):
                if child_key is not None and child == child_key and parent == parent_key:
                    text = " AND ".join(
                        f"{child_ref}.{catalog.quote(c)} = {parent_ref}.{catalog.quote(p)}" for c, p in zip(cols, ref_cols)
                    )
                    if text not in seen:
                        seen.add(text)
                        out.append(Item(text, text, "join", "foreign key"))
    for left in reversed(lefts):
        l_ref = reference(left, catalog)
        left_cols = set(relation_columns(left, catalog, ctes))
        for col in right_cols:
            if col in left_cols:
                text = f"{l_ref}.{catalog.quote(col)} = {r_ref}.{catalog.quote(col)}"
                if text not in seen:
                    seen.add(text)
                    out.append(Item(text, text, "join", "same name"))
    return out


def join_aliases(scope: Scope, catalog: Catalog) -> Iterator[Item]:
    """The aliases (or names) of the relations in scope, to start a condition with ``x.``."""
    for rel in scope.relations:
        ref = reference(rel, catalog)
        yield Item(ref, ref, "alias", rel.name)


def using_columns(relations_: list[Relation], pos: int, catalog: Catalog, ctes: dict[str, list[str]]) -> list[Item]:
    """Columns the relation just joined shares with one before it (``JOIN t USING (``)."""
    split = _split(relations_, pos)
    if split is None:
        return []
    lefts, right = split
    left_cols: set[str] = set()
    for left in lefts:
        left_cols.update(relation_columns(left, catalog, ctes))
    return [Item(c, catalog.quote(c), "column", "shared") for c in relation_columns(right, catalog, ctes) if c in left_cols]


def star_expansion(relations_: list[Relation], qualifier: str | None, catalog: Catalog, ctes: dict[str, list[str]]) -> list[Item]:
    """``*`` (or ``x.*``) replaced by the column list of the relations in scope (qualified when
    more than one relation is)."""
    chosen = relations_
    if qualifier is not None:
        chosen = [r for r in relations_ if (r.alias or (catalog.fold(*r.parts[-1]) if r.parts else None)) == qualifier]
    qualify = qualifier is not None or len(chosen) > 1
    names: list[str] = []
    for rel in chosen:
        ref = reference(rel, catalog)
        for col in relation_columns(rel, catalog, ctes):
            names.append(f"{ref}.{catalog.quote(col)}" if qualify else catalog.quote(col))
    if not names:
        return []
    text = ", ".join(names)
    label = text if len(text) <= 60 else text[:57] + "…"
    return [Item("*", text, "star", f"{len(names)} columns", label)]


__all__ = [
    "relations", "catalog_items", "scope_columns", "functions", "keywords", "types", "qualified",
    "join_conditions", "join_aliases", "using_columns", "star_expansion", "relation_columns",
]
