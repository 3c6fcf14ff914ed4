"""Which statements a workload is: ``pg_stat_statements`` and AIShell's memory merged by
fingerprint (the server's counts first), or one of them, or an SQL file. The one place the CLI
(``aishell advise``) and the workbench (``\\advise``) gather a workload from.

    statements, sources = await collect(conn, memory_path=settings.memory_path, database=url)
"""

from __future__ import annotations

from pathlib import Path

from aishell.engine.errors import ConfigurationError
from aishell.engine.workload.sources import WorkloadStatement, from_file, from_memory, from_pg_stat_statements, merge

SOURCES = ("memory", "pg_stat_statements")
"""The named sources; anything else is an SQL file."""


async def collect(
    conn,
    *,
    memory_path: str | Path | None,
    database: str,
    source: str | None = None,
    limit: int = 200,
) -> tuple[list[WorkloadStatement], list[str]]:
    """The ``limit`` heaviest statement shapes and the sources they came from. ``source`` None:
    pg_stat_statements and memory, whichever exist; ``memory`` / ``pg_stat_statements``: that one
    (ConfigurationError when it is missing); anything else: the SQL file at that path.
    ConfigurationError as well when no source holds a statement."""
    workloads, sources = [], []
    if source in (None, "pg_stat_statements"):
        try:
            workloads.append(await from_pg_stat_statements(conn, limit=limit))
            sources.append("pg_stat_statements")
        except ConfigurationError:
            if source is not None:
                raise
    if source in (None, "memory"):
        if memory_path is None and source is not None:
            raise ConfigurationError("memory is switched off for this session: use --from pg_stat_statements or a FILE")
        if memory_path is not None and (source is not None or Path(memory_path).exists()):
            workloads.append(await from_memory(memory_path, database, limit=limit))
            sources.append("memory")
    if source not in (None, *SOURCES):
        workloads.append(from_file(source, limit=limit))
        sources.append(source)
    statements = merge(*workloads)[:limit]
    if not statements:
        where = " or ".join(sources) or "pg_stat_statements or memory"
        raise ConfigurationError(f"no statements to advise on from {where}: run some on this database first")
    return statements, sources
