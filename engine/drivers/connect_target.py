"""Where ``\\c`` goes: psql's forms read against the database the session is on. What the
words mean depends on the kind of target (a server's database, a SQLite file), so this lives
with the URLs.

``\\c dbname [user [host [port]]]`` (``-`` keeps a part) stays on the same server with the same
user, host, port and options; the password goes along only while user, host and port stay the
same, as psql does (otherwise libpq's passfile or PGPASSWORD supplies one). A URL is taken as
it is; on SQLite the argument is a file's path.

>>> connect_target("postgresql://bob:pw@db:5432/shop?sslmode=require", "sales")
'postgresql://bob:pw@db:5432/sales?sslmode=require'
>>> connect_target("postgresql://bob:pw@db:5432/shop", "sales alice")
'postgresql://alice@db:5432/sales'
>>> connect_target("postgresql://bob:pw@db:5432/shop", "- - db2 6543")
'postgresql://bob@db2:6543/shop'
>>> connect_target("postgresql://bob:pw@db/shop", '"my db"')
'postgresql://bob:pw@db/my%20db'
>>> connect_target("mongodb://u:p@h1,h2/shop?authSource=admin", "sales")
'mongodb://u:p@h1,h2/sales?authSource=admin'
>>> connect_target("sqlite:////data/shop.db", "/data/other.db")
'sqlite:////data/other.db'
>>> connect_target("/data/shop.db", "postgresql://bob@db/shop")
'postgresql://bob@db/shop'
"""

from __future__ import annotations

import os
import shlex
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from aishell.engine.drivers.url import classify
from aishell.engine.errors import UnsupportedURL

USAGE = "\\c dbname [user [host [port]]], \\c URL, or on SQLite \\c path/to/file.db"


def connect_target(current: str, argument: str) -> str:
    """The URL or path ``\\c argument`` connects to from ``current`` (the session's own
    target, "" when there is none). Raises UnsupportedURL for a form that does not apply."""
    argument = argument.strip()
    if "://" in argument or not current:
        return argument
    try:
        words = shlex.split(argument)
    except ValueError as exc:
        raise UnsupportedURL(f"\\c: {exc} in {argument!r}") from None
    if not words:
        raise UnsupportedURL(f"\\c needs a database: {USAGE}")
    try:
        kind = classify(current)
    except UnsupportedURL:
        return argument
    if kind == "sqlite":
        if len(words) > 1:
            raise UnsupportedURL(f"on SQLite \\c takes one file path (quote a path with spaces): {USAGE}")
        path = os.path.abspath(os.path.expanduser(words[0])) if words[0] != ":memory:" else words[0]
        return path if path == ":memory:" else f"sqlite:///{path}"
    if len(words) == 1 and "=" in words[0]:
        return words[0]  # a libpq conninfo string: the driver says how to write it
    if kind == "mongo":
        if len(words) > 1:
            raise UnsupportedURL("on MongoDB \\c takes a database name or a mongodb:// URL")
        return _replace(current, database=words[0])
    if len(words) > 4:
        raise UnsupportedURL(f"too many arguments: {USAGE}")
    database, user, host, port = (words + ["-"] * 4)[:4]
    if port != "-" and not port.isdigit():
        raise UnsupportedURL(f"port must be a number, got {port!r}: {USAGE}")
    keep = lambda value: None if value == "-" else value  # noqa: E731
    return _replace(current, database=keep(database), user=keep(user), host=keep(host), port=keep(port))


def _replace(url: str, *, database: str | None, user: str | None = None, host: str | None = None, port: str | None = None) -> str:
    """``url`` with the parts given replaced (in the query when the URL keeps them there); its
    password dropped when user, host or port change to something else."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    in_query = dict(query)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    old_user, _, password = userinfo.partition(":")
    head, _, tail = hostport.rpartition(":")
    old_host, old_port = (head, tail) if tail.isdigit() else (hostport, "")
    now = {"user": in_query.get("user") or unquote(old_user), "host": in_query.get("host") or old_host, "port": in_query.get("port") or old_port or "5432"}
    wanted = {"user": user, "host": host, "port": port}
    moved = any(value is not None and value != now[key] for key, value in wanted.items())
    query = [(k, wanted[k] or v if k in wanted else v) for k, v in query if not (moved and k == "password") and not (database is not None and k == "dbname")]
    user_part = quote(user, safe="") if user is not None and "user" not in in_query else old_user
    host_part = host if host is not None and "host" not in in_query else old_host
    port_part = port if port is not None and "port" not in in_query else old_port
    secret = "" if moved or not password else f":{password}"
    netloc = (f"{user_part}{secret}@" if user_part else "") + host_part + (f":{port_part}" if port_part else "")
    path = "/" + quote(database, safe="") if database is not None else parts.path
    rest = f"?{urlencode(query, safe='/:,')}" if query else ""
    return f"{parts.scheme}://{netloc}{path}{rest}"


__all__ = ["connect_target"]
