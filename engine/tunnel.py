"""SSH tunnels (asyncssh): a loopback port whose connections reach a database server through an
SSH hop, the way ``ssh -L`` does, and that reconnects when the SSH link drops.

The hop is ``[user@]host[:port]`` or a ``Host`` alias of ``~/.ssh/config``, whose ``HostName``,
``User``, ``Port``, ``IdentityFile`` and ``ProxyJump`` apply; keys come from the agent and the
usual files. Host keys are checked against ``known_hosts``: a key that changed is refused with
OpenSSH's advice, and one never seen is asked about through ``ask`` (the workbench shows the
fingerprint) or refused when nobody can be asked, unless ``accept_new_host_keys`` is on; an
accepted key is added to the file.

The database connection is made to ``127.0.0.1:local_port``; each one opens its own SSH channel,
so a pool behaves as it does directly. When the SSH connection dies, the next database connection
(the pool's reconnect) brings it back. :func:`split_hop` and :func:`through` are pure:

>>> split_hop("bob@bastion:2222"), split_hop("bastion")
(('bob', 'bastion', 2222), ('', 'bastion', None))
>>> through("postgresql://ann@db.internal:5433/shop?sslmode=require", 40000)
('postgresql://ann@127.0.0.1:40000/shop?sslmode=require', 'db.internal', 5433)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aishell.engine.config import SSHSettings
from aishell.engine.drivers.url import classify
from aishell.engine.errors import ConnectionFailed, UnsupportedURL

log = logging.getLogger(__name__)

AskHostKey = Callable[[str, str], Awaitable[bool]]
"""``ask(host, fingerprint)``: whether to trust a host key seen for the first time."""

_HOP = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[^\]]+\]|[^:@\s]+)(?::(?P<port>\d{1,5}))?$")
_DEFAULT_PORTS = {"postgres": 5432, "mongo": 27017}


class HostKeyError(ConnectionFailed):
    """A host key that is not trusted: changed (refused) or unknown (refused unless accepted)."""

    title = "SSH host key"


def split_hop(hop: str) -> tuple[str, str, int | None]:
    """``(user, host, port)`` of ``[user@]host[:port]`` ("" and None where not given).
    Raises UnsupportedURL for anything else."""
    match = _HOP.match(hop.strip())
    if match and ":" in (match["user"] or ""):
        raise UnsupportedURL("--ssh takes no password (it would show in the process list): use a key, the agent or ~/.ssh/config")
    if not match:
        raise UnsupportedURL(f"--ssh {hop!r}: write [user@]host[:port] or a Host of ~/.ssh/config")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise UnsupportedURL(f"--ssh {hop!r}: port {port} is not a port number")
    return match["user"] or "", match["host"].strip("[]"), port


def through(url: str, local_port: int) -> tuple[str, str, int]:
    """``url`` pointed at ``127.0.0.1:local_port``, and the host and port it named (as the SSH
    server must reach them). Raises UnsupportedURL for a SQLite file, several hosts or a socket."""
    kind = classify(url)
    if kind == "sqlite":
        raise UnsupportedURL("an SSH tunnel reaches a server: a SQLite file is opened where aishell runs")
    parts = urlsplit(url)
    if parts.scheme == "mongodb+srv":
        raise UnsupportedURL("an SSH tunnel forwards one host: mongodb+srv:// names a cluster (use mongodb://host:port)")
    userinfo, at, hostport = parts.netloc.rpartition("@")
    query = parse_qsl(parts.query, keep_blank_values=True)
    in_query = dict(query)
    if "," in hostport or "," in in_query.get("host", ""):
        raise UnsupportedURL("an SSH tunnel forwards one host: name a single host:port")
    if in_query.get("host", "").startswith("/"):
        raise UnsupportedURL("an SSH tunnel forwards TCP: a Unix socket directory cannot be reached through it")
    host = in_query.get("host") or parts.hostname or "localhost"
    port = int(in_query["port"]) if in_query.get("port", "").isdigit() else parts.port or _DEFAULT_PORTS[kind]
    query = [(k, v) for k, v in query if k not in ("host", "port")]
    netloc = f"{userinfo}{at}127.0.0.1:{local_port}"
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="/:,"), parts.fragment)), host, port


async def open_route(url: str, hop: str, settings: SSHSettings, *, ask: AskHostKey | None = None) -> tuple[str, Tunnel | None]:
    """The URL to connect to for ``url``: ``url`` itself when ``hop`` is empty, else ``url``
    pointed at the loopback port of a new tunnel through ``hop`` (returned, for the caller to
    close). Raises UnsupportedURL, HostKeyError and ConnectionFailed as :meth:`Tunnel.open`."""
    if not hop:
        return url, None
    _, host, port = through(url, 0)
    tunnel = await Tunnel.open(hop, (host, port), settings, ask=ask)
    return through(url, tunnel.local_port)[0], tunnel


class Tunnel:
    """One SSH hop and the loopback listener in front of it. ``state`` is up, reconnecting or
    down; ``listen(fn)`` hears each change. Open with :meth:`open`, end with :meth:`close`."""

    __slots__ = ("hop", "remote", "settings", "_ask", "_conn", "_server", "_lock", "_listeners", "state", "local_port", "_closed", "_watch")

    def __init__(self, hop: str, remote: tuple[str, int], settings: SSHSettings, *, ask: AskHostKey | None = None) -> None:
        split_hop(hop)  # a malformed hop fails before anything connects
        self.hop = hop
        self.remote = remote
        self.settings = settings
        self._ask = ask
        self._conn: Any = None
        self._server: asyncio.base_events.Server | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[str], None]] = []
        self.state = "down"
        self.local_port = 0
        self._closed = False
        self._watch: asyncio.Task | None = None

    @classmethod
    async def open(cls, hop: str, remote: tuple[str, int], settings: SSHSettings, *, ask: AskHostKey | None = None) -> "Tunnel":
        """Connect to the hop (host key checked, keys tried) and start listening on a loopback
        port. Raises HostKeyError, ConnectionFailed (unreachable, authentication refused)."""
        tunnel = cls(hop, remote, settings, ask=ask)
        await tunnel._connect()
        tunnel._server = await asyncio.start_server(tunnel._serve, "127.0.0.1", 0)
        tunnel.local_port = tunnel._server.sockets[0].getsockname()[1]
        return tunnel

    def listen(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(state)`` on each change; returns a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def close(self) -> None:
        """Stop listening and close the SSH connection; safe to call twice."""
        self._closed = True
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._watch is not None:
            self._watch.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.wait_closed(), 3)
        self._set("down")

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            for listener in list(self._listeners):
                listener(state)

    # -- the SSH side --------------------------------------------------------------------------------

    async def _connect(self) -> None:
        """(Re)connect the hop, asking about an unknown host key once when someone can answer."""
        import asyncssh  # noqa: PLC0415 - only when a tunnel is asked for

        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return
            try:
                self._conn = await self._dial(asyncssh)
            except HostKeyError as exc:
                unknown = getattr(exc, "unknown", None)
                if unknown is None or not (self.settings.accept_new_host_keys or (self._ask is not None and await self._ask(*unknown[:2]))):
                    self._set("down")
                    raise
                _trust(Path(self.settings.known_hosts).expanduser(), unknown[2], unknown[3])
                self._conn = await self._dial(asyncssh)
            self._set("up")
            self._watch = asyncio.get_running_loop().create_task(self._watch_closed(self._conn))

    async def _dial(self, asyncssh: Any) -> Any:
        user, host, port = split_hop(self.hop)
        verdict: dict[str, Any] = {}
        known_path = Path(self.settings.known_hosts).expanduser()
        known = asyncssh.read_known_hosts(str(known_path)) if known_path.is_file() else asyncssh.import_known_hosts("")

        class Client(asyncssh.SSHClient):
            def validate_host_public_key(self, host: str, addr: str, port: int, key: Any) -> bool:
                trusted = known.match(host, addr, port)[0]
                verdict["changed" if trusted else "unknown"] = (host, addr, port, key)
                return False

        options: dict[str, Any] = {"known_hosts": known, "client_factory": Client, "connect_timeout": self.settings.connect_timeout}
        config = Path(self.settings.config_file).expanduser() if self.settings.config_file else None
        options["config"] = [str(config)] if config is not None and config.is_file() else []
        if user:
            options["username"] = user
        if port:
            options["port"] = port
        if self.settings.keepalive_interval:
            options["keepalive_interval"] = self.settings.keepalive_interval
            options["keepalive_count_max"] = 2
        try:
            return await asyncssh.connect(host, **options)
        except asyncssh.HostKeyNotVerifiable as exc:
            raise self._host_key_error(verdict, known_path, str(exc)) from None
        except asyncssh.PermissionDenied:
            raise ConnectionFailed(f"ssh {self.hop}: permission denied (no key the server accepts: check the agent, IdentityFile and the user)") from None
        except asyncssh.Error as exc:
            raise ConnectionFailed(f"ssh {self.hop}: {' '.join(str(exc.reason or exc).split())}") from None
        except (OSError, asyncio.TimeoutError) as exc:
            reason = os.strerror(exc.errno).lower() if getattr(exc, "errno", None) else "timed out" if isinstance(exc, asyncio.TimeoutError) else str(exc)
            raise ConnectionFailed(f"ssh {self.hop}: could not connect: {reason}") from None

    def _host_key_error(self, verdict: dict[str, Any], known_path: Path, reason: str) -> HostKeyError:
        if "changed" in verdict:
            host, _addr, port, key = verdict["changed"]
            return HostKeyError(
                f"ssh {self.hop}: the host key of {_where(host, port)} has CHANGED ({key.get_fingerprint()}): someone may be "
                f"intercepting the connection, or the host was reinstalled; if you know it was, remove the old key from {known_path} "
                f"(ssh-keygen -R {_where(host, port)})"
            )
        if "unknown" in verdict:
            host, _addr, port, key = verdict["unknown"]
            error = HostKeyError(
                f"ssh {self.hop}: {_where(host, port)} is not a known host ({key.get_fingerprint()}): "
                f"check the fingerprint and trust it (ssh {self.hop} once, or ssh.accept_new_host_keys = true)"
            )
            error.unknown = (_where(host, port), key.get_fingerprint(), _where(host, port), key)  # type: ignore[attr-defined]
            return error
        return HostKeyError(f"ssh {self.hop}: host key not verifiable: {reason}")

    async def _watch_closed(self, conn: Any) -> None:
        with contextlib.suppress(Exception):
            await conn.wait_closed()
        if not self._closed and conn is self._conn:
            log.warning("ssh %s: the connection dropped; reconnecting with the next database connection", self.hop)
            self._set("reconnecting")

    # -- the loopback side ---------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One database connection: a channel to the remote host, bytes copied both ways."""
        try:
            if self._conn is None or self._conn.is_closed():
                await self._connect()
            remote_reader, remote_writer = await self._conn.open_connection(*self.remote)
        except Exception as exc:  # noqa: BLE001 - the database client sees a closed socket
            log.warning("ssh %s: cannot reach %s:%s: %s", self.hop, *self.remote, " ".join(str(exc).split()))
            if not self._closed:
                self._set("down")
            writer.close()
            return
        await asyncio.gather(_copy(reader, remote_writer), _copy(remote_reader, writer), return_exceptions=True)


async def _copy(reader: Any, writer: Any) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()
            else:
                writer.close()


def _where(host: str, port: int | None) -> str:
    return f"[{host}]:{port}" if port and port != 22 else host


def _trust(path: Path, where: str, key: Any) -> None:
    """Add ``key`` for ``where`` to the known_hosts file (created 0600 in a 0700 directory)."""
    from aishell.engine.files import private_dir, private_opener

    private_dir(path.parent)
    line = f"{where} {key.export_public_key('openssh').decode().strip()}\n"
    with open(path, "a", encoding="utf-8", opener=private_opener) as handle:
        handle.write(line)


__all__ = ["AskHostKey", "HostKeyError", "Tunnel", "split_hop", "through"]
