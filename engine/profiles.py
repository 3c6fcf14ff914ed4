"""Saved connections: the ``[connections.NAME]`` tables of ``config.toml``, checked at load.

A profile names a target the way a DBA keeps it: a URL or its parts, an SSH hop, whether it is
read-only or production, a label and a colour, and server options. Passwords never live here:
the passfile (``PGPASSFILE`` or ``~/.pgpass``), the OS keyring or a masked prompt supply them.

>>> shop = parse_profiles({"shop": {"host": "db.internal", "user": "bob", "database": "shop",
...     "production": True, "options": {"search_path": "app,public"}}}, "config.toml")["shop"]
>>> shop.url, shop.colour, shop.read_only
('postgresql://bob@db.internal/shop?search_path=app%2Cpublic', 'red', False)
>>> parse_profiles({"x": {"url": "postgresql://bob:s3cret@db/shop"}}, "config.toml")
Traceback (most recent call last):
...
aishell.engine.errors.ConfigurationError: config.toml: connections.x.url = 'postgresql://bob:***@db/shop': passwords never go in config.toml (use ~/.pgpass, the keyring or the prompt)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from aishell.engine.errors import ConfigurationError
from aishell.engine.redact import PASSWORD_KEYS, redact_url, url_password

COLOURS = ("none", "red", "yellow", "green", "blue")
"""Colours a profile may carry in the header (each a theme variable: $error, $warning, …)."""

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
"""What a profile may be called: one word, so ``aishell NAME`` never reads as a path or URL."""

_KEYS = ("url", "scheme", "host", "port", "user", "database", "path", "service", "ssh", "read_only", "production", "label", "colour", "options")
_STRINGS = ("url", "scheme", "host", "user", "database", "path", "service", "ssh", "label")


@dataclass(frozen=True, slots=True)
class Profile:
    """One saved connection. ``url`` is complete (parts and options joined) and has no password."""

    name: str
    url: str
    """The target to open: ``postgresql://…`` with the options as query parameters, ``sqlite:///…``,
    ``mongodb://…``, or ``service=NAME`` (resolved against pg_service.conf when connecting)."""
    ssh: str = ""
    """``[user@]host[:port]`` or a Host alias of ``~/.ssh/config`` to tunnel through ("": direct)."""
    read_only: bool = False
    """Open it read-only whatever the command line says."""
    production: bool = False
    """A production server: shown in red and named so before connecting."""
    label: str = ""
    """What the header and the picker call it (the name when empty)."""
    colour: str = "none"
    """The header's colour for it: one of :data:`COLOURS` (production defaults to red)."""
    options: dict[str, str] = field(default_factory=dict)
    """Server options (``statement_timeout``, ``search_path``, ``application_name``, TLS keys),
    already part of :attr:`url`; kept to show them."""

    @property
    def title(self) -> str:
        """The label, or the name."""
        return self.label or self.name

    @property
    def display_url(self) -> str:
        return redact_url(self.url)


def is_profile_name(target: str) -> bool:
    """Whether ``target`` could name a profile rather than a URL or a file (``shop``, not
    ``shop.db`` or ``./shop``)."""
    return bool(NAME.fullmatch(target)) and not target.lower().endswith((".db", ".sqlite", ".sqlite3", ".db3"))


def parse_profiles(table: Any, source: str) -> dict[str, Profile]:
    """The ``[connections]`` table as profiles by name; ConfigurationError (one line naming the
    key and where it came from) for anything that cannot be used."""
    if not isinstance(table, Mapping):
        raise ConfigurationError(f"{source}: connections = {table!r}: must be a table ([connections.NAME])")
    return {name: parse_profile(name, values, source) for name, values in table.items()}


