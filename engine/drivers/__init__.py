"""Driver registry: the URL's scheme picks the backend; each is imported only when used."""

from __future__ import annotations

from typing import Any

from aishell.engine.drivers.base import Driver
from aishell.engine.drivers.url import classify, redact_url


def driver_for(target: str, *, read_only: bool = False, create: bool = False, **options: Any) -> Driver:
    """A driver for ``target`` (URL or SQLite path).

    Raises UnsupportedURL for an unknown scheme. Imports asyncpg/aiosqlite/pymongo lazily.
    """
    kind = classify(target)
    if kind == "postgres":
        from aishell.engine.drivers.postgres import PostgresDriver

        return PostgresDriver(target, read_only=read_only, **options)
    if kind == "sqlite":
        from aishell.engine.drivers.sqlite import SQLiteDriver

        return SQLiteDriver(target, read_only=read_only, create=create)
    from aishell.engine.drivers.mongo import MongoDriver  # noqa: PLC0415 - optional backend

    return MongoDriver(target, read_only=read_only, **options)


__all__ = ["driver_for", "classify", "redact_url"]
