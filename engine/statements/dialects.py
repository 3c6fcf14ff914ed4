"""SQL dialect names and sqlglot's objects for them, kept once per process (and per thread).

Users and URLs say ``postgresql``, ``pg`` or ``sqlite3``; sqlglot says ``postgres`` and
``sqlite``. :func:`normalize_dialect` maps one to the other, :func:`dialect_of` keeps sqlglot's
dialect object per name, and :func:`tools` each thread's tokenizer and parser for it (building
them costs more than tokenizing a short statement).

>>> normalize_dialect("PostgreSQL"), normalize_dialect("sqlite3"), normalize_dialect(None)
('postgres', 'sqlite', 'postgres')
>>> dialect_of("sqlite") is dialect_of("sqlite")
True
"""

from __future__ import annotations

import threading

from sqlglot.dialects import Dialect

DIALECT_ALIASES = {"postgresql": "postgres", "pg": "postgres", "sqlite3": "sqlite", "": "postgres"}
_DIALECTS: dict[str, Dialect] = {}
_LOCAL = threading.local()


def normalize_dialect(name: str | None) -> str:
    """sqlglot's name for a dialect: ``postgresql``/``pg`` → ``postgres``, ``sqlite3`` → ``sqlite``,
    lower-cased, ``postgres`` when empty."""
    lowered = (name or "").strip().lower()
    return DIALECT_ALIASES.get(lowered, lowered)


def dialect_of(name: str | None) -> Dialect:
    """The sqlglot dialect object (kept per name); ValueError for an unknown name."""
    name = name or "postgres"
    found = _DIALECTS.get(name)
    if found is None:
        found = _DIALECTS[name] = Dialect.get_or_raise(name)
    return found


def tools(dialect: Dialect):
    """This thread's (tokenizer, parser) for ``dialect``: sqlglot resets both on every call, and
    building them costs more than tokenizing a short statement."""
    cached = getattr(_LOCAL, "tools", None)
    if cached is None:
        cached = _LOCAL.tools = {}
    found = cached.get(id(dialect))
    if found is None:
        found = cached[id(dialect)] = (dialect.tokenizer(), dialect.parser())
    return found


__all__ = ["DIALECT_ALIASES", "normalize_dialect", "dialect_of", "tools"]
