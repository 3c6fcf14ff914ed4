"""Schema inference from a sample of documents: field paths, their types and how often they occur.

Collections have no catalog of columns, so the schema pane and completion read a random sample
(``$sample``) and describe what they saw, the way Compass's schema tab does. Fields inside arrays
of documents are reported with MongoDB's dotted path (``items.sku``), counted once per document.

>>> fields = infer_fields([{"_id": 1, "name": "Ann", "tags": ["a"]}, {"_id": 2, "name": None, "age": 41}])
>>> [(f.name, f.type_name, f.frequency, f.nullable) for f in fields]
[('_id', 'int', 1.0, False), ('name', 'string', 1.0, True), ('tags', 'array', 0.5, True), ('age', 'int', 0.5, True)]
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable, Mapping
from typing import Any

from aishell.engine.mongo.flatten import type_name
from aishell.engine.types import ColumnInfo


@dataclass(frozen=True, slots=True)
class FieldInfo(ColumnInfo):
    """A field seen in sampled documents (a :class:`ColumnInfo`, so every front end can list it).

    ``type_name`` joins the non-null types seen, most frequent first (``int|string``);
    ``nullable`` is True when the field was missing from some documents or null in some.
    """

    frequency: float = 1.0
    """Share of sampled documents (or, under arrays, of parent values) that have the field."""
    types: tuple[tuple[str, float], ...] = ()
    """Each type seen with its share of the field's occurrences, most frequent first."""
    count: int = 0
    """Sampled documents that have the field."""
    sample_size: int = 0


class _Stats:
    __slots__ = ("count", "types", "parent")

    def __init__(self, parent: str | None) -> None:
        self.count = 0
        self.types: dict[str, int] = {}
        self.parent = parent


def infer_fields(documents: Iterable[Mapping[str, Any]], *, max_depth: int = 6, max_fields: int = 500) -> list[FieldInfo]:
    """Describe the fields of ``documents`` (``_id`` first, then in order of first appearance)."""
    stats: dict[str, _Stats] = {}
    total = 0
    for doc in documents:
        if not isinstance(doc, Mapping):
            continue
        total += 1
        seen: dict[str, set[str]] = {}
        _visit(doc, "", None, 1, max_depth, max_fields, stats, seen)
        for path, kinds in seen.items():
            entry = stats[path]
            entry.count += 1
            for kind in kinds:
                entry.types[kind] = entry.types.get(kind, 0) + 1
    if not total:
        return []
    result: list[FieldInfo] = []
    order = sorted(stats, key=lambda p: p != "_id")
    for position, path in enumerate(order, start=1):
        entry = stats[path]
        parent_count = stats[entry.parent].count if entry.parent in stats else total
        parent_count = max(parent_count, entry.count, 1)
        occurrences = sum(entry.types.values()) or 1
        ranked = sorted(entry.types.items(), key=lambda kv: (-kv[1], kv[0]))
        named = [t for t, _ in ranked if t != "null"] or ["null"]
        frequency = round(entry.count / parent_count, 4)
        result.append(
            FieldInfo(
                path,
                "|".join(named),
                frequency < 1.0 or "null" in entry.types,
                None,
                position,
                frequency=frequency,
                types=tuple((t, round(n / occurrences, 4)) for t, n in ranked),
                count=entry.count,
                sample_size=total,
            )
        )
    return result


def _visit(
    doc: Mapping[str, Any],
    prefix: str,
    parent: str | None,
    depth: int,
    max_depth: int,
    max_fields: int,
    stats: dict[str, _Stats],
    seen: dict[str, set[str]],
) -> None:
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if path not in stats:
            if len(stats) >= max_fields:
                continue
            stats[path] = _Stats(parent)
        seen.setdefault(path, set()).add(type_name(value))
        if depth >= max_depth:
            continue
        if isinstance(value, Mapping):
            _visit(value, path + ".", path, depth + 1, max_depth, max_fields, stats, seen)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Mapping):
                    _visit(item, path + ".", path, depth + 1, max_depth, max_fields, stats, seen)


__all__ = ["FieldInfo", "infer_fields"]
