"""Regression alerts: a run much slower than its statement shape usually is.

A run is a regression when it took ``factor`` times the median of the shape's earlier successful
runs on the same database *and* at least ``min_gap_ms`` more (a 2 ms query taking 8 ms is noise,
not news), with at least ``min_runs`` earlier runs to stand on. The rule is pure; the history is
read from the memory file read-only (``mode=ro``), so the check never blocks the workbench
writing it.

>>> regression(400.0, [40.0, 50.0, 60.0])
Regression(duration_ms=400.0, median_ms=50.0, runs=3, factor=8.0, last_fast_at=None)
>>> regression(12.0, [2.0, 3.0, 2.5]) is None      # 4.8x, but only 9.5 ms slower
True
>>> regression(400.0, [50.0, 50.0]) is None        # too few runs to know what is usual
True
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from aishell.engine.memory.text import lex, redact_statement


@dataclass(frozen=True, slots=True)
class Regression:
    """This run's ``duration_ms`` against the ``median_ms`` of the shape's ``runs`` earlier runs;
    ``factor`` is their ratio; ``last_fast_at`` the start (epoch seconds) of the latest earlier run
    at or under the median, when known."""

    duration_ms: float
    median_ms: float
    runs: int
    factor: float
    last_fast_at: float | None = None

    def message(self) -> str:
        """One line for the Suggestions pane."""
        return (
            f"Ran {_ms(self.duration_ms)}, {self.factor:.1f}× its median of {_ms(self.median_ms)} "
            f"({self.runs} earlier run{'s' if self.runs != 1 else ''} on this database)"
        )


def _ms(value: float) -> str:
    return f"{value / 1000:,.2f} s" if value >= 10_000 else f"{value:,.1f} ms"


def regression(
    duration_ms: float,
    earlier_ms: Sequence[float],
    *,
    factor: float = 3.0,
    min_gap_ms: float = 50.0,
    min_runs: int = 3,
) -> Regression | None:
    """The regression this run is against ``earlier_ms`` (the shape's earlier durations), or None."""
    if len(earlier_ms) < max(1, min_runs):
        return None
    median = statistics.median(earlier_ms)
    if duration_ms < median * factor or duration_ms - median < min_gap_ms:
        return None
    ratio = duration_ms / median if median > 0 else float("inf")
    return Regression(duration_ms, median, len(earlier_ms), round(ratio, 1))


HISTORY = 50
"""Earlier runs the median is taken over: the recent ones, so a shape that became slow for good
stops alerting once its slow runs are the usual."""

_QUERY = """
SELECT r.duration_ms, r.started_at
FROM runs r JOIN statements s ON s.id = r.statement_id
WHERE s.fingerprint = ? AND r.database = ? AND r.success = 1 AND r.duration_ms IS NOT NULL AND r.started_at < ?
ORDER BY r.started_at DESC
LIMIT ?
"""


def shape_of(sql: str, dialect: str) -> str:
    """The fingerprint memory files ``sql`` under (redacted first, as memory stores it)."""
    from aishell.engine.memory.service import shape_fingerprint

    text = redact_statement(sql.strip(), dialect)
    return shape_fingerprint(text, dialect, lex(text))


async def check_run(
    path: str | Path,
    database: str,
    sql: str,
    dialect: str,
    duration_ms: float,
    before: float,
    *,
    factor: float = 3.0,
    min_gap_ms: float = 50.0,
    min_runs: int = 3,
) -> Regression | None:
    """Whether the run of ``sql`` on ``database`` (a redacted URL, as memory records it) that took
    ``duration_ms`` is a regression against the shape's runs that started before ``before``
    (epoch seconds: this run's start, so whether memory has recorded it yet does not matter).
    None as well when the memory file is missing or unreadable: an alert is never worth an error."""
    return await asyncio.to_thread(
        _check, Path(path), database, sql, dialect, duration_ms, before, factor, min_gap_ms, min_runs
    )


def _check(
    path: Path, database: str, sql: str, dialect: str, duration_ms: float, before: float,
    factor: float, min_gap_ms: float, min_runs: int,
) -> Regression | None:
    if not sql.strip() or not path.exists():
        return None
    try:
        shape = shape_of(sql, dialect)
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            rows = conn.execute(_QUERY, (shape, database, before, HISTORY)).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, ValueError, OSError):
        return None
    found = regression(duration_ms, [float(r[0]) for r in rows], factor=factor, min_gap_ms=min_gap_ms, min_runs=min_runs)
    if found is None:
        return None
    fast = next((float(r[1]) for r in rows if float(r[0]) <= found.median_ms), None)
    return Regression(found.duration_ms, found.median_ms, found.runs, found.factor, fast)


# -- plans kept across restarts ---------------------------------------------------------------
#
# A small SQLite file beside memory's, not a table in it: memory's file is written by its store's
# one writer (bulk imports hold it for seconds) and read here read-only so a check never waits;
# a plan written at the end of a run would be a second writer on that file. This one is a bounded
# cache (two plans a shape, PLAN_SHAPES shapes), safe to lose: damaged, it is moved aside and
# started afresh, and memory's schema and size targets are untouched.

