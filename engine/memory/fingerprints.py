"""What memory knows about each statement shape on one database: how often it ran, how long it
took, and one text of it to plan. Read-only, straight from the memory file, for the workload
advisor (``aishell advise --from memory``); the file is opened with ``mode=ro``, so a reader
never blocks or changes the workbench writing it.

    shapes = await shapes_on(settings.memory_path, "postgresql://app@db/shop")
    for shape in shapes[:5]:
        print(shape.calls, shape.mean_ms, shape.text)
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from aishell.engine.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class Shape:
    """One fingerprint's successful runs on the database: ``calls``, their ``mean_ms`` and the
    most recent statement text of that shape."""

    fingerprint: str
    text: str
    calls: int
    mean_ms: float


_QUERY = """
SELECT s.fingerprint, count(*), avg(r.duration_ms),
       (SELECT s2.text FROM statements s2 WHERE s2.fingerprint = s.fingerprint ORDER BY s2.last_seen DESC LIMIT 1)
FROM runs r JOIN statements s ON s.id = r.statement_id
WHERE r.database = ? AND r.success = 1 AND r.duration_ms IS NOT NULL
GROUP BY s.fingerprint
ORDER BY count(*) * avg(r.duration_ms) DESC
LIMIT ?
"""


async def shapes_on(path: str | Path, database: str, *, limit: int = 1000) -> list[Shape]:
    """The shapes run on ``database`` (a redacted URL, as memory records it), heaviest first
    (calls × mean time). [] when memory has none; ConfigurationError when the file is missing
    or cannot be read."""
    return await asyncio.to_thread(_read, Path(path), database, limit)


def _read(path: Path, database: str, limit: int) -> list[Shape]:
    if not path.exists():
        raise ConfigurationError(f"no memory file at {path}: run statements in the workbench first, or use --from pg_stat_statements")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot read the memory file {path}: {exc}") from None
    try:
        rows = conn.execute(_QUERY, (database, limit)).fetchall()
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot read the memory file {path}: {exc}") from None
    finally:
        conn.close()
    return [Shape(r[0], r[3], int(r[1]), float(r[2] or 0.0)) for r in rows if r[3]]
