"""Which statement usually follows which on one database, learned by statement shape.

Two successful runs in a row on the same database, started at most :data:`MAX_GAP` seconds
apart, make a pair: the first one's fingerprint (its shape, literals aside) and the second one's
text as a template, in which each literal that also appears, once, in the first statement stands
for that literal (``WHERE order_id = 7`` after ``WHERE id = 7``: the order just looked at). A
shape's usual successor is the template that followed it most often: at least
:data:`MIN_FOLLOWS` times, and in more than half of the pairs that shape started (a shape
followed by anything at all predicts nothing); it is filled with the literals of the statement
just run. Pairs come from memory's runs of the database, read once when the session opens, and
from the session's own statements as they run.

>>> s = Successors("postgres")
>>> s.ran("SELECT * FROM orders WHERE id = 1", at=0.0)
>>> s.ran("SELECT count(*) FROM order_items WHERE order_id = 1", at=1.0)
>>> s.ran("SELECT * FROM orders WHERE id = 2", at=9.0)
>>> s.ran("SELECT count(*) FROM order_items WHERE order_id = 2", at=10.0)
>>> s.next_of("SELECT * FROM orders WHERE id = 42")      # the same shape, its own literal
'SELECT count(*) FROM order_items WHERE order_id = 42'
>>> s.next_of("SELECT count(*) FROM order_items WHERE order_id = 5") is None  # followed once
True
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from functools import lru_cache
from pathlib import Path

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from aishell.engine.statements.fingerprint import LITERALS

MAX_GAP = 300.0
"""Seconds between two runs' starts beyond which the second one does not follow the first."""
MIN_FOLLOWS = 2
"""Times a template must have followed a shape before it counts as the shape's usual successor."""
RECENT_RUNS = 5_000
"""Runs of the database read from memory (the latest ones)."""
SHAPES = 5_000
"""Predecessor shapes kept (the ones seen last win): the model stays small whatever memory holds."""

_MARK = "\x00"
"""Around the number of the first statement's literal a template takes (never in SQL text)."""

_QUERY = """
SELECT s.fingerprint, s.text, r.started_at, r.success
FROM runs r JOIN statements s ON s.id = r.statement_id
WHERE r.database = ?
ORDER BY r.started_at DESC
LIMIT ?
"""


class Successors:
    """Pairs of statements that ran one after the other, counted by the first one's shape, and
    how often each read was repeated (what to warm the cache with)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._follows: dict[str, Counter[str]] = {}
        self._repeats: Counter[str] = Counter()
        self._last: tuple[str, str, float] | None = None
        """The session's previous successful statement: its fingerprint, text and start."""

    # -- learning -------------------------------------------------------------------------------

    def ran(self, sql: str, *, at: float, ok: bool = True) -> None:
        """The session ran ``sql`` (started ``at``, epoch seconds); a failure breaks the chain."""
        if not ok:
            self._last = None
            return
        shape = self.shape(sql)
        last = self._last
        if last is not None and 0 <= at - last[2] <= MAX_GAP:
            self._pair(last[0], template(last[1], sql, self.dialect))
        self._last = (shape, sql, at) if shape else None

    def _pair(self, shape: str, follower: str) -> None:
        follows = self._follows.pop(shape, None) or Counter()
        follows[follower] += 1
        self._follows[shape] = follows  # last seen moves to the end
        if len(self._follows) > SHAPES:
            del self._follows[next(iter(self._follows))]

    def shape(self, sql: str) -> str:
        """The fingerprint memory files ``sql`` under ("" for text without one)."""
        from aishell.engine.memory.regressions import shape_of

        try:
            return shape_of(sql, self.dialect)
        except Exception:  # noqa: BLE001 - a statement without a shape predicts nothing
            return ""

    def learn(self, runs: list[tuple[str, str, float, bool]]) -> None:
        """Pairs and repeats from memory's ``runs`` of one database, oldest first:
        ``(fingerprint, text, started_at, success)``."""
        previous: tuple[str, str, float] | None = None
        for fingerprint, text, started, success in runs:
            if not success:
                previous = None
                continue
            self._repeats[text] += 1
            if previous is not None and 0 <= started - previous[2] <= MAX_GAP:
                self._pair(previous[0], template(previous[1], text, self.dialect))
            previous = (fingerprint, text, started)

    def absorb(self, other: "Successors") -> None:
        """Add what ``other`` learned (memory's runs, read apart) to this model."""
        for shape, follows in other._follows.items():
            mine = self._follows.pop(shape, None) or Counter()
            mine.update(follows)
            self._follows[shape] = mine
        while len(self._follows) > SHAPES:
            del self._follows[next(iter(self._follows))]
        self._repeats.update(other._repeats)

    async def load(self, path: str | Path, database: str, *, limit: int = RECENT_RUNS) -> None:
        """Learn what memory's file at ``path`` knows about ``database`` (a redacted URL, as
        memory records it). Read-only (``mode=ro``), and learned in a thread; a missing or
        unreadable file teaches nothing, never an error."""
        self.absorb(await asyncio.to_thread(_learned, Path(path), database, limit, self.dialect))

    # -- predicting -----------------------------------------------------------------------------

    def next_of(self, sql: str) -> str | None:
        """The statement that usually follows ``sql``'s shape, with ``sql``'s literals where the
        template takes them; None when nothing usually follows."""
        follows = self._follows.get(self.shape(sql))
        if not follows:
            return None
        follower, count = follows.most_common(1)[0]
        if count < MIN_FOLLOWS or count * 2 <= sum(follows.values()):
            return None
        return fill(follower, sql, self.dialect)

    def most_repeated(self, limit: int) -> list[str]:
        """Texts memory saw run at least twice on this database, most repeated first."""
        return [text for text, count in self._repeats.most_common(limit) if count >= 2] if limit > 0 else []

    def __len__(self) -> int:
        """Predecessor shapes known."""
        return len(self._follows)


