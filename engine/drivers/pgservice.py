"""libpq's connection services: ``service=NAME`` read from ``pg_service.conf`` as libpq reads it.

The per-user file (``PGSERVICEFILE``, else ``~/.pg_service.conf``) is searched first, then the
system one (``PGSYSCONFDIR/pg_service.conf``); the first file with the section wins, and keywords
given beside the service override its values. A name found in neither is an error, as in libpq
(asyncpg alone would quietly connect somewhere else).

>>> import pathlib, tempfile
>>> conf = pathlib.Path(tempfile.mkdtemp()) / "services"
>>> _ = conf.write_text("[shop]\\nhost=db.internal\\nport=6543\\ndbname=shop\\nsslmode=require\\n")
>>> service_url("service=shop user=bob", env={"PGSERVICEFILE": str(conf)})
'postgresql://bob@db.internal:6543/shop?sslmode=require'
>>> service_url("postgresql:///?service=nope", env={"PGSERVICEFILE": str(conf)})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
aishell.engine.errors.UnsupportedURL: definition of service 'nope' not found (looked in ...services, ...)
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from aishell.engine.errors import UnsupportedURL
from aishell.engine.redact import conninfo_pairs

_NETLOC_KEYS = ("user", "password", "host", "port", "dbname")


def names_service(target: str) -> bool:
    """Whether ``target`` asks for a service: a conninfo string with ``service=`` or a
    PostgreSQL URL with ``?service=``."""
    return _service_keywords(target) is not None


def service_url(target: str, *, env: Mapping[str, str] | None = None) -> str:
    """The ``postgresql://`` URL for a target that names a service (see :func:`names_service`);
    other targets come back unchanged. Raises UnsupportedURL for a service defined nowhere or a
    file that cannot be read."""
    keywords = _service_keywords(target)
    if keywords is None:
        return target
    env = os.environ if env is None else env
    name = keywords.pop("service")
    values = {**_service_section(name, env), **keywords}
    return _url(values)


def service_files(env: Mapping[str, str]) -> list[Path]:
    """Where libpq looks for services, in its order."""
    files = [Path(env["PGSERVICEFILE"]).expanduser()] if env.get("PGSERVICEFILE") else [Path("~/.pg_service.conf").expanduser()]
    sysconf = env.get("PGSYSCONFDIR") or "/etc/postgresql-common"
    files.append(Path(sysconf) / "pg_service.conf")
    return files


def _service_keywords(target: str) -> dict[str, str] | None:
    if "://" in target:
        parts = urlsplit(target)
        if parts.scheme not in ("postgresql", "postgres"):
            return None
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if "service" not in query:
            return None
        keywords = dict(query)
        if parts.hostname:
            keywords["host"] = parts.hostname
        if parts.port:
            keywords["port"] = str(parts.port)
        if parts.username:
            keywords["user"] = parts.username
        if parts.password:
            keywords["password"] = parts.password
        if parts.path.strip("/"):
            keywords["dbname"] = parts.path.strip("/")
        return keywords
    pairs = conninfo_pairs(target)
    if not pairs or not any(pair.key == "service" for pair in pairs):
        return None
    return {pair.key: pair.value for pair in pairs}


def _service_section(name: str, env: Mapping[str, str]) -> dict[str, str]:
    looked = []
    for path in service_files(env):
        looked.append(str(path))
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError) as exc:
            raise UnsupportedURL(f"{path}: cannot read the service file: {' '.join(str(exc).split())}") from None
        if parser.has_section(name):
            return dict(parser.items(name))
    raise UnsupportedURL(f"definition of service {name!r} not found (looked in {', '.join(looked)})")


def _url(values: Mapping[str, str]) -> str:
    user = quote(values["user"], safe="") if values.get("user") else ""
    secret = ":" + quote(values["password"], safe="") if values.get("password") else ""
    host = values.get("host", "")
    if ":" in host and "," not in host:
        host = f"[{host}]"
    port = f":{values['port']}" if values.get("port") else ""
    userinfo = f"{user}{secret}@" if user or secret else ""
    path = "/" + quote(values["dbname"], safe="") if values.get("dbname") else ""
    rest = {key: value for key, value in values.items() if key not in _NETLOC_KEYS}
    if host.startswith("/"):  # a socket directory goes in the query, as libpq's URLs spell it
        rest = {"host": values["host"], **rest}
        host = ""
    query = "?" + urlencode(rest, safe="/:,") if rest else ""
    return f"postgresql://{userinfo}{host}{port}{path or ('/' if query else '')}{query}"


__all__ = ["names_service", "service_files", "service_url"]
