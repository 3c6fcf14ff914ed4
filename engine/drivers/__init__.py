"""Driver registry: the URL's scheme picks the backend; each is imported only when used.

:func:`check_target` refuses the targets that are usage errors before anything connects or
starts (front ends call it first, so ``aishell sqlite://`` exits at once with one line):

>>> check_target("sqlite://")
Traceback (most recent call last):
...
aishell.engine.errors.UnsupportedURL: 'sqlite://' names no database file: use sqlite:///path/to/file.db (or sqlite://:memory: for a throwaway in-memory database)
"""

from __future__ import annotations

from typing import Any

from aishell.engine.drivers.base import Driver
from aishell.engine.drivers.url import check_sqlite_file, classify, redact_url, sqlite_path


def driver_for(
    target: str, *, read_only: bool = False, create: bool = False, statement_timeout: float = 0.0, **options: Any
) -> Driver:
    """A driver for ``target`` (URL or SQLite path).

    ``statement_timeout`` (seconds, 0: none) stops statements that run longer on the server
    (PostgreSQL's ``statement_timeout``, MongoDB's ``maxTimeMS``); SQLite has no server to
    enforce one and ignores it, as it ignores ``options``.

    Raises UnsupportedURL for an unknown scheme. Imports asyncpg/aiosqlite/pymongo lazily.
    """
    kind = classify(target)
    if statement_timeout:
        options["statement_timeout"] = statement_timeout
    if kind == "postgres":
        from aishell.engine.drivers.postgres import PostgresDriver

        return PostgresDriver(target, read_only=read_only, **options)
    if kind == "sqlite":
        from aishell.engine.drivers.sqlite import SQLiteDriver

        return SQLiteDriver(target, read_only=read_only, create=create)
    from aishell.engine.drivers.mongo import MongoDriver  # noqa: PLC0415 - optional backend

    return MongoDriver(target, read_only=read_only, **options)


def check_target(target: str, *, create: bool = False) -> None:
    """Refuse ``target`` when it is a usage error, without importing a driver or connecting.

    Raises UnsupportedURL (unknown scheme, a sqlite URL that names no file) and, for SQLite, what
    :func:`check_sqlite_file` raises.
    """
    if classify(target) == "sqlite":
        path = sqlite_path(target)
        if path != ":memory:":
            check_sqlite_file(path, create=create)


__all__ = ["driver_for", "check_target", "check_sqlite_file", "classify", "redact_url"]
