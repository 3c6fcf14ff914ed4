"""Sorting and filtering the rows a grid holds, with SQL's rules, without asking the server.

A filter is a SQL condition (``total > 100``, ``name ILIKE '%ab%' AND paid``) or the simple
``column op value`` form (``status = shipped``: a bare word beside a column is a string). It is
parsed once by sqlglot into a :class:`Condition`, whose tree has its column names resolved and
quoted, so the same condition can also be sent to the server inside a wrapped query. On loaded
rows it is evaluated with SQL's three-valued logic (a comparison with NULL keeps no row).

Sorting follows PostgreSQL: numbers as numbers, NULLs last ascending and first descending.

    >>> rows = [(1, "b"), (None, "a"), (10, "c"), (2.5, None)]
    >>> [rows[i][0] for i in sort_order(rows, 0)]
    [1, 2.5, 10, None]
    >>> [rows[i][0] for i in sort_order(rows, 0, descending=True)]
    [None, 10, 2.5, 1]
    >>> keep = Condition.parse("id > 1 and name <> c", ["id", "name"]).predicate()
    >>> [row for row in rows if keep(row)]
    []
    >>> Condition.parse("NAME = c or id is null", ["id", "name"]).text
    '"name" = \\'c\\' OR "id" IS NULL'
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

__all__ = ["Condition", "ConditionError", "IndexedRows", "sort_order"]


class ConditionError(ValueError):
    """A filter condition that cannot be read or evaluated; the message is one line."""


class IndexedRows(Sequence[Sequence[Any]]):
    """Some rows of a sequence, in a given order: a sorted or filtered view of loaded rows."""

    __slots__ = ("_rows", "_order")

    def __init__(self, rows: Sequence[Sequence[Any]], order: Sequence[int]) -> None:
        self._rows = rows
        self._order = order if isinstance(order, array) else array("q", order)

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> Sequence[Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[Sequence[Any]]: ...

    def __getitem__(self, index: int | slice) -> Sequence[Any] | list[Sequence[Any]]:
        if isinstance(index, slice):
            return [self._rows[position] for position in self._order[index]]
        return self._rows[self._order[index]]

    def __iter__(self) -> Iterator[Sequence[Any]]:
        rows = self._rows
        return (rows[position] for position in self._order)

    def source_index(self, index: int) -> int:
        """The position in the underlying rows of the row shown at ``index``."""
        return self._order[index]

    def display_positions(self, count: int) -> array:
        """For each of the first ``count`` underlying rows, where this view shows it (-1: not shown).

        >>> list(IndexedRows([(0,), (1,), (2,)], [2, 0]).display_positions(3))
        [1, -1, 0]
        """
        positions = array("q", [-1]) * count
        for display, source in enumerate(self._order):
            if source < count:
                positions[source] = display
        return positions


# --------------------------------------------------------------------------- sorting

_NUMBERS = (int, float, decimal.Decimal)


def _sort_key(value: Any) -> tuple:
    """A key that orders any mix of values: numbers (NaN above all), then text, then the rest."""
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, _NUMBERS):
        if value != value:  # NaN sorts above every number, as in PostgreSQL
            return (0, 1, 0)
        return (0, 0, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time, _dt.timedelta)):
        return (3, type(value).__name__, value)
    return (4, type(value).__name__, repr(value))


def sort_order(rows: Sequence[Sequence[Any]], column: int, *, descending: bool = False) -> array:
    """Positions of ``rows`` ordered by ``column`` as PostgreSQL would: NULLs last ascending,
    first descending; ties keep their order (the sort is stable)."""
    values = [row[column] if column < len(row) else None for row in rows]
    present = [index for index, value in enumerate(values) if value is not None]
    nulls = [index for index, value in enumerate(values) if value is None]
    kinds = {type(values[index]) for index in present}
    plain = len(kinds) <= 1 and not kinds & {float, bool} and kinds <= {int, decimal.Decimal, str, _dt.date, _dt.time, _dt.timedelta}
    if plain or (kinds <= {int, float, decimal.Decimal} and not any(_is_nan(values[i]) for i in present)):
        key: Callable[[int], Any] = values.__getitem__
    else:
        key = lambda index: _sort_key(values[index])  # noqa: E731
    try:
        present.sort(key=key, reverse=descending)
    except TypeError:  # aware and naive datetimes, say: order them as text
        present.sort(key=lambda index: _sort_key(str(values[index])), reverse=descending)
    if descending:
        return array("q", nulls + present)
    return array("q", present + nulls)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


# --------------------------------------------------------------------------- filtering


class Condition:
    """A filter condition with its columns resolved against a result's column names.

    ``tree`` is sqlglot's expression, its column identifiers quoted as the result names them;
    ``text`` the same condition written back as SQL (what the status line shows).
    """

    __slots__ = ("tree", "text", "source", "_columns")

    def __init__(self, tree: Any, source: str, columns: Sequence[str]) -> None:
        self.tree = tree
        self.source = source
        self._columns = list(columns)
        self.text = tree.sql()

    @classmethod
    def parse(cls, text: str, columns: Sequence[str]) -> Condition:
        """Read ``text`` as a condition on ``columns``; ConditionError if it is not one."""
        from sqlglot import exp
        from sqlglot.errors import SqlglotError

        source = text.strip()
        if not source:
            raise ConditionError("the filter is empty")
        try:
            tree = exp.condition(source)
        except (SqlglotError, ValueError, RecursionError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConditionError(f"not a condition: {first}") from None
        if isinstance(tree, (exp.Column, exp.Literal)) and not isinstance(tree, exp.Boolean):
            if not (isinstance(tree, exp.Column) and _resolve(tree.name, columns) is not None):
                raise ConditionError(f"not a condition: {source!r} (try: column > value)")
        if tree.find(exp.Query, exp.Subquery) is not None:
            raise ConditionError("a filter cannot hold a subquery")
        return cls(_resolve_columns(tree, columns), source, columns)

    def predicate(self) -> Callable[[Sequence[Any]], bool]:
        """A function telling whether a row is kept; ConditionError if some part of the condition
        can only be evaluated by a database (a function other than lower, upper, length, coalesce)."""
        evaluate = _compile(self.tree, self._columns)
        return lambda row: evaluate(row) is True

    def filter(self, rows: Sequence[Sequence[Any]], positions: Sequence[int] | None = None) -> array:
        """Positions of the rows kept (of ``positions`` in their order, else of all rows)."""
        keep = self.predicate()
        if positions is None:
            return array("q", (index for index, row in enumerate(rows) if keep(row)))
        return array("q", (index for index in positions if keep(rows[index])))


def _resolve(name: str, columns: Sequence[str]) -> int | None:
    """The index of the column called ``name``: exact first, then ignoring case if unique."""
    if name in columns:
        return list(columns).index(name)
    folded = [index for index, column in enumerate(columns) if column.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def _resolve_columns(tree: Any, columns: Sequence[str]) -> Any:
    """Columns quoted as the result names them; a bare unknown word compared with a column
    becomes a string (``status = shipped``); any other unknown name is an error."""
    from sqlglot import exp

    def known(node: Any) -> bool:
        return isinstance(node, exp.Column) and not node.table and _resolve(node.name, columns) is not None

    def transform(node: Any) -> Any:
        if not isinstance(node, exp.Column):
            return node
        if node.table:
            raise ConditionError(f"no column {node.sql()!r} in this result (write just the column name)")
        index = _resolve(node.name, columns)
        if index is not None:
            return exp.column(columns[index], quoted=True)
        parent = node.parent
        quoted = node.this.args.get("quoted") if isinstance(node.this, exp.Identifier) else False
        if not quoted and isinstance(parent, exp.Binary) and known(parent.left if parent.right is node else parent.right):
            return exp.Literal.string(node.name)
        if not quoted and isinstance(parent, exp.In) and known(parent.this):
            return exp.Literal.string(node.name)
        raise ConditionError(f"no column named {node.name!r} in this result")

    return tree.copy().transform(transform)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": lambda a, b: a == b,
    "NEQ": lambda a, b: a != b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
}

_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "Mod": lambda a, b: a % b,
}

_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "Lower": lambda value: str(value).lower(),
    "Upper": lambda value: str(value).upper(),
    "Length": lambda value: len(value) if isinstance(value, (str, bytes, list, dict)) else len(str(value)),
}

Evaluate = Callable[[Sequence[Any]], Any]


def _compile(node: Any, columns: Sequence[str]) -> Evaluate:
    """A function of a row giving the node's value (None is SQL's NULL and unknown)."""
    from sqlglot import exp

    kind = type(node).__name__
    if isinstance(node, exp.Paren):
        return _compile(node.this, columns)
    if isinstance(node, exp.Column):
        index = _resolve(node.name, columns)
        if index is None:
            raise ConditionError(f"no column named {node.name!r} in this result")
        return lambda row: row[index] if index < len(row) else None
    if isinstance(node, exp.Null):
        return lambda row: None
    if isinstance(node, exp.Boolean):
        constant = node.this
        return lambda row: constant
    if isinstance(node, exp.Literal):
        constant = _literal(node)
        return lambda row: constant
    if isinstance(node, exp.Neg):
        inner = _compile(node.this, columns)
        return lambda row: _negate(inner(row))
    if isinstance(node, exp.Not):
        inner = _compile(node.this, columns)
        return lambda row: _not(inner(row))
    if isinstance(node, exp.And):
        left, right = _compile(node.left, columns), _compile(node.right, columns)
        return lambda row: _and(left(row), right(row))
    if isinstance(node, exp.Or):
        left, right = _compile(node.left, columns), _compile(node.right, columns)
        return lambda row: _or(left(row), right(row))
    if kind in _COMPARE:
        compare = _COMPARE[kind]
        left, right = _compile(node.left, columns), _compile(node.right, columns)
        return lambda row: _compare(compare, left(row), right(row))
    if kind in _ARITHMETIC:
        operate = _ARITHMETIC[kind]
        left, right = _compile(node.left, columns), _compile(node.right, columns)
        return lambda row: _arithmetic(operate, left(row), right(row))
    if isinstance(node, exp.Is):
        inner, other = _compile(node.this, columns), _compile(node.expression, columns)
        return lambda row: inner(row) is other(row) if other(row) is None else inner(row) == other(row)
    if isinstance(node, (exp.Like, exp.ILike)):
        inner, pattern = _compile(node.this, columns), _compile(node.expression, columns)
        return _like(inner, pattern, isinstance(node, exp.ILike))
    if isinstance(node, exp.In):
        if node.args.get("query") or node.args.get("unnest"):
            raise ConditionError("IN with a subquery needs the server")
        inner = _compile(node.this, columns)
        options = [_compile(option, columns) for option in node.expressions]
        return lambda row: _in(inner(row), [option(row) for option in options])
    if isinstance(node, exp.Between):
        inner, low, high = (_compile(node.args[name], columns) for name in ("this", "low", "high"))
        return lambda row: _and(_compare(_COMPARE["GTE"], inner(row), low(row)), _compare(_COMPARE["LTE"], inner(row), high(row)))
    if kind in _FUNCTIONS:
        function, inner = _FUNCTIONS[kind], _compile(node.this, columns)
        return lambda row: None if (value := inner(row)) is None else function(value)
    if isinstance(node, exp.Coalesce):
        parts = [_compile(node.this, columns)] + [_compile(option, columns) for option in node.expressions]
        return lambda row: next((value for part in parts if (value := part(row)) is not None), None)
    raise ConditionError(f"{node.sql()!r} can only be evaluated by the database")


def _literal(node: Any) -> Any:
    if node.is_string:
        return node.this
    text = node.this
    try:
        return int(text)
    except ValueError:
        try:
            return decimal.Decimal(text)
        except decimal.InvalidOperation:
            return text


def _coerce(value: Any, other: Any) -> Any:
    """``value`` (a string written in the condition) as the type of ``other``, where it reads as one."""
    if not isinstance(value, str) or isinstance(other, str) or other is None:
        return value
    try:
        if isinstance(other, bool):
            return {"true": True, "t": True, "false": False, "f": False}.get(value.lower(), value)
        if isinstance(other, _NUMBERS):
            return decimal.Decimal(value)
        if isinstance(other, _dt.datetime):
            parsed = _dt.datetime.fromisoformat(value)
            if other.tzinfo is not None and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=other.tzinfo)
            return parsed
        if isinstance(other, _dt.date):
            return _dt.date.fromisoformat(value)
        if isinstance(other, _dt.time):
            return _dt.time.fromisoformat(value)
    except (ValueError, decimal.InvalidOperation):
        return value
    return value


def _compare(compare: Callable[[Any, Any], bool], left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    left, right = _coerce(left, right), _coerce(right, left)
    if isinstance(left, bool) != isinstance(right, bool):
        return None
    try:
        return compare(left, right)
    except TypeError:
        if isinstance(left, str) or isinstance(right, str):
            return compare(str(left), str(right))
        return None


def _arithmetic(operate: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    try:
        if isinstance(left, float) and isinstance(right, decimal.Decimal):
            right = float(right)
        elif isinstance(right, float) and isinstance(left, decimal.Decimal):
            left = float(left)
        return operate(left, right)
    except (TypeError, ArithmeticError):
        return None


def _negate(value: Any) -> Any:
    try:
        return None if value is None else -value
    except TypeError:
        return None


def _not(value: Any) -> bool | None:
    return None if value is None else not value


def _and(left: Any, right: Any) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return bool(left) and bool(right)


def _or(left: Any, right: Any) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return bool(left) or bool(right)


def _in(value: Any, options: list[Any]) -> bool | None:
    if value is None:
        return None
    found = [_compare(_COMPARE["EQ"], value, option) for option in options]
    if True in found:
        return True
    return None if None in found else False


def _like(inner: Evaluate, pattern: Evaluate, fold: bool) -> Evaluate:
    compiled: dict[str, re.Pattern[str]] = {}

    def matches(row: Sequence[Any]) -> bool | None:
        value, text = inner(row), pattern(row)
        if value is None or text is None:
            return None
        regex = compiled.get(text)
        if regex is None:
            regex = compiled[text] = _like_regex(str(text), fold)
        return regex.fullmatch(value if isinstance(value, str) else str(value)) is not None

    return matches


def _like_regex(pattern: str, fold: bool) -> re.Pattern[str]:
    """SQL LIKE as a regular expression: ``%`` any run, ``_`` one character, ``\\`` escapes."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if fold else 0))
