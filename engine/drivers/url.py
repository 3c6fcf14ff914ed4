"""Database targets from URLs or paths; passwords are masked by :mod:`aishell.engine.redact`
(re-exported here for the drivers).

>>> redact_url("postgresql://bob:s3cret@db:5432/shop")
'postgresql://bob:***@db:5432/shop'
>>> classify("/tmp/shop.db")
'sqlite'
>>> classify("host=db password=s3cret")
Traceback (most recent call last):
...
aishell.engine.errors.UnsupportedURL: 'host=db password=***' is a libpq key=value string: write it as a URL, postgresql://user:password@host:port/dbname
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlunsplit

from aishell.engine.errors import UnsupportedURL
from aishell.engine.redact import conninfo_pairs, redact_conninfo, redact_text, redact_url, url_password

POSTGRES_SCHEMES = ("postgresql", "postgres")
SQLITE_SCHEMES = ("sqlite",)
MONGO_SCHEMES = ("mongodb", "mongodb+srv")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")


def classify(target: str) -> str:
    """The driver name for a URL or path: ``postgres``, ``sqlite`` or ``mongo``.

    Raises UnsupportedURL for anything else.
    """
    scheme = _scheme(target)
    if scheme in POSTGRES_SCHEMES:
        return "postgres"
    if scheme in SQLITE_SCHEMES:
        return "sqlite"
    if scheme in MONGO_SCHEMES:
        return "mongo"
    if scheme == "" and (target.lower().endswith(SQLITE_SUFFIXES) or target == ":memory:"):
        return "sqlite"
    if scheme:
        raise UnsupportedURL(
            f"unsupported URL scheme {scheme + '://'!r} in {redact_url(target)!r}: "
            "use postgresql://, sqlite:///path, a .db/.sqlite file or mongodb://"
        )
    if conninfo_pairs(target):
        raise UnsupportedURL(
            f"{redact_conninfo(target)!r} is a libpq key=value string: "
            "write it as a URL, postgresql://user:password@host:port/dbname"
        )
    raise UnsupportedURL(
        f"{redact_text(target)!r} is not a database URL or a .db/.sqlite path "
        "(use postgresql://…, sqlite:///path or mongodb://…)"
    )


def sqlite_path(target: str) -> str:
    """The filesystem path (or ``:memory:``) named by a sqlite URL or bare path.

    An in-memory database is only ever asked for by name (``:memory:``, ``sqlite://:memory:``,
    ``sqlite:///:memory:``): a URL that names nothing (``sqlite://``, ``sqlite:///``,
    ``sqlite:``) raises UnsupportedURL instead of quietly opening a database that vanishes
    with its results.

    >>> sqlite_path("sqlite:///tmp/shop.db"), sqlite_path("sqlite://:memory:")
    ('/tmp/shop.db', ':memory:')
    >>> sqlite_path("sqlite://")
    Traceback (most recent call last):
    ...
    aishell.engine.errors.UnsupportedURL: 'sqlite://' names no database file: use sqlite:///path/to/file.db (or sqlite://:memory: for a throwaway in-memory database)
    """
    if _scheme(target) == "sqlite":
        rest = target.split(":", 1)[1]
        if rest.startswith("///"):
            rest = rest[2:]  # sqlite:///abs/path -> /abs/path ; sqlite:////abs -> //abs
            if rest.startswith("//"):
                rest = rest[1:]
        elif rest.startswith("//"):
            rest = rest[2:]
        rest = rest.split("?", 1)[0]
        if rest in (":memory:", "/:memory:"):
            return ":memory:"
        if rest in ("", "/"):
            raise UnsupportedURL(
                f"{redact_url(target)!r} names no database file: use sqlite:///path/to/file.db "
                "(or sqlite://:memory: for a throwaway in-memory database)"
            )
        return rest
    return str(Path(target).expanduser())


def _scheme(target: str) -> str:
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", target)
    if not match or len(match.group(1)) == 1:  # "C:" drive letters are paths
        return ""
    return match.group(1).lower()


__all__ = ["classify", "sqlite_path", "redact_url", "redact_text", "url_password", "urlunsplit"]
