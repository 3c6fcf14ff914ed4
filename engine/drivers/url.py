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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from aishell.engine.errors import ConnectionFailed, DatabaseNotFound, UnsupportedURL
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


def check_sqlite_file(path: str, *, create: bool) -> None:
    """Refuse to open ``path`` as a database unless it is one, or ``create`` allows making it.

    A missing file, and an empty (0-byte) one, are only made into databases with ``create``:
    SQLite would create the first and write its header into the second, so a typo never leaves a
    database behind. Raises DatabaseNotFound, or ConnectionFailed for a directory.
    """
    file = Path(path)
    if file.is_dir():
        raise ConnectionFailed(f"{path!r} is a directory, not a SQLite database")
    if create:
        return
    if not file.exists():
        raise DatabaseNotFound(f"SQLite file {path!r} does not exist (pass --create to make a new database)")
    if file.is_file() and file.stat().st_size == 0:
        raise DatabaseNotFound(f"SQLite file {path!r} is empty (0 bytes), not a database yet (pass --create to make it one)")

@dataclass(frozen=True, slots=True)
class PostgresURL:
    """A ``postgresql://`` URL split for the client tools (pg_dump, pg_restore), which must get
    the password apart from the command line, and for a description without it.

    >>> u = postgres_url("postgresql://bob:s%3Acret@db:6543/shop?sslmode=require&password=x")
    >>> u.without_password, u.password, (u.host, u.port, u.user, u.database)
    ('postgresql://bob@db:6543/shop?sslmode=require', 'x', ('db', 6543, 'bob', 'shop'))
    """

    without_password: str
    """The URL with its userinfo password and ``password=`` query parameter removed."""
    password: str | None
    """The ``password=`` query value, else the userinfo password, else None."""
    host: str
    port: int
    user: str | None
    database: str | None


def postgres_url(url: str) -> PostgresURL:
    """Split a PostgreSQL URL (see :class:`PostgresURL`). Raises UnsupportedURL when it is not one."""
    if classify(url) != "postgres":
        raise UnsupportedURL(f"{redact_url(url)!r} is not a postgresql:// URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsupportedURL(f"{redact_url(url)!r} is not a valid URL: {exc}") from None
    netloc, password = parts.netloc, None
    if "@" in netloc:
        userinfo, hostport = netloc.rsplit("@", 1)
        user, sep, secret = userinfo.partition(":")
        if sep:
            password = unquote(secret)
        netloc = f"{user}@{hostport}" if user else hostport
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == "password":
            password = value
        else:
            query.append((key, value))
    params = dict(query)
    query_port = params.get("port", "")
    return PostgresURL(
        without_password=urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), "")),
        password=password,
        host=params.get("host") or parts.hostname or "localhost",
        port=int(query_port) if query_port.isdigit() else port or 5432,
        user=unquote(parts.username) if parts.username else params.get("user"),
        database=unquote(parts.path.lstrip("/")) or params.get("dbname"),
    )


TLS_KEYS = {
    "postgres": ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslnegotiation", "ssl_min_protocol_version"),
    "mongo": ("tls", "ssl", "tlsCAFile", "tlsCertificateKeyFile", "tlsAllowInvalidCertificates", "tlsAllowInvalidHostnames", "tlsInsecure"),
}
"""The URL parameters that say how TLS is used, by driver: passed through to asyncpg and PyMongo."""


def tls_settings(url: str) -> list[tuple[str, str]]:
    """The TLS parameters ``url`` carries, in the driver's names; for PostgreSQL ``sslmode`` is
    always there (libpq's default, ``prefer``, when the URL does not say).

    >>> tls_settings("postgresql://db/shop?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x")
    [('sslmode', 'verify-full'), ('sslrootcert', '/etc/ca.pem')]
    >>> tls_settings("mongodb://h/db?tls=true&tlsCAFile=ca.pem"), tls_settings("sqlite:///x.db")
    ([('tls', 'true'), ('tlsCAFile', 'ca.pem')], [])
    """
    try:
        kind = classify(url)
    except UnsupportedURL:
        return []
    if kind not in TLS_KEYS:
        return []
    keys = {key.lower(): key for key in TLS_KEYS[kind]}
    found = [(keys[key.lower()], value) for key, value in parse_qsl(urlsplit(url).query) if key.lower() in keys]
    if kind == "postgres" and not any(key == "sslmode" for key, _ in found):
        found.insert(0, ("sslmode", "prefer (default)"))
    return found


def _scheme(target: str) -> str:
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", target)
    if not match or len(match.group(1)) == 1:  # "C:" drive letters are paths
        return ""
    return match.group(1).lower()


__all__ = ["PostgresURL", "TLS_KEYS", "tls_settings", "check_sqlite_file", "classify", "postgres_url", "sqlite_path", "redact_url", "redact_text", "url_password", "urlunsplit"]
