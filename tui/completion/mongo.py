"""Completion for mongosh statements (a MongoDB session): collections, methods and field paths
from the same :class:`Catalog` the SQL completion reads (collection → sampled field paths).
Where the cursor is comes from :mod:`aishell.engine.mongo.complete`.

>>> cat = Catalog({"orders": ["_id", "status", "customer.name"]})
>>> [c.text for c in complete("db.orders.find({cu", 18, cat).candidates]
["'customer.name'"]
"""

from __future__ import annotations

from typing import Callable, Mapping

from aishell.engine.mongo.complete import complete as spot
from aishell.tui.completion import Completion
from aishell.tui.completion.catalog import Catalog
from aishell.tui.completion.ranking import Candidate

_KINDS = {"collection": "table", "method": "function", "field": "column", "reference": "column"}
_CONTEXTS = {"collection": "qualified", "method": "qualified", "field": "columns_of", "reference": "column"}
"""The SQL completion's context names, which decide when the menu opens without a prefix."""


def complete(
    text: str,
    offset: int,
    catalog: Catalog,
    *,
    frequency: Callable[[str], float] | Mapping[str, float] | None = None,
    limit: int = 40,
) -> Completion:
    """The same :class:`Completion` the SQL completion gives, for a mongosh statement (the same
    call too: ``frequency`` is not used, fields keep the order the sample met them in)."""
    found = spot(text, offset, catalog.tables)
    kind = _KINDS.get(found.context, "keyword")
    collections = set(catalog.tables)
    candidates = [
        Candidate(name, "table" if found.context == "collection" and name in collections else kind, found.collection or "")
        for name in found.names[:limit]
    ]
    return Completion(found.start, found.prefix, _CONTEXTS.get(found.context, "nothing"), candidates)
