"""Database targets from URLs or paths, and redaction of passwords for display and storage.

>>> redact_url("postgresql://bob:s3cret@db:5432/shop")
'postgresql://bob:***@db:5432/shop'
>>> classify("/tmp/shop.db")
'sqlite'
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aishell.engine.errors import UnsupportedURL

POSTGRES_SCHEMES = ("postgresql", "postgres")
SQLITE_SCHEMES = ("sqlite",)
MONGO_SCHEMES = ("mongodb", "mongodb+srv")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")

_PASSWORD_IN_QUERY = re.compile(r"(?i)([?&](?:password|passwd|pwd)=)[^&]*")
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)([^/@:]*):([^/@]*)@", re.IGNORECASE)


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
    raise UnsupportedURL(
        f"{target!r} is not a database URL or a .db/.sqlite path "
        "(use postgresql://…, sqlite:///path or mongodb://…)"
    )


def sqlite_path(target: str) -> str:
    """The filesystem path (or ``:memory:``) named by a sqlite URL or bare path."""
    if _scheme(target) == "sqlite":
        rest = target.split(":", 1)[1]
        if rest.startswith("///"):
            rest = rest[2:]  # sqlite:///abs/path -> /abs/path ; sqlite:////abs -> //abs
            if rest.startswith("//"):
                rest = rest[1:]
        elif rest.startswith("//"):
            rest = rest[2:]
        rest = rest.split("?", 1)[0]
        return rest or ":memory:"
    return str(Path(target).expanduser())


def redact_url(url: str) -> str:
    """The URL with passwords (userinfo or query parameter) replaced by ``***``."""
    redacted = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", url)
    return _PASSWORD_IN_QUERY.sub(lambda m: f"{m.group(1)}***", redacted)


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Text with every URL password and each literal secret replaced by ``***``."""
    text = re.sub(
        r"([a-z][a-z0-9+.-]*://[^\s/@:]*:)([^\s/@]*)@",
        lambda m: f"{m.group(1)}***@",
        text,
        flags=re.IGNORECASE,
    )
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _scheme(target: str) -> str:
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", target)
    if not match or len(match.group(1)) == 1:  # "C:" drive letters are paths
        return ""
    return match.group(1).lower()


__all__ = ["classify", "sqlite_path", "redact_url", "redact_text", "url_password", "urlunsplit"]
