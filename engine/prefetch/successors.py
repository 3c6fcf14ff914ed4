"""Which statement usually follows which on one database, learned by statement shape.

Two successful runs in a row on the same database, started at most :data:`MAX_GAP` seconds
apart, make a pair: the first one's fingerprint (its shape, literals aside) and the second one's
text. A shape's usual successor is the text that followed it most often: at least
:data:`MIN_FOLLOWS` times, and in more than half of the pairs that shape started (a shape
followed by anything at all predicts nothing). Pairs come from memory's runs of the database,
read once when the session opens, and from the session's own statements as they run.

>>> s = Successors("postgres")
>>> s.ran("SELECT * FROM orders WHERE id = 1", at=0.0)
>>> s.ran("SELECT count(*) FROM order_items", at=1.0)
>>> s.ran("SELECT * FROM orders WHERE id = 2", at=9.0)
>>> s.ran("SELECT count(*) FROM order_items", at=10.0)
>>> s.next_of("SELECT * FROM orders WHERE id = 42")      # the same shape, another literal
'SELECT count(*) FROM order_items'
>>> s.next_of("SELECT count(*) FROM order_items") is None  # followed once: not yet usual
True
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

MAX_GAP = 300.0
"""Seconds between two runs' starts beyond which the second one does not follow the first."""
MIN_FOLLOWS = 2
"""Times a text must have followed a shape before it counts as the shape's usual successor."""
RECENT_RUNS = 20_000
"""Runs of the database read from memory (the latest ones)."""
SHAPES = 5_000
"""Predecessor shapes kept (the ones seen last win): the model stays small whatever memory holds."""

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
        self._last: tuple[str, float] | None = None
        """The fingerprint of the session's previous successful statement and when it started."""

    # -- learning -------------------------------------------------------------------------------

    def ran(self, sql: str, *, at: float, ok: bool = True) -> None:
        """The session ran ``sql`` (started ``at``, epoch seconds); a failure breaks the chain."""
        if not ok:
            self._last = None
            return
        shape = self.shape(sql)
        last = self._last
        if last is not None and 0 <= at - last[1] <= MAX_GAP:
            self._pair(last[0], sql)
        self._last = (shape, at) if shape else None

    def _pair(self, shape: str, text: str) -> None:
        follows = self._follows.pop(shape, None) or Counter()
        follows[text] += 1
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
        previous: tuple[str, float] | None = None
        for fingerprint, text, started, success in runs:
            if not success:
                previous = None
                continue
            self._repeats[text] += 1
            if previous is not None and 0 <= started - previous[1] <= MAX_GAP:
                self._pair(previous[0], text)
            previous = (fingerprint, started)

    async def load(self, path: str | Path, database: str, *, limit: int = RECENT_RUNS) -> None:
        """Learn what memory's file at ``path`` knows about ``database`` (a redacted URL, as
        memory records it). Read-only (``mode=ro``) in a thread; a missing or unreadable file
        teaches nothing, never an error."""
        self.learn(await asyncio.to_thread(_read, Path(path), database, limit))

    # -- predicting -----------------------------------------------------------------------------

    def next_of(self, sql: str) -> str | None:
        """The text that usually follows ``sql``'s shape, or None when nothing usually does."""
        follows = self._follows.get(self.shape(sql))
        if not follows:
            return None
        text, count = follows.most_common(1)[0]
        if count < MIN_FOLLOWS or count * 2 <= sum(follows.values()):
            return None
        return text

    def most_repeated(self, limit: int) -> list[str]:
        """Texts memory saw run at least twice on this database, most repeated first."""
        return [text for text, count in self._repeats.most_common(limit) if count >= 2] if limit > 0 else []

    def __len__(self) -> int:
        """Predecessor shapes known."""
        return len(self._follows)


def _read(path: Path, database: str, limit: int) -> list[tuple[str, str, float, bool]]:
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            rows = conn.execute(_QUERY, (database, limit)).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, ValueError, OSError):
        return []
    return [(r[0], r[1], float(r[2]), bool(r[3])) for r in reversed(rows) if r[1]]


__all__ = ["Successors", "MAX_GAP", "MIN_FOLLOWS"]