def parse_profile(name: str, values: Any, source: str) -> Profile:
    """One ``[connections.NAME]`` table as a Profile (see :func:`parse_profiles`)."""
    where = f"connections.{name}"
    if not NAME.fullmatch(name) or not is_profile_name(name):
        raise ConfigurationError(f"{source}: [{where}]: a name is one word of letters, digits, '_', '-' or '.' (not a file name)")
    if not isinstance(values, Mapping):
        raise ConfigurationError(f"{source}: {where} = {values!r}: must be a table ([{where}])")

    def refuse(key: str, value: Any, problem: str) -> ConfigurationError:
        shown = redact_url(value) if isinstance(value, str) else value
        return ConfigurationError(f"{source}: {where}.{key} = {shown!r}: {problem}")

    for key, value in values.items():
        if key.lower() in PASSWORD_KEYS:
            raise ConfigurationError(f"{source}: {where}.{key}: passwords never go in config.toml (use ~/.pgpass, the keyring or the prompt)")
        if key not in _KEYS:
            raise ConfigurationError(f"{source}: unknown setting {where}.{key} (known: {', '.join(_KEYS)})")
        if key in _STRINGS and not isinstance(value, str):
            raise refuse(key, value, "not a string")
        if key in ("read_only", "production") and not isinstance(value, bool):
            raise refuse(key, value, "not a boolean (true or false)")
    port = values.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise refuse("port", port, "not a port number (1-65535)")
    options = values.get("options", {})
    if not isinstance(options, Mapping):
        raise refuse("options", options, f"must be a table ([{where}.options])")
    for key, value in options.items():
        if key.lower() in PASSWORD_KEYS:
            raise ConfigurationError(f"{source}: {where}.options.{key}: passwords never go in config.toml (use ~/.pgpass, the keyring or the prompt)")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise refuse(f"options.{key}", value, "not a string or a number")
    options = {key: _option_text(value) for key, value in options.items()}
    production = values.get("production", False)
    colour = values.get("colour", "red" if production else "none")
    if colour not in COLOURS:
        raise refuse("colour", colour, f"not one of {', '.join(COLOURS)}")
    url = values.get("url")
    parts = [key for key in ("scheme", "host", "port", "user", "database", "path", "service") if key in values]
    if url is not None and parts:
        raise ConfigurationError(f"{source}: {where}: give url or its parts ({', '.join(parts)}), not both")
    if url is not None:
        if url_password(url) is not None or any(k.lower() in PASSWORD_KEYS for k, _ in parse_qsl(urlsplit(url).query)):
            raise refuse("url", url, "passwords never go in config.toml (use ~/.pgpass, the keyring or the prompt)")
        url = with_options(url, options)
    else:
        url = _from_parts(values, options, refuse)
    return Profile(
        name=name, url=url, ssh=values.get("ssh", ""), read_only=values.get("read_only", False), production=production,
        label=values.get("label", ""), colour=colour, options=options,
    )


def with_options(url: str, options: Mapping[str, str]) -> str:
    """``url`` with ``options`` added as query parameters (the URL's own values win).

    >>> with_options("postgresql://db/shop?sslmode=require", {"application_name": "nightly"})
    'postgresql://db/shop?sslmode=require&application_name=nightly'
    """
    if not options or "://" not in url:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    have = {key for key, _ in query}
    query += [(key, value) for key, value in options.items() if key not in have]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _from_parts(values: Mapping[str, Any], options: Mapping[str, str], refuse: Any) -> str:
    """The URL a profile's parts describe."""
    if "service" in values:
        others = [key for key in ("scheme", "host", "port", "path") if key in values]
        if others:
            raise refuse("service", values["service"], f"a service names its own server: leave out {', '.join(others)}")
        query = {"service": values["service"], **({"user": values["user"]} if "user" in values else {}), **({"dbname": values["database"]} if "database" in values else {})}
        return "service=" + values["service"] if len(query) == 1 and not options else "postgresql://?" + urlencode({**query, **options})
    scheme = values.get("scheme", "sqlite" if "path" in values else "postgresql")
    if scheme == "sqlite":
        if "path" not in values:
            raise refuse("scheme", scheme, "a SQLite profile needs path")
        return f"sqlite:///{Path(values['path']).expanduser().resolve()}"
    if scheme not in ("postgresql", "postgres", "mongodb", "mongodb+srv"):
        raise refuse("scheme", scheme, "not one of postgresql, mongodb, mongodb+srv, sqlite")
    if "host" not in values:
        raise refuse("host", None, f"a {scheme} profile needs host (or url)")
    user = quote(values["user"], safe="") + "@" if "user" in values else ""
    host = values["host"]
    host = f"[{host}]" if ":" in host else host
    port = f":{values['port']}" if "port" in values else ""
    path = "/" + quote(values["database"], safe="") if "database" in values else ""
    return with_options(f"{scheme}://{user}{host}{port}{path}", options)


def _option_text(value: str | int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


__all__ = ["COLOURS", "Profile", "is_profile_name", "parse_profile", "parse_profiles", "with_options"]
