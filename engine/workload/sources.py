"""Where a workload comes from: ``pg_stat_statements`` (the server's own counts), memory (what
the user ran in AIShell on that database) or a file of statements; each grouped by fingerprint,
so ``WHERE id = 7`` and ``WHERE id = $1`` are one shape.

>>> a = WorkloadStatement("f1", "SELECT 1 FROM t WHERE id = 7", calls=10, mean_ms=2.0, sources=("memory",))
>>> b = WorkloadStatement("f1", "SELECT 1 FROM t WHERE id = $1", calls=900, mean_ms=1.5, sources=("pg_stat_statements",))
>>> (m,) = merge([b], [a])
>>> m.calls, m.mean_ms, m.text, m.sources
(900, 1.5, 'SELECT 1 FROM t WHERE id = 7', ('pg_stat_statements', 'memory'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from aishell.engine.errors import ConfigurationError
from aishell.engine.statements import describe
from aishell.engine.statements.fingerprint import fingerprint

KINDS = ("select", "update", "delete", "insert")
"""The statements a workload keeps: the ones an index can speed up or slow down."""
_OWN = re.compile(r"\b(?:hypopg|pg_stat_statements)\w*|\b(?:information_schema\.\w+|pg_\w+)\b(?!\s*\()", re.I)
"""A name that marks a statement reading the catalog (``pg_class``, ``pg_stat_statements``) or
the advisor's own (HypoPG): not the application's. Other functions (``pg_size_pretty(``) do
not count."""


@dataclass(frozen=True, slots=True)
class WorkloadStatement:
    """One statement shape: a text to plan (with values when memory has one, else with ``$n``),
    how many times it ran and its mean time (None when the source does not say)."""

    fingerprint: str
    text: str
    calls: int = 1
    mean_ms: float | None = None
    sources: tuple[str, ...] = ()

    @property
    def total_ms(self) -> float | None:
        return self.calls * self.mean_ms if self.mean_ms is not None else None

    @property
    def weight(self) -> float:
        """What this shape costs the server: calls × mean time, or the calls alone without times."""
        return self.total_ms if self.total_ms is not None else float(self.calls)

    @property
    def kind(self) -> str:
        return describe(self.text, "postgres").kind


def _keep(text: str) -> bool:
    if _OWN.search(text) or text.lstrip()[:7].lower() == "explain":
        return False
    return describe(text, "postgres").kind in KINDS


async def from_pg_stat_statements(conn, *, limit: int = 1000) -> list[WorkloadStatement]:
    """The current database's statements in ``pg_stat_statements``, heaviest first.
    ConfigurationError when the extension is not installed in this database."""
    present = await conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if not present.rows or not present.rows[0][0]:
        raise ConfigurationError(
            "pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements, "
            "with shared_preload_libraries): use --from memory or a FILE"
        )
    result = await conn.execute(
        "SELECT s.query, sum(s.calls)::bigint, sum(s.total_exec_time) / greatest(sum(s.calls), 1) "
        "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
        "WHERE d.datname = current_database() GROUP BY s.query "
        "ORDER BY sum(s.total_exec_time) DESC LIMIT $1",
        [limit * 2],
    )
    shapes = [
        WorkloadStatement(fingerprint(text), text, int(calls), float(mean), ("pg_stat_statements",))
        for text, calls, mean in result.rows
        if text and _keep(text)
    ]
    return _grouped(shapes)[:limit]


async def from_memory(path: str | Path, database: str, *, limit: int = 1000) -> list[WorkloadStatement]:
    """What memory recorded on ``database`` (its redacted URL), heaviest first."""
    from aishell.engine.memory.fingerprints import shapes_on

    shapes = await shapes_on(path, database, limit=limit * 2)
    out = [WorkloadStatement(fingerprint(s.text), s.text, s.calls, s.mean_ms, ("memory",)) for s in shapes if _keep(s.text)]
    return _grouped(out)[:limit]


def from_file(path: str | Path, *, limit: int = 1000) -> list[WorkloadStatement]:
    """The statements of an SQL file, each shape counted once a time it appears (no times)."""
    from aishell.engine.analyzer.pipeline import split_statements

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    shapes = [WorkloadStatement(fingerprint(s.text), s.text, 1, None, ("file",)) for s in split_statements(text) if s.text and _keep(s.text)]
    return _grouped(shapes)[:limit]


def merge(*workloads: list[WorkloadStatement]) -> list[WorkloadStatement]:
    """One list by fingerprint. Counts and times come from the first source that has them (pass
    pg_stat_statements first: the server saw every call); the text from memory when it has one
    (real values plan better than ``$n``)."""
    merged: dict[str, WorkloadStatement] = {}
    for workload in workloads:
        for item in workload:
            known = merged.get(item.fingerprint)
            if known is None:
                merged[item.fingerprint] = item
                continue
            text = item.text if "memory" in item.sources and "memory" not in known.sources else known.text
            merged[item.fingerprint] = replace(known, text=text, sources=known.sources + tuple(s for s in item.sources if s not in known.sources))
    return sorted(merged.values(), key=lambda s: s.weight, reverse=True)


def _grouped(items: list[WorkloadStatement]) -> list[WorkloadStatement]:
    """Items of one source with the same fingerprint summed (calls) and averaged (time)."""
    out: dict[str, WorkloadStatement] = {}
    for item in items:
        known = out.get(item.fingerprint)
        if known is None:
            out[item.fingerprint] = item
            continue
        calls = known.calls + item.calls
        if known.mean_ms is not None and item.mean_ms is not None:
            mean = (known.calls * known.mean_ms + item.calls * item.mean_ms) / calls
        else:
            mean = known.mean_ms if known.mean_ms is not None else item.mean_ms
        out[item.fingerprint] = replace(known, calls=calls, mean_ms=mean)
    return sorted(out.values(), key=lambda s: s.weight, reverse=True)
