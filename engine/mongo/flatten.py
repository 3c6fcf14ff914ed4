"""Documents into the same grid as SQL rows: nested fields become dotted columns, arrays a summary.

The column set is fixed by the first page (``learn`` then ``freeze``) so every later page has the
same shape; fields first seen after that are counted in :attr:`Flattener.unseen` (and named in
the stream's status) rather than silently reshaping the grid. ``_id`` always comes first; the
other columns keep the order in which fields were first met, children next to their parent.

>>> f = Flattener()
>>> f.learn([{"_id": 1, "customer": {"name": "Ann", "city": "Oslo"}, "tags": ["a", "b"]}])
>>> [c.name for c in f.freeze()]
['_id', 'customer.name', 'customer.city', 'tags']
>>> f.rows([{"_id": 2, "customer": {"name": "Bo"}, "tags": []}])
[(2, 'Bo', None, '[]')]
"""

from __future__ import annotations

import datetime as _dt
import decimal
import itertools
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from aishell.engine.types import Column

_SCALARS = (str, bool, int, float, decimal.Decimal, _dt.datetime, bytes, type(None))


def type_name(value: Any) -> str:
    """The BSON type alias of a decoded value, as ``$type`` spells it (``objectId``, ``long``...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    cls = type(value).__name__
    if isinstance(value, int):
        if cls == "Int64":
            return "long"
        return "int" if -(2**31) <= value < 2**31 else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, _dt.datetime):
        return "date"
    if isinstance(value, uuid.UUID):
        return "uuid"
    if isinstance(value, decimal.Decimal) or cls == "Decimal128":
        return "decimal"
    if isinstance(value, (bytes, bytearray)):
        return "uuid" if getattr(value, "subtype", None) in (3, 4) and len(value) == 16 else "binData"
    return _CLASS_TYPES.get(cls, cls[:1].lower() + cls[1:])


_CLASS_TYPES = {
    "ObjectId": "objectId",
    "ObjectIdValue": "objectId",
    "Int64Value": "long",
    "Regex": "regex",
    "RegexValue": "regex",
    "Timestamp": "timestamp",
    "TimestampValue": "timestamp",
    "MinKey": "minKey",
    "MaxKey": "maxKey",
    "Code": "javascript",
    "DBRef": "dbPointer",
    "BinaryValue": "binData",
}


def cell(value: Any) -> Any:
    """A scalar for the grid: Python scalars stay as they are (dates stay datetimes, Decimal128
    becomes Decimal), ObjectId and other BSON types become their shell text.

    The conversion is chosen once per Python type and remembered: a cell costs a dict lookup.
    """
    convert = _CONVERTERS.get(type(value))
    if convert is None:
        convert = _CONVERTERS[type(value)] = _converter_for(type(value))
    return convert(value)


def _same(value: Any) -> Any:
    return value


def _converter_for(cls: type) -> Any:
    if issubclass(cls, bool):
        return bool
    if issubclass(cls, int):
        return int  # Int64
    if issubclass(cls, float):
        return float
    if issubclass(cls, str):
        return str
    if issubclass(cls, (_dt.datetime, decimal.Decimal)):
        return _same
    if issubclass(cls, (list, tuple)):
        return summarize_array
    if issubclass(cls, Mapping):
        return compact
    if issubclass(cls, uuid.UUID):
        return str
    if hasattr(cls, "to_decimal"):
        return lambda value: value.to_decimal()
    if issubclass(cls, (bytes, bytearray)):
        return _binary
    return _bson_text


def _binary(value: Any) -> Any:
    if getattr(value, "subtype", None) in (3, 4) and len(value) == 16:
        return str(uuid.UUID(bytes=bytes(value)))
    return bytes(value)


_CONVERTERS: dict[type, Any] = {
    type(None): _same, str: _same, bool: _same, int: _same, float: _same, _dt.datetime: _same, decimal.Decimal: _same,
}


def _bson_text(value: Any) -> str:
    cls = type(value).__name__
    if cls in ("ObjectId",):
        return str(value)
    if cls == "ObjectIdValue":
        return value.hex
    if cls in ("Timestamp",):
        return f"Timestamp({value.time}, {value.inc})"
    if cls in ("Regex",):
        return f"/{value.pattern}/{_regex_flags(value.flags)}"
    if cls in ("MinKey", "MaxKey"):
        return f"{cls}()"
    if cls == "DBRef":
        return f"DBRef({value.collection!r}, {cell(value.id)!r})"
    if cls == "Int64Value":
        return str(value.value)
    return str(value) if cls == "Code" else repr(value)


def _regex_flags(flags: Any) -> str:
    if isinstance(flags, str):
        return flags
    import re

    letters = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s", re.VERBOSE: "x"}
    return "".join(letter for bit, letter in letters.items() if flags & bit)


def compact(value: Any, budget: int = 80) -> str:
    """A short JSON rendering of any value, cut with ``…`` past ``budget`` characters. The C JSON
    encoder does the work on at most ``budget`` items of the top level, so a huge array costs no
    more than a small one (dates as ISO text, decimals as numbers, ObjectIds as hex)."""
    if isinstance(value, (list, tuple)):
        value = value[:budget] if len(value) > budget else value
    elif isinstance(value, Mapping) and len(value) > budget:
        value = dict(itertools.islice(value.items(), budget))
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= budget else text[: budget - 1] + "…"


def _json_default(value: Any) -> Any:
    """JSON for what json cannot encode: dates as ISO text, decimals as numbers, bytes as a
    size, other BSON types as their cell text."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, decimal.Decimal):
        return float(value)
    if hasattr(value, "to_decimal"):
        return float(value.to_decimal())
    if isinstance(value, (bytes, bytearray)) and not (getattr(value, "subtype", None) in (3, 4) and len(value) == 16):
        return f"<{len(value)} bytes>"
    if isinstance(value, (set, frozenset)):
        return list(value)
    return cell(value)


