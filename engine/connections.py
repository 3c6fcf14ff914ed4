"""What a target names, and the saved connections and recent targets a DBA keeps.

:func:`resolve` turns what the user typed (a saved connection's name, ``service=NAME``, a URL or
a path) into the :class:`Target` a Session opens: the URL, the SSH hop, whether it must be
read-only, and the profile it came from; :func:`reach` also opens the tunnel, for the commands
that connect without a Session. :func:`add_profile` / :func:`remove_profile` edit
``config.toml`` (text kept as it is around the table they touch); :func:`remember` and
:func:`recent` keep the last targets opened, without passwords.

>>> from aishell.engine.config import Settings
>>> s = Settings.load(env={}, home=None, read_file=False)
>>> s.connections = parse_profiles({"shop": {"host": "db", "database": "shop", "read_only": True}}, "test")
>>> t = resolve("shop", s)
>>> t.url, t.read_only, t.profile.name
('postgresql://db/shop', True, 'shop')
>>> resolve("sqlite:///tmp/x.db", s).profile is None
True
>>> resolve("shpo", s)
Traceback (most recent call last):
...
aishell.engine.errors.UnsupportedURL: no saved connection named 'shpo', and not a database URL or a .db path (did you mean shop?; aishell connections list shows the saved ones)
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Mapping
from urllib.parse import quote

from aishell.engine.config import Settings
from aishell.engine.drivers.pgservice import service_url
from aishell.engine.errors import ConfigurationError, UnsupportedURL
from aishell.engine.files import write_private
from aishell.engine.profiles import Profile, is_profile_name, parse_profile, parse_profiles
from aishell.engine.redact import redact_url, url_password, without_passwords

RECENT_FILE = "recent.json"
RECENT_KEPT = 12
KEYRING_SERVICE = "aishell"
"""The keyring service name passwords are kept under (the username is the profile's name)."""


@dataclass(frozen=True, slots=True)
class Target:
    """What to open: ``url`` for the driver (a password only when the user gave or stored one),
    ``ssh`` the hop to tunnel through ("" direct), ``read_only`` forced by the profile."""

    url: str
    ssh: str = ""
    read_only: bool = False
    profile: Profile | None = None


def resolve(target: str, settings: Settings, *, ssh: str = "", password: str = "", env: Mapping[str, str] | None = None) -> Target:
    """The Target ``target`` names (see the module docstring). ``ssh`` from the command line
    wins over a profile's; ``password`` (typed at a prompt) goes into a URL that has none.
    Raises UnsupportedURL for an unknown name or service."""
    target = target.strip()
    profile = settings.connections.get(target)
    if profile is None:
        if is_profile_name(target) and "." not in target and not Path(target).exists():
            raise UnsupportedURL(_unknown(target, settings))
        url = service_url(target, env=env)
        return Target(url=url if url_password(url) is not None else _with_password(url, password), ssh=ssh)
    url = service_url(profile.url, env=env)
    if url_password(url) is None:
        url = _with_password(url, password or keyring_password(profile.name))
    return Target(url=url, ssh=ssh or profile.ssh, read_only=profile.read_only, profile=profile)


@dataclass(frozen=True, slots=True)
class Route:
    """A resolved target this process can connect to now: ``url`` goes through the SSH tunnel
    when there is one (a loopback port); ``display_url`` names the real server, password-free."""

    url: str
    display_url: str
    target: Target


@asynccontextmanager
async def reach(target: str, settings: Settings, *, ssh: str = "", password: str = "") -> AsyncIterator[Route]:
    """``target`` resolved as :func:`resolve` does (a saved connection's name, ``service=NAME``, a
    URL or a path; ``ssh`` from the command line wins over the profile's), and the tunnel it
    needs open while inside; for the commands that connect without a Session (backup, restore,
    migrate, advise, analyze). An unknown host key is refused: nobody is there to ask.

    Raises UnsupportedURL, HostKeyError and ConnectionFailed."""
    resolved = resolve(target, settings, ssh=ssh, password=password)
    tunnel = None
    url = resolved.url
    if resolved.ssh:
        from aishell.engine.tunnel import open_route  # noqa: PLC0415 - asyncssh only for a tunnel

        url, tunnel = await open_route(url, resolved.ssh, settings.ssh)
    try:
        yield Route(url, redact_url(resolved.url), resolved)
    finally:
        if tunnel is not None:
            await tunnel.close()


def keyring_password(name: str) -> str | None:
    """The password stored for profile ``name`` in the OS keyring, when the optional ``keyring``
    package is installed and has one (any failure of the keyring counts as none)."""
    try:
        import keyring  # noqa: PLC0415 - optional extra
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, name)
    except Exception:  # noqa: BLE001 - no backend, locked, dbus gone: fall back to passfile/prompt
        return None


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` in its userinfo (a password typed at the prompt; never saved).

    >>> with_password("postgresql://bob@db/shop", "p@ss")
    'postgresql://bob:p%40ss@db/shop'
    """
    return _with_password(url, password)


def _with_password(url: str, password: str | None) -> str:
    if not password or not url.startswith(("postgresql://", "postgres://", "mongodb://", "mongodb+srv://")):
        return url
    scheme, _, rest = url.partition("://")
    userinfo, at, hostpart = rest.partition("@")
    if not at:
        userinfo, hostpart = os.environ.get("PGUSER", "") or _login(), rest
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{quote(password, safe='')}@{hostpart}"


def _login() -> str:
    try:
        import getpass

        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _unknown(name: str, settings: Settings) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(settings.connections), n=1)
    hint = f"did you mean {close[0]}?; " if close else ""
    return f"no saved connection named {name!r}, and not a database URL or a .db path ({hint}aishell connections list shows the saved ones)"


# -- config.toml --------------------------------------------------------------------------------------

def config_path(settings: Settings) -> Path:
    return settings.config_dir / "config.toml"


def add_profile(settings: Settings, name: str, values: Mapping[str, Any], *, replace: bool = False) -> Profile:
    """Write ``[connections.NAME]`` into config.toml (0600) and return the profile; the whole
    file is checked before it is written, so a bad value leaves it untouched. Raises
    ConfigurationError for an existing name (unless ``replace``) or an unusable value."""
    path = config_path(settings)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    existing = _tables(text)
    if name in existing and not replace:
        raise ConfigurationError(f"{path}: a connection named {name!r} exists (aishell connections remove {name} first)")
    profile = parse_profile(name, values, str(path))
    text = _without_table(text, name) if name in existing else text
    block = _toml_table(name, values)
    text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + block
    _check(text, path)
    write_private(path, text)
    return profile


def remove_profile(settings: Settings, name: str) -> None:
    """Take ``[connections.NAME]`` (and its sub-tables) out of config.toml. Raises
    ConfigurationError when there is none."""
    path = config_path(settings)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if name not in _tables(text):
        raise ConfigurationError(f"{path}: no saved connection named {name!r}")
    text = _without_table(text, name)
    _check(text, path)
    write_private(path, text)


_HEADER = re.compile(r"^\s*\[\s*connections\s*\.\s*(\"[^\"]+\"|[A-Za-z0-9_.-]+?)\s*(?:\.\s*options\s*)?\]\s*(?:#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")


def _tables(text: str) -> set[str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return set()
    connections = data.get("connections", {})
    return set(connections) if isinstance(connections, dict) else set()


def _without_table(text: str, name: str) -> str:
    """``text`` without the ``[connections.NAME]`` and ``[connections.NAME.options]`` tables."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if _ANY_HEADER.match(line):
            match = _HEADER.match(line)
            skipping = bool(match) and match.group(1).strip('"') == name
        if not skipping:
            out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "".join(out))


def _toml_table(name: str, values: Mapping[str, Any]) -> str:
    lines = [f"[connections.{name}]"]
    options = values.get("options") or {}
    for key, value in values.items():
        if key != "options" and value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    if options:
        lines += ["", f"[connections.{name}.options]"] + [f"{key} = {_toml_value(value)}" for key, value in options.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _check(text: str, path: Path) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: the edit would not be valid TOML ({exc}); nothing written") from None
    parse_profiles(data.get("connections", {}), str(path))


# -- recent targets -----------------------------------------------------------------------------------

def remember(settings: Settings, target: str) -> None:
    """Put ``target`` (a name, URL or path; its password removed) first among the recent ones."""
    entry = without_passwords(target.strip())
    if not entry:
        return
    kept = [entry] + [item for item in recent(settings) if item != entry]
    try:
        write_private(settings.data_dir / RECENT_FILE, json.dumps({"recent": kept[:RECENT_KEPT]}))
    except OSError:
        pass  # a full disk costs the list, never the connection


def recent(settings: Settings) -> list[str]:
    """The targets opened last, newest first (an unreadable file counts as none)."""
    try:
        data = json.loads((settings.data_dir / RECENT_FILE).read_text(encoding="utf-8"))
        items = data.get("recent", []) if isinstance(data, dict) else []
    except (OSError, ValueError):
        return []
    return [item for item in items if isinstance(item, str)]


__all__ = ["Target", "add_profile", "keyring_password", "recent", "remember", "remove_profile", "resolve", "with_password"]