PLANS_FILE = "plans.db"
"""The file beside memory's that keeps the compact plans."""
PLAN_SHAPES = 2000
"""Statement shapes (per database) whose plans are kept; the least recently run go first."""
PLAN_NODES = 400
"""Nodes kept of one plan (a plan is kept whole up to this; the tree's top when larger)."""
KINDS = ("fast", "slow")

_PLANS_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    database TEXT NOT NULL,
    shape TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('fast', 'slow')),
    started_at REAL NOT NULL,
    duration_ms REAL NOT NULL,
    nodes TEXT NOT NULL,
    PRIMARY KEY (database, shape, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS plans_recent ON plans (started_at);
"""


@dataclass(frozen=True, slots=True)
class KeptPlan:
    """A run's compact plan (``nodes``: the plan tree's dicts) with when it started and how long
    it took."""

    started_at: float
    duration_ms: float
    nodes: list


def plans_path(memory_path: str | Path) -> Path:
    """Where the plans of the memory file at ``memory_path`` are kept."""
    return Path(memory_path).with_name(PLANS_FILE)


async def keep_plan(
    memory_path: str | Path, database: str, sql: str, dialect: str, kind: str, started_at: float, duration_ms: float, nodes: list
) -> bool:
    """Keep ``nodes`` as the last ``kind`` (fast or slow) plan of ``sql``'s shape on ``database``,
    replacing the one kept before. False when it could not be written (never raises: a plan kept
    is a nicety, never worth an error)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return await asyncio.to_thread(_keep, plans_path(memory_path), database, sql, dialect, kind, started_at, duration_ms, nodes)


async def last_plan(memory_path: str | Path, database: str, sql: str, dialect: str, kind: str = "fast") -> KeptPlan | None:
    """The ``kind`` plan kept of ``sql``'s shape on ``database``, or None (none kept, or the file
    is missing or unreadable)."""
    return await asyncio.to_thread(_last, plans_path(memory_path), database, sql, dialect, kind)


def _connect(path: Path) -> sqlite3.Connection:
    from aishell.engine.files import private_file

    private_file(path)
    conn = sqlite3.connect(path, timeout=2)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_PLANS_SCHEMA)
    return conn


def _keep(path: Path, database: str, sql: str, dialect: str, kind: str, started_at: float, duration_ms: float, nodes: list) -> bool:
    import json

    try:
        shape = shape_of(sql, dialect)
        data = json.dumps([_redacted(node) for node in nodes[:PLAN_NODES]], ensure_ascii=False, default=str)
    except (ValueError, TypeError):
        return False
    for attempt in range(2):
        try:
            conn = _connect(path)
            try:
                with conn:
                    conn.execute(
                        "INSERT OR REPLACE INTO plans VALUES (?, ?, ?, ?, ?, ?)", (database, shape, kind, started_at, duration_ms, data)
                    )
                    conn.execute(
                        "DELETE FROM plans WHERE database = ? AND shape IN (SELECT shape FROM plans WHERE database = ? "
                        "GROUP BY shape ORDER BY max(started_at) DESC LIMIT -1 OFFSET ?)",
                        (database, database, PLAN_SHAPES),
                    )
                return True
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            if attempt or not path.exists():
                return False
            _move_aside(path)  # damaged (not a database, malformed): start afresh once
        except (sqlite3.Error, OSError):
            return False
    return False


def _last(path: Path, database: str, sql: str, dialect: str, kind: str) -> KeptPlan | None:
    import json

    if not path.exists():
        return None
    try:
        shape = shape_of(sql, dialect)
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            row = conn.execute(
                "SELECT started_at, duration_ms, nodes FROM plans WHERE database = ? AND shape = ? AND kind = ?", (database, shape, kind)
            ).fetchone()
        finally:
            conn.close()
        return KeptPlan(float(row[0]), float(row[1]), json.loads(row[2])) if row else None
    except (sqlite3.Error, ValueError, OSError):
        return None


def _redacted(node: dict) -> dict:
    """A plan node with passwords masked in its conditions (a filter may quote a literal)."""
    from aishell.engine.redact import redact_text

    conditions = node.get("conditions")
    if not conditions:
        return node
    return {**node, "conditions": [(label, redact_text(str(text))) for label, text in conditions]}


def _move_aside(path: Path) -> None:
    """A damaged plans file is renamed (never deleted), with its WAL side files."""
    import os
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    for suffix in ("", "-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            try:
                os.replace(side, Path(f"{path}.damaged-{stamp}{suffix}"))
            except OSError:
                pass


__all__ = ["Regression", "regression", "check_run", "shape_of", "HISTORY", "KeptPlan", "keep_plan", "last_plan", "plans_path"]
