"""Hostile inputs for the analyzer: one generator a pathological shape, each building a
statement (or a short script) of about ``size`` characters. The suite runs them small with
bounds on time and memory; ``aishell bench analyzer`` runs them at 1 MB.

>>> sorted(SHAPES)[:3]
['and_of_ors', 'deep_arrays', 'deep_case']
>>> len(hostile("wide_and", 2_000)) <= 2_000
True
>>> hostile("and_of_ors", 80)
'SELECT id FROM t WHERE (a0 = 0 OR b = 0) AND (a1 = 1 OR b = 1)'
"""

from __future__ import annotations

from typing import Callable, Iterator


def _repeat(head: str, item: Callable[[int], str], sep: str, tail: str, size: int) -> str:
    """``head`` + items joined by ``sep`` + ``tail``, as many items as fit in ``size`` (one at least)."""
    parts = [item(0)]
    used = len(head) + len(tail) + len(parts[0])
    i = 1
    while True:
        nxt = item(i)
        used += len(sep) + len(nxt)
        if used > size:
            break
        parts.append(nxt)
        i += 1
    return head + sep.join(parts) + tail


def _nested(open_: str, core: str, close: str, size: int) -> str:
    depth = max(1, (size - len(core)) // max(1, len(open_) + len(close)))
    return open_ * depth + core + close * depth


def deep_parens(size: int) -> str:
    return "SELECT " + _nested("(", "1", ")", size - 7)


def deep_subqueries(size: int) -> str:
    return "SELECT * FROM " + _nested("(SELECT * FROM ", "t", ") AS s", size - 14)


def deep_not(size: int) -> str:
    """Nesting without a single parenthesis: ``NOT NOT … NOT x``."""
    return "SELECT id FROM t WHERE " + "NOT " * max(1, (size - 24) // 4) + "x"


def deep_case(size: int) -> str:
    return "SELECT " + _nested("CASE WHEN x THEN ", "1", " END", size - 7)


def deep_unary_minus(size: int) -> str:
    return "SELECT " + "- " * max(1, (size - 8) // 2) + "1"


def deep_arrays(size: int) -> str:
    return "SELECT " + _nested("ARRAY[", "1", "]", size - 7)


def wide_and(size: int) -> str:
    return _repeat("SELECT id FROM t WHERE ", lambda i: f"a{i} = {i}", " AND ", "", size)


def wide_or(size: int) -> str:
    return _repeat("SELECT id FROM t WHERE ", lambda i: f"a{i} = {i}", " OR ", "", size)


def and_of_ors(size: int) -> str:
    """The shape that took a minute at 1,000 terms: one deep copy of the statement per OR."""
    return _repeat("SELECT id FROM t WHERE ", lambda i: f"(a{i} = {i} OR b = {i})", " AND ", "", size)


def or_of_ands(size: int) -> str:
    return _repeat("SELECT id FROM t WHERE ", lambda i: f"(a{i} = {i} AND b = {i})", " OR ", "", size)


def same_column_ors(size: int) -> str:
    return _repeat("SELECT id FROM t WHERE ", lambda i: f"x = {i}", " OR ", "", size)


def in_list(size: int) -> str:
    return _repeat("SELECT id FROM t WHERE x IN (", str, ", ", ")", size)


def not_in_list(size: int) -> str:
    return _repeat("SELECT id FROM t WHERE x NOT IN (", str, ", ", ", NULL)", size)


def huge_string(size: int) -> str:
    return "SELECT '" + "x" * max(0, size - 10) + "'"


def huge_number(size: int) -> str:
    return "SELECT id FROM t LIMIT 10 OFFSET " + "9" * max(1, size - 33)


def huge_identifier(size: int) -> str:
    return "SELECT " + "c" * max(1, size - 14) + " FROM t"


def huge_comment(size: int) -> str:
    return "SELECT 1 /* " + "x" * max(0, size - 15) + " */"


def many_joins(size: int) -> str:
    return _repeat("SELECT * FROM t0 ", lambda i: f"JOIN t{i + 1} ON t{i + 1}.id = t{i}.id", " ", "", size)


def many_comma_tables(size: int) -> str:
    return _repeat("SELECT * FROM ", lambda i: f"t{i}", ", ", " WHERE t0.id = 1", size)


def many_unions(size: int) -> str:
    return _repeat("", lambda i: f"SELECT * FROM t{i} WHERE a = {i} OR b = {i}", " UNION ", "", size)


def many_columns(size: int) -> str:
    return _repeat("SELECT ", lambda i: f"lower(c{i})", ", ", " FROM t", size)


def many_subqueries(size: int) -> str:
    return _repeat("SELECT ", lambda i: f"(SELECT count(*) FROM u{i} WHERE u{i}.k = t.id)", ", ", " FROM t", size)


def many_functions(size: int) -> str:
    return _repeat("SELECT id FROM t WHERE ", lambda i: f"lower(c{i}) = 'v{i}'", " AND ", "", size)


def many_likes(size: int) -> str:
    return _repeat("SELECT id FROM t WHERE ", lambda i: f"c{i} LIKE '%v{i}'", " OR ", "", size)


def many_statements(size: int) -> str:
    return _repeat("", lambda i: f"SELECT * FROM t WHERE a = {i}", ";\n", ";", size)


def invalid_utf8(size: int) -> bytes:
    """Bytes that are not UTF-8 inside an otherwise ordinary statement (the CLI reads bytes)."""
    body = bytes(range(128, 256)) * (max(0, size - 30) // 128 + 1)
    return b"SELECT '" + body[: max(0, size - 30)] + b"' FROM t WHERE x = 1"


def nul_bytes(size: int) -> str:
    return _repeat("SELECT ", lambda i: f"\x00c{i}\x00", ", ", " FROM t", size)


def unterminated_string(size: int) -> str:
    return "SELECT 1; SELECT '" + "x" * max(0, size - 18)


def unterminated_comment(size: int) -> str:
    return "SELECT 1; /* " + "x" * max(0, size - 13)


def unterminated_identifier(size: int) -> str:
    return 'SELECT 1; SELECT "' + "x" * max(0, size - 18)


def token_soup(size: int) -> str:
    return _repeat("", lambda i: ("( SELECT , FROM WHERE ) AND OR ::", "JOIN ON IN NOT = 'x' 1 ;")[i % 2], " ", "", size)


SHAPES: dict[str, Callable[[int], str | bytes]] = {
    name: fn
    for name, fn in sorted(globals().items())
    if callable(fn) and not name.startswith("_") and getattr(fn, "__module__", None) == __name__ and name not in ("hostile", "shapes", "write_script")
}
"""Every shape by name."""


def hostile(shape: str, size: int) -> str | bytes:
    """The statement of ``shape`` at about ``size`` characters (bytes for ``invalid_utf8``)."""
    return SHAPES[shape](size)


def shapes(size: int) -> Iterator[tuple[str, str | bytes]]:
    """(name, input) of every shape at ``size``."""
    for name, fn in SHAPES.items():
        yield name, fn(size)


_NEVER_CLOSED = ("unterminated_comment", "unterminated_identifier", "unterminated_string")
"""Shapes that swallow everything after them: only at the end of a script."""


def write_script(path, size: int, queries: list[str], *, shape_size: int = 16_384) -> int:
    """Write a script of about ``size`` bytes to ``path``: rounds of ``queries`` each followed by
    every hostile shape at ``shape_size`` (a statement each), the never-closed shapes once at the
    end. Returns the bytes written."""
    closed = [name for name in SHAPES if name not in _NEVER_CLOSED]
    written = 0
    with open(path, "wb") as out:
        while written < size:
            for query in queries:
                written += out.write(query.strip().rstrip(";").encode() + b";\n")
            for name in closed:
                piece = hostile(name, shape_size)
                data = piece if isinstance(piece, bytes) else piece.encode("utf-8", "surrogatepass")
                written += out.write(data + b";\n")
        for name in _NEVER_CLOSED:
            written += out.write(str(hostile(name, 64)).encode())
    return written
