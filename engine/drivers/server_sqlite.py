"""SQLite's side of the server pane: there is no server, so no sessions, statements or signals;
what exists is the file: its pages, free pages, journal mode and write-ahead log, and a
consistency check run on demand (never on a timer: it reads the whole file)."""

from __future__ import annotations

import os
from typing import Any

from aishell.engine.drivers.server import Activity, Health, ServerViewUnavailable, Statements

FILE_SQL = (
    "SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count),"
    " (SELECT page_size FROM pragma_page_size), (SELECT journal_mode FROM pragma_journal_mode),"
    " (SELECT file FROM pragma_database_list WHERE name = 'main')"
)
"""One statement for every figure (table-valued pragmas)."""


class SQLiteProbe:
    """The file's figures; SQLite has no sessions to list or signal."""

    ACTIVITY = False
    STATEMENTS = False
    SIGNALS = False

    async def activity(self, conn: Any) -> Activity:
        raise ServerViewUnavailable("SQLite has no server: no other sessions to list")

    async def statements(self, conn: Any, *, limit: int = 200) -> Statements:
        raise ServerViewUnavailable("SQLite keeps no per-statement statistics")

    async def health(self, conn: Any) -> Health:
        (pages, free, page_size, journal, path), = (await conn.execute(FILE_SQL)).rows
        facts = [
            ("file", path or ":memory:"),
            ("size", _size(pages * page_size)),
            ("pages", f"{pages:,} of {_size(page_size)}"),
            ("free pages", f"{free:,} ({free / pages:.0%})" if pages else "0"),
            ("journal", journal),
        ]
        if path and journal == "wal":
            try:
                wal = os.path.getsize(path + "-wal")
            except OSError:
                wal = 0
            facts.append(("WAL", _size(wal)))
        facts.append(("check", "on demand (i)"))
        return Health(facts=tuple(facts))

    async def signal(self, conn: Any, pid: int, *, terminate: bool) -> bool:
        raise ServerViewUnavailable("SQLite has no server: no sessions to signal")

    async def check(self, conn: Any, *, full: bool) -> str:
        pragma = "integrity_check" if full else "quick_check"
        rows = (await conn.execute(f"PRAGMA {pragma}")).rows
        return "\n".join(str(row[0]) for row in rows)


def _size(count: int) -> str:
    """Bytes for people.

    >>> _size(512), _size(4096), _size(3 * 1024 * 1024)
    ('512 B', '4.0 KB', '3.0 MB')
    """
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"  # pragma: no cover