_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False, separators=(", ", ": "), check_circular=False)


def summarize_array(values: Iterable[Any], budget: int = 80) -> str:
    """An array as one cell: its items while they fit, then ``… (N items)``.

    >>> summarize_array([1, 2, 3])
    '[1, 2, 3]'
    >>> summarize_array([{"sku": "A1", "qty": 2}] * 40, budget=40)
    '[{"sku": "A1", "qty": 2}, {"sku": "A1"… (40 items)'
    """
    items = values if isinstance(values, (list, tuple)) else list(values)
    if not items:
        return "[]"
    text = compact(items, budget + 1)
    if len(text) <= budget:
        return text
    return text[: budget - 1].rstrip(" ,") + f"… ({len(items)} items)"


class _Node:
    __slots__ = ("children", "leaf", "types", "nested")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.leaf = False
        self.types: dict[str, int] = {}
        self.nested: tuple[str, ...] = ()
        """Children that have children of their own (set by freeze)."""


class Flattener:
    """Turns documents into row tuples over a stable set of dotted columns.

    ``max_depth`` levels of subdocuments become columns (deeper ones are shown as compact
    text); at most ``max_columns`` columns are made (later fields are counted as unseen).
    """

    __slots__ = ("max_depth", "max_columns", "array_budget", "_root", "_paths", "_columns", "_frozen", "_count", "unseen")

    def __init__(self, *, max_depth: int = 4, max_columns: int = 200, array_budget: int = 80) -> None:
        if max_depth < 1:
            raise ValueError(f"max_depth must be at least 1, got {max_depth!r}")
        if max_columns < 1:
            raise ValueError(f"max_columns must be at least 1, got {max_columns!r}")
        self.max_depth = max_depth
        self.max_columns = max_columns
        self.array_budget = array_budget
        self._root = _Node()
        self._paths: tuple[tuple[str, ...], ...] = ()
        self._columns: tuple[Column, ...] = ()
        self._frozen = False
        self._count = 0
        self.unseen: dict[str, int] = {}
        """Dotted paths met after :meth:`freeze` that have no column, with how often."""

    # -- learning the columns --------------------------------------------------------------------

    def learn(self, documents: Iterable[Mapping[str, Any]]) -> None:
        """Add the fields of ``documents`` to the column set (before :meth:`freeze`)."""
        if self._frozen:
            raise RuntimeError("the column set is frozen")
        for doc in documents:
            self._learn(self._root, doc if isinstance(doc, Mapping) else {"value": doc}, 1)

    def _learn(self, node: _Node, doc: Mapping[str, Any], depth: int) -> None:
        for key, value in doc.items():
            key = str(key)
            child = node.children.get(key)
            if child is None:
                if self._count >= self.max_columns:
                    continue
                child = node.children[key] = _Node()
            kind = type_name(value)
            child.types[kind] = child.types.get(kind, 0) + 1
            if isinstance(value, Mapping) and value and depth < self.max_depth:
                self._learn(child, value, depth + 1)
            elif not child.leaf:
                if self._count >= self.max_columns:
                    continue
                child.leaf = True
                self._count += 1

    def freeze(self) -> tuple[Column, ...]:
        """Fix the column set; returns the columns (``_id`` first)."""
        self._frozen = True
        paths: list[tuple[str, ...]] = []
        types: list[str] = []

        def walk(node: _Node, prefix: tuple[str, ...]) -> None:
            node.nested = tuple(k for k, c in node.children.items() if c.children)
            for key, child in node.children.items():
                path = prefix + (key,)
                if child.leaf:
                    paths.append(path)
                    types.append(_column_type(child.types))
                walk(child, path)

        walk(self._root, ())
        order = sorted(range(len(paths)), key=lambda i: paths[i][0] != "_id")
        self._paths = tuple(paths[i] for i in order)
        self._columns = tuple(Column(".".join(paths[i]), types[i]) for i in order)
        return self._columns

    @property
    def columns(self) -> tuple[Column, ...]:
        if not self._frozen:
            return self.freeze()
        return self._columns

    # -- rows ------------------------------------------------------------------------------------

    def rows(self, documents: Iterable[Mapping[str, Any]]) -> list[tuple]:
        """One tuple a document, in column order; missing fields are None."""
        if not self._frozen:
            self.freeze()
        specs = [(path[0], path[1:]) for path in self._paths]
        out: list[tuple] = []
        budget = self.array_budget
        root = self._root
        top = root.children.keys()
        nested = root.nested
        converters = _CONVERTERS
        for doc in documents:
            if type(doc) is not dict:
                doc = dict(doc) if isinstance(doc, Mapping) else {"value": doc}
            row = []
            append = row.append
            get = doc.get
            for head, tail in specs:
                value: Any = get(head)
                for key in tail:
                    if type(value) is dict:
                        value = value.get(key)
                    elif value is not None and isinstance(value, Mapping):
                        value = value.get(key)
                    else:
                        value = None
                        break
                convert = converters.get(type(value))
                if convert is _same:
                    append(value)
                elif isinstance(value, (list, tuple)):
                    append(summarize_array(value, budget))
                elif isinstance(value, Mapping):
                    # A subdocument where the first page had a scalar (or past max_depth).
                    append(compact(value, budget))
                else:
                    append(cell(value))
            out.append(tuple(row))
            extra = doc.keys() - top
            if extra:
                self._count_unseen(extra, "")
            for key in nested:
                value = get(key)
                if type(value) is dict:
                    self._note_unseen(root.children[key], value, key)
        return out

    def _note_unseen(self, node: _Node, doc: Mapping[str, Any], path: str) -> None:
        """Count the fields of ``doc`` (at dotted ``path``) that have no column."""
        children = node.children
        extra = doc.keys() - children.keys()
        if extra:
            self._count_unseen(extra, path + ".")
        for key in node.nested:
            value = doc.get(key)
            if isinstance(value, Mapping):
                self._note_unseen(children[key], value, f"{path}.{key}")

    def _count_unseen(self, keys: Any, prefix: str) -> None:
        unseen = self.unseen
        for key in keys:
            name = prefix + str(key)
            unseen[name] = unseen.get(name, 0) + 1

    def unseen_note(self) -> str:
        """A short status note naming fields that had no column, or ''."""
        if not self.unseen:
            return ""
        names = sorted(self.unseen, key=lambda p: -self.unseen[p])
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        return f"{len(names)} field{'s' if len(names) > 1 else ''} first seen after the first page not shown: {shown}"


def _column_type(types: Mapping[str, int]) -> str:
    named = [t for t, _ in sorted(types.items(), key=lambda kv: -kv[1]) if t != "null"]
    if not named:
        return "null"
    return "|".join(named[:3]) + ("|…" if len(named) > 3 else "")


def flatten(documents: list[Mapping[str, Any]], **options: Any) -> tuple[tuple[Column, ...], list[tuple]]:
    """Columns and rows for a complete result (all documents known up front)."""
    flattener = Flattener(**options)
    flattener.learn(documents)
    columns = flattener.freeze()
    return columns, flattener.rows(documents)


__all__ = ["Flattener", "flatten", "cell", "compact", "summarize_array", "type_name"]