# -- templates ------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def literals(sql: str, dialect: str) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, text)`` of each literal token of ``sql`` as written (quotes included);
    () when it does not tokenize.

    >>> literals("SELECT * FROM t WHERE id = 7 AND name = 'it''s'", "postgres")
    ((27, 28, '7'), (40, 47, "'it''s'"))
    """
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    except (SqlglotError, ValueError, RecursionError, IndexError):
        return ()
    return tuple((t.start, t.end + 1, sql[t.start:t.end + 1]) for t in tokens if t.token_type in LITERALS)


def template(before: str, after: str, dialect: str) -> str:
    """``after`` with each literal written exactly once in ``before`` replaced by its number
    there; other literals (a constant, an ambiguous one) stay as written.

    >>> template("SELECT * FROM orders WHERE id = 7", "SELECT * FROM items WHERE order_id = 7 LIMIT 50", "postgres")
    'SELECT * FROM items WHERE order_id = \\x000\\x00 LIMIT 50'
    """
    seen = [text for _, _, text in literals(before, dialect)]
    if not seen:
        return after
    out: list[str] = []
    last = 0
    for start, end, text in literals(after, dialect):
        if seen.count(text) == 1:
            out += [after[last:start], f"{_MARK}{seen.index(text)}{_MARK}"]
            last = end
    out.append(after[last:])
    return "".join(out)


def fill(follower: str, before: str, dialect: str) -> str | None:
    """The template ``follower`` with ``before``'s literals put in; None when ``before`` has
    fewer literals than it takes."""
    if _MARK not in follower:
        return follower
    values = [text for _, _, text in literals(before, dialect)]
    parts = follower.split(_MARK)
    for i in range(1, len(parts), 2):
        number = int(parts[i])
        if number >= len(values):
            return None
        parts[i] = values[number]
    return "".join(parts)


def _learned(path: Path, database: str, limit: int, dialect: str) -> Successors:
    """A model of what memory's file holds about ``database`` (run in a thread)."""
    model = Successors(dialect)
    if not path.exists():
        return model
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            rows = conn.execute(_QUERY, (database, limit)).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, ValueError, OSError):
        return model
    model.learn([(r[0], r[1], float(r[2]), bool(r[3])) for r in reversed(rows) if r[1]])
    return model


__all__ = ["Successors", "MAX_GAP", "MIN_FOLLOWS", "literals", "template", "fill"]
