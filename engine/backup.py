"""Backups and restores with a verified manifest.

PostgreSQL goes through the real tools: ``pg_dump --format=directory --jobs=N`` (parallel, one
compressed file per table) or ``pg_dump --format=custom`` streamed through ``zstd`` (or gzip in
Python when the ``zstd`` program is missing) straight into the backup file, with no uncompressed
copy on disk; ``pg_restore`` restores, in parallel for directory archives. SQLite goes through
the online backup API, which copies a consistent snapshot while other connections keep working.

A backup is a directory::

    aishell-manifest.json   engine, format, compression, database identity (no password),
                            server version, tables with row estimates and sizes, and the size
                            and sha256 of every file
    toc.dat, 3358.dat.gz    (directory format: the pg_dump archive itself, usable by pg_restore)
    database.dump.zst       (custom format; .gz with gzip, .dump uncompressed)
    database.sqlite         (SQLite)

:func:`restore` verifies the backup before it touches the target: the manifest's shape (one
strict parser, :func:`parse_manifest`), every file in the directory listed and no listed file
missing, symlinks refused, sizes, and every sha256 (unless ``verify_first=False``); then it
refuses a target that already holds tables (unless ``clean=True``). Passwords reach the tools
through a temporary passfile (mode 0600, removed afterwards), never the command line.

A backup is written under ``.NAME.partial-PID`` beside ``out`` and renamed once its manifest is
in place, so a directory at ``out`` is always a complete backup. Progress (bytes and tables)
goes to a callback; cancelling the awaiting task kills the tools and removes the partial copy,
and if the process dies outright (SIGKILL) a watchdog does both (see :class:`_Children`).

    manifest = await backup("postgresql://bob@db/shop", "/backups/shop", format="custom")
    await restore("/backups/shop", "postgresql://bob@db/shop_copy")
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote

from aishell.engine import __version__
from aishell.engine.drivers.url import PostgresURL, classify, postgres_url, redact_text, redact_url, sqlite_path
from aishell.engine.errors import AishellError, ConfigurationError

MANIFEST_NAME = "aishell-manifest.json"
MANIFEST_VERSION = 1
FORMATS = ("directory", "custom")
COMPRESSIONS = ("zstd", "gzip", "none")
CHUNK = 1 << 20
POLL_INTERVAL = 0.2
SQLITE_FILE = "database.sqlite"
_CUSTOM_FILES = {"zstd": "database.dump.zst", "gzip": "database.dump.gz", "none": "database.dump"}
_PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class BackupError(AishellError):
    """A backup or restore that could not be done (tool missing, tool failed, bad target)."""

    title = "Backup error"


class BackupCorrupt(BackupError):
    """The backup's manifest or files do not match: nothing was restored."""

    title = "Backup corrupt"


# -- values -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Progress:
    """Where a backup, verification or restore is. Sent to the progress callback."""

    phase: str
    """``backup``, ``verify`` or ``restore``."""
    bytes_done: int = 0
    """Bytes written (backup), hashed (verify) or read from the backup (restore)."""
    bytes_total: int | None = None
    """Known for verify and restore (the backup's size), None while backing up."""
    dumped: int = 0
    """Bytes of pg_dump's stream so far, before compression (custom format backups)."""
    tables_done: int = 0
    tables_total: int = 0
    table: str | None = None
    """The table being copied, when the tool says."""
    finished: bool = False


ProgressCallback = Callable[[Progress], None]


@dataclass(slots=True)
class TableEntry:
    schema: str
    name: str
    kind: str
    """``table``, ``partitioned table`` or ``materialized view``."""
    row_estimate: int
    """The catalog's estimate (-1: never analyzed)."""
    bytes: int
    """Size on the server including indexes and TOAST (-1: unknown)."""


@dataclass(slots=True)
class FileEntry:
    path: str
    """Relative to the backup directory, with ``/`` separators."""
    bytes: int
    sha256: str


@dataclass(slots=True)
class Manifest:
    """What ``aishell-manifest.json`` holds; :meth:`load` validates it."""

    engine: str
    format: str
    compression: str
    database: dict[str, Any]
    server_version: str
    tables: list[TableEntry]
    files: list[FileEntry]
    created_at: str
    tool: str = f"aishell {__version__}"
    elapsed_s: float = 0.0
    parallel_restore: bool = False
    """True when pg_restore can use several jobs on this archive (seekable)."""
    version: int = MANIFEST_VERSION

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def data_tables(self) -> int:
        """Tables whose rows the archive holds (what progress counts)."""
        return sum(1 for t in self.tables if t.kind == "table")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def load(cls, directory: Path) -> "Manifest":
        """The manifest of the backup in ``directory``, checked by :func:`parse_manifest`.

        Raises BackupCorrupt (one line) for a missing, unreadable or malformed manifest.
        """
        path = directory / MANIFEST_NAME
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise BackupCorrupt(
                f"{directory} has no {MANIFEST_NAME}: not an aishell backup, or an incomplete one"
            ) from None
        except OSError as exc:
            raise BackupCorrupt(f"manifest {path} is unreadable: {exc.strerror or exc}") from None
        return parse_manifest(raw, str(path))


def parse_manifest(raw: bytes, source: str = MANIFEST_NAME) -> Manifest:
    """The Manifest in ``raw`` (the JSON file's bytes), every field checked for its type and value.

    The one place that decides what a manifest may hold: exactly the keys below with their JSON
    types (no booleans for numbers), version 1, a known engine with its format and compression,
    file paths relative and inside the backup, each listed once with a size and a sha256, and
    the file set the format needs. Raises BackupCorrupt naming the first offending field.

    >>> parse_manifest(b'{"version": 1, "engine": "sqlite"}')
    Traceback (most recent call last):
    ...
    aishell.engine.backup.BackupCorrupt: manifest aishell-manifest.json is malformed: missing format, compression, database, server_version, tables, files, created_at, tool, elapsed_s, parallel_restore
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BackupCorrupt(f"manifest {source} is not UTF-8 text") from None
    except RecursionError:
        raise BackupCorrupt(f"manifest {source} is nested too deeply to be a manifest") from None
    except ValueError as exc:
        raise BackupCorrupt(f"manifest {source} is not valid JSON ({exc})") from None
    return _ManifestReader(source).manifest(data)


_SHA256_DIGITS = frozenset("0123456789abcdef")


class _ManifestReader:
    """Checks decoded JSON against the manifest's shape; every error names the field."""

    _TOP = {
        "version": int, "engine": str, "format": str, "compression": str, "database": dict,
        "server_version": str, "tables": list, "files": list, "created_at": str, "tool": str,
        "elapsed_s": (int, float), "parallel_restore": bool,
    }
    _TABLE = {"schema": str, "name": str, "kind": str, "row_estimate": int, "bytes": int}
    _FILE = {"path": str, "bytes": int, "sha256": str}

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, what: str) -> BackupCorrupt:
        return BackupCorrupt(f"manifest {self.source} is malformed: {what}")

    def fields(self, value: Any, shape: dict[str, Any], where: str) -> dict[str, Any]:
        """``value`` as a dict with exactly the keys of ``shape``, each of its type."""
        if not isinstance(value, dict):
            raise self.fail(f"{where or 'the top level'} is {_json_type(value)}, expected an object")
        missing = [k for k in shape if k not in value]
        unknown = sorted(k for k in value if k not in shape)
        if missing:
            raise self.fail(f"missing {', '.join(f'{where}.{k}' if where else k for k in missing)}")
        if unknown:
            raise self.fail(f"unknown {', '.join(f'{where}.{k}' if where else k for k in unknown)}")
        for key, kind in shape.items():
            item = value[key]
            # bool is an int in Python, never in a manifest
            if isinstance(item, bool) and kind is not bool or not isinstance(item, kind):
                name = f"{where}.{key}" if where else key
                expected = {int: "an integer", str: "a string", list: "a list", dict: "an object", bool: "true or false"}
                raise self.fail(f"{name} is {_json_type(item)} {_clip(item)}, expected {expected.get(kind, 'a number')}")
        return value

    def manifest(self, data: Any) -> Manifest:
        if not isinstance(data, dict):
            raise BackupCorrupt(f"manifest {self.source} is not a JSON object but {_json_type(data)}")
        version = data.get("version", MANIFEST_VERSION)
        if type(version) is not int or version != MANIFEST_VERSION:  # checked first: another version may differ in any field
            raise BackupCorrupt(f"manifest {self.source} has version {_clip(version)}; this aishell reads version {MANIFEST_VERSION}")
        top = self.fields(data, self._TOP, "")
        engine, fmt, compression = top["engine"], top["format"], top["compression"]
        if engine not in ("postgres", "sqlite"):
            raise self.fail(f"engine is {_clip(engine)}, expected postgres or sqlite")
        formats, compressions = (FORMATS, COMPRESSIONS) if engine == "postgres" else (("sqlite",), ("none",))
        if fmt not in formats:
            raise self.fail(f"format is {_clip(fmt)}; a {engine} backup is {' or '.join(formats)}")
        if compression not in compressions:
            raise self.fail(f"compression is {_clip(compression)}, expected {' or '.join(compressions)}")
        if top["elapsed_s"] < 0:
            raise self.fail(f"elapsed_s is {top['elapsed_s']}, expected a duration")
        tables = []
        for n, item in enumerate(top["tables"]):
            t = self.fields(item, self._TABLE, f"tables[{n}]")
            tables.append(TableEntry(t["schema"], t["name"], t["kind"], t["row_estimate"], t["bytes"]))
        files = self.files(top["files"])
        self.file_set(engine, fmt, compression, [f.path for f in files])
        rest = {k: top[k] for k in ("database", "server_version", "created_at", "tool", "elapsed_s", "parallel_restore")}
        return Manifest(engine=engine, format=fmt, compression=compression, tables=tables, files=files, **rest)

    def files(self, items: list[Any]) -> list[FileEntry]:
        if not items:
            raise self.fail("files is empty: a backup holds at least one file")
        files: list[FileEntry] = []
        seen: set[str] = set()
        for n, item in enumerate(items):
            f = self.fields(item, self._FILE, f"files[{n}]")
            path, size, digest = f["path"], f["bytes"], f["sha256"]
            parts = path.split("/")
            if (
                not path or path.startswith("/") or "\\" in path or "\0" in path
                or any(p in ("", ".", "..") for p in parts) or path == MANIFEST_NAME
            ):
                raise self.fail(f"files[{n}].path is {_clip(path)}, expected a relative path inside the backup")
            if path in seen:
                raise self.fail(f"files[{n}].path {_clip(path)} is listed twice")
            seen.add(path)
            if size < 0:
                raise self.fail(f"files[{n}].bytes is {size}, expected a size")
            if len(digest) != 64 or not set(digest) <= _SHA256_DIGITS:
                raise self.fail(f"files[{n}].sha256 is {_clip(digest)}, expected 64 lower-case hex digits")
            files.append(FileEntry(path, size, digest))
        return files

    def file_set(self, engine: str, fmt: str, compression: str, paths: list[str]) -> None:
        """The files the format needs: restore reads exactly these."""
        if engine == "sqlite":
            expected = [SQLITE_FILE]
        elif fmt == "custom":
            expected = [_CUSTOM_FILES[compression]]
        else:
            if "toc.dat" not in paths:
                raise self.fail("files lacks toc.dat, which every directory archive has")
            return
        if paths != expected:
            raise self.fail(f"files are {', '.join(paths)}; a {engine} {fmt} backup is {', '.join(expected)}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _clip(value: Any) -> str:
    """A value for a one-line message: JSON, at most 40 characters."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


# -- public API ---------------------------------------------------------------------------------


async def backup(
    url: str,
    out: str | os.PathLike[str],
    *,
    format: str | None = None,
    jobs: int | None = None,
    compress: str | None = None,
    progress: ProgressCallback | None = None,
) -> Manifest:
    """Back up the database at ``url`` into the new directory ``out`` and return its manifest.

    ``format`` (PostgreSQL): ``directory`` (the default; parallel with ``jobs``, default the
    number of cores) or ``custom`` (one file). ``compress``: ``zstd``, ``gzip`` or ``none``; None picks zstd where
    available. ``out`` must not exist or be empty. The backup is written under a temporary name
    beside it (``.NAME.partial-PID``), the manifest last, and renamed to ``out`` only when
    complete, so nothing at ``out`` ever looks like a backup that is not one; on failure or
    cancellation the tools are killed and the partial copy removed. Raises BackupError,
    ConnectionFailed, ConfigurationError.
    """
    if format is not None and format not in FORMATS:
        raise ConfigurationError(f"backup format {format!r} is not one of {', '.join(FORMATS)}")
    if compress is not None and compress not in COMPRESSIONS:
        raise ConfigurationError(f"compression {compress!r} is not one of {', '.join(COMPRESSIONS)}")
    jobs = _jobs(jobs)
    kind = classify(url)
    if kind == "mongo":
        raise BackupError("MongoDB backups are not supported here: use mongodump")
    if kind == "sqlite" and (compress not in (None, "none") or format is not None):
        raise ConfigurationError("--format and --compress apply to PostgreSQL backups; a SQLite backup is a plain database file")
    out_dir = Path(out).expanduser().absolute()  # its name and parent even for "." or "bk/"
    work = _start_partial(out_dir)
    started = time.monotonic()
    try:
        if kind == "postgres":
            manifest = await _backup_postgres(url, work, format or "directory", jobs, compress, _Reporter(progress, "backup"))
        else:
            manifest = await _backup_sqlite(url, work, _Reporter(progress, "backup"))
        manifest.elapsed_s = round(time.monotonic() - started, 3)
        _write_private(work / MANIFEST_NAME, manifest.to_json().encode("utf-8"))
        _publish(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


async def verify(
    path: str | os.PathLike[str], *, checksums: bool = True, progress: ProgressCallback | None = None
) -> Manifest:
    """Check the backup at ``path`` (its directory or manifest) against its manifest.

    The manifest must be well formed (:func:`parse_manifest`), every file in the directory must
    be a regular file the manifest lists, and every listed file must exist with its size and
    (unless ``checksums=False``) its sha256. Nothing unlisted is ever restored unverified.
    Returns the manifest; raises BackupCorrupt naming the first problem.
    """
    directory = _backup_dir(path)
    manifest = Manifest.load(directory)
    listed = {entry.path: entry for entry in manifest.files}
    unlisted, odd = _scan(directory, listed)
    if odd:
        raise BackupCorrupt(f"backup {directory} is not intact: {odd[0]} is not a regular file (a symlink, a device or a pipe)")
    if unlisted:
        more = f" and {len(unlisted) - 3} more" if len(unlisted) > 3 else ""
        raise BackupCorrupt(
            f"backup {directory} holds files not listed in its manifest: {', '.join(unlisted[:3])}{more}; "
            "nothing unverified is restored"
        )
    for entry in manifest.files:
        try:
            size = (directory / entry.path).stat().st_size
        except FileNotFoundError:
            raise BackupCorrupt(f"backup {directory} is incomplete: {entry.path} is missing") from None
        except OSError as exc:
            raise BackupCorrupt(f"backup {directory}: cannot read {entry.path}: {exc.strerror or exc}") from None
        if size != entry.bytes:
            raise BackupCorrupt(
                f"backup {directory} is corrupt: {entry.path} has {size} bytes, the manifest says {entry.bytes}"
            )
    if not checksums:
        return manifest
    report = _Reporter(progress, "verify", bytes_total=manifest.total_bytes)
    done = 0
    for entry in manifest.files:
        base = done
        digest = await _sha256(directory / entry.path, lambda n: report.update(bytes_done=base + n))
        if digest != entry.sha256:
            raise BackupCorrupt(
                f"backup {directory} is corrupt: checksum mismatch in {entry.path} "
                f"(sha256 {digest[:12]}…, manifest {entry.sha256[:12]}…)"
            )
        done += entry.bytes
    report.update(bytes_done=done, finished=True, force=True)
    return manifest


def _scan(directory: Path, listed: dict[str, FileEntry]) -> tuple[list[str], list[str]]:
    """(files the manifest does not list, entries that are not regular files or directories),
    as paths relative to ``directory``. Symlinks are never followed."""
    unlisted: list[str] = []
    odd: list[str] = []
    pending = [directory]
    while pending:
        current = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as exc:
            raise BackupCorrupt(f"backup {directory}: cannot list {current}: {exc.strerror or exc}") from None
        for entry in entries:
            relative = Path(entry.path).relative_to(directory).as_posix()
            if entry.is_symlink():
                odd.append(relative)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif not entry.is_file(follow_symlinks=False):
                odd.append(relative)
            elif relative != MANIFEST_NAME and relative not in listed:
                unlisted.append(relative)
    return sorted(unlisted), sorted(odd)


async def restore(
    path: str | os.PathLike[str],
    url: str,
    *,
    verify_first: bool = True,
    jobs: int | None = None,
    clean: bool = False,
    no_owner: bool = False,
    progress: ProgressCallback | None = None,
) -> Manifest:
    """Restore the backup at ``path`` into the database at ``url``; returns the manifest.

    The backup is verified first: its listing and sizes always, its checksums unless
    ``verify_first=False``; nothing is written to the target before that. The target must hold
    no tables unless ``clean`` (drop what the backup recreates first). PostgreSQL targets must exist
    (``createdb``); a SQLite target file is created. Directory archives restore with ``jobs``
    parallel jobs; with one job, and for streamed custom archives, the restore runs in a single
    transaction, so a failure leaves the target as it was. Raises BackupCorrupt, BackupError,
    ConnectionFailed.
    """
    directory = _backup_dir(path)
    manifest = await verify(directory, checksums=verify_first, progress=progress)
    kind = classify(url)
    if kind != manifest.engine:
        raise BackupError(f"backup {directory} is a {manifest.engine} backup; {redact_url(url)} is {kind}")
    report = _Reporter(progress, "restore", bytes_total=manifest.total_bytes, tables_total=manifest.data_tables)
    if kind == "postgres":
        await _restore_postgres(manifest, directory, url, _jobs(jobs), clean, no_owner, report)
    else:
        await _restore_sqlite(manifest, directory, url, clean, report)
    report.update(manifest.total_bytes, tables_done=report.progress.tables_total, finished=True, force=True)
    return manifest


def find_tool(name: str, server_major: int | None = None) -> str:
    """Path of the PostgreSQL client program ``name`` able to talk to a ``server_major`` server.

    Prefers the server's own major version, then the newest installed one (pg_dump must not
    be older than the server), then ``PATH``. Raises BackupError when none fits.
    """
    installed = []
    for directory in glob.glob(_PG_BIN_GLOB):
        major = _major_of_dir(directory)
        if major is not None and Path(directory, name).exists():
            installed.append((major, str(Path(directory, name))))
    installed.sort(reverse=True)
    for major, path in installed:
        if server_major is None or major == server_major:
            return path
    for major, path in installed:
        if server_major is None or major >= server_major:
            return path
    found = shutil.which(name)
    if found:
        return found
    need = f"postgresql-client-{server_major}" if server_major else "the PostgreSQL client tools"
    raise BackupError(f"{name} not found: install {need}")


# -- PostgreSQL -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _tool_env(target: PostgresURL) -> Iterator[dict[str, str]]:
    """Environment for pg_dump/pg_restore: English messages and, when the URL carries a
    password, a temporary passfile (0600) that is removed afterwards."""
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    env["PGAPPNAME"] = "aishell-backup"
    if target.password is None:
        yield env
        return
    fd, name = tempfile.mkstemp(prefix="aishell-pgpass-")
    try:
        os.fchmod(fd, 0o600)
        escaped = target.password.replace("\\", "\\\\").replace(":", "\\:")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"*:*:*:*:{escaped}\n")
        env["PGPASSFILE"] = name
        env.pop("PGPASSWORD", None)  # it would win over the passfile
        yield env
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


async def _pg_catalog(url: str) -> tuple[str, int, list[TableEntry]]:
    """(server version, major version, user tables) of the PostgreSQL database at ``url``."""
    from aishell.engine.drivers.postgres import PostgresDriver

    conn = await PostgresDriver(url, application_name="aishell-backup").connect()
    try:
        version = await conn.server_version()
        num = await conn.server_version_num()
        relations = await conn.relation_sizes()
    finally:
        await conn.close()
    tables = [TableEntry(t.schema, t.name, t.kind, t.row_estimate, size) for t, size in relations]
    return version, num // 10000, tables


async def _backup_postgres(
    url: str, out: Path, fmt: str, jobs: int, compress: str | None, report: "_Reporter"
) -> Manifest:
    target = postgres_url(url)
    version, major, tables = await _pg_catalog(url)
    pg_dump = find_tool("pg_dump", major)
    tool_major = _tool_major(pg_dump)
    report.progress.tables_total = sum(1 for t in tables if t.kind == "table")
    base = [pg_dump, "--verbose", "--no-password", f"--dbname={target.without_password}"]
    with _tool_env(target) as env:
        if fmt == "directory":
            compress = compress or ("zstd" if tool_major >= 16 else "gzip")
            if compress == "zstd" and tool_major < 16:
                raise ConfigurationError(
                    f"zstd inside a directory archive needs pg_dump 16 or later (found {tool_major}): "
                    "use --compress gzip, or --format custom, which streams through zstd"
                )
            level = {"zstd": "zstd", "gzip": "gzip:6" if tool_major >= 16 else "6", "none": "0"}[compress]
            cmd = [*base, "--format=directory", f"--jobs={jobs}", f"--compress={level}", f"--file={out}"]
            await _run_dump_to_files(cmd, env, out, report, parallel=jobs > 1)
            parallel = True
        else:
            compress = compress or ("zstd" if shutil.which("zstd") else "gzip")
            file = out / _CUSTOM_FILES[compress]
            cmd = [*base, "--format=custom", "--compress=0"]
            if compress == "none":
                await _run_dump_to_files([*cmd, f"--file={file}"], env, out, report, parallel=False)
            elif compress == "zstd":
                await _dump_through_zstd(cmd, env, file, jobs, report)
            else:
                await _dump_through_gzip(cmd, env, file, report)
            parallel = compress == "none"  # written with seeks: table offsets are in the TOC
    files = await _file_entries(out)
    report.update(bytes_done=sum(f.bytes for f in files), tables_done=report.progress.tables_total, finished=True, force=True)
    return Manifest(
        engine="postgres",
        format=fmt,
        compression=compress,
        database={
            "url": redact_url(url), "host": target.host, "port": target.port, "user": target.user, "database": target.database,
        },
        server_version=version,
        tables=tables,
        files=files,
        created_at=_now(),
        parallel_restore=parallel,
    )


async def _run_dump_to_files(cmd: list[str], env: dict[str, str], out: Path, report: "_Reporter", *, parallel: bool) -> None:
    """pg_dump writing files itself; progress from the files' sizes and its verbose output."""
    async with _Children([out, env.get("PGPASSFILE")]) as children:
        proc = await children.spawn(cmd, env=env, stdout=asyncio.subprocess.DEVNULL)
        tables = _TableCounter(report, parallel)
        stderr = children.read_stderr(proc, tables.feed)
        while proc.returncode is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(proc.wait()), POLL_INTERVAL)
            report.update(bytes_done=_tree_size(out))
        _check("pg_dump", proc.returncode, await stderr)


async def _dump_through_zstd(cmd: list[str], env: dict[str, str], file: Path, jobs: int, report: "_Reporter") -> None:
    """pg_dump | zstd -o FILE, relayed here: the uncompressed stream exists only in the pipes,
    and the bytes that pass are counted. zstd writes whole jobs of several MB, so a dump of
    tens of MB shows no output size until it ends; the bytes dumped are what move."""
    zstd = shutil.which("zstd")
    if zstd is None:
        raise BackupError("zstd not found: install the zstd package or use --compress gzip")
    async with _Children([file.parent, env.get("PGPASSFILE")]) as children:
        dump = await children.spawn(cmd, env=env, stdout=asyncio.subprocess.PIPE)
        packer = await children.spawn(
            [zstd, "-q", "-3", f"-T{jobs}", "-o", str(file), "-"],
            env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        )
        tables = _TableCounter(report, parallel=False)
        dump_err = children.read_stderr(dump, tables.feed)
        pack_err = children.read_stderr(packer, None)
        dumped = 0
        try:
            while chunk := await dump.stdout.read(CHUNK):
                packer.stdin.write(chunk)
                await packer.stdin.drain()
                dumped += len(chunk)
                report.update(bytes_done=_size(file), dumped=dumped)
        except (BrokenPipeError, ConnectionResetError):
            # zstd went away mid-stream: say why (leaving stops pg_dump, which nobody reads now).
            await packer.wait()
            _check("zstd", packer.returncode or 1, await pack_err)
        finally:
            packer.stdin.close()
        await packer.wait()
        await dump.wait()
        _check("zstd", packer.returncode, await pack_err)
        _check("pg_dump", dump.returncode, await dump_err)


async def _dump_through_gzip(cmd: list[str], env: dict[str, str], file: Path, report: "_Reporter") -> None:
    """pg_dump's stream compressed by zlib (in a worker thread) into FILE."""
    async with _Children([file.parent, env.get("PGPASSFILE")]) as children:
        dump = await children.spawn(cmd, env=env, stdout=asyncio.subprocess.PIPE)
        tables = _TableCounter(report, parallel=False)
        stderr = children.read_stderr(dump, tables.feed)
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: the gzip container
        written = dumped = 0
        with open(file, "wb") as f:
            while True:
                chunk = await dump.stdout.read(CHUNK)
                if not chunk:
                    break
                data = await asyncio.to_thread(packer.compress, chunk)
                f.write(data)
                written += len(data)
                dumped += len(chunk)
                report.update(bytes_done=written, dumped=dumped)
            f.write(packer.flush())
        await dump.wait()
        _check("pg_dump", dump.returncode, await stderr)


async def _restore_postgres(
    manifest: Manifest, directory: Path, url: str, jobs: int, clean: bool, no_owner: bool, report: "_Reporter"
) -> None:
    from aishell.engine.drivers.postgres import PostgresDriver

    target = postgres_url(url)
    conn = await PostgresDriver(url, application_name="aishell-restore").connect()
    try:
        num = await conn.server_version_num()
        existing = await conn.user_relation_count()
    finally:
        await conn.close()
    if existing and not clean:
        raise BackupError(
            f"target {redact_url(url)} is not empty ({existing} tables, views or sequences): "
            "restore into an empty database, or pass --clean to replace what the backup holds"
        )
    pg_restore = find_tool("pg_restore", num // 10000)
    cmd = [pg_restore, "--verbose", "--no-password", "--exit-on-error", f"--dbname={target.without_password}"]
    if no_owner:
        cmd.append("--no-owner")
    if clean:
        cmd += ["--clean", "--if-exists"]
    with _tool_env(target) as env:
        if manifest.format == "directory" or manifest.parallel_restore:
            source = directory if manifest.format == "directory" else directory / manifest.files[0].path
            cmd += [f"--jobs={jobs}"] if jobs > 1 else ["--single-transaction"]
            await _run_restore_files([*cmd, str(source)], env, directory, manifest, report, parallel=jobs > 1)
        else:
            await _restore_stream([*cmd, "--single-transaction"], env, directory / manifest.files[0].path, manifest.compression, report)


async def _run_restore_files(
    cmd: list[str], env: dict[str, str], directory: Path, manifest: Manifest, report: "_Reporter", *, parallel: bool
) -> None:
    """pg_restore reading the archive itself; bytes counted from the files of finished tables."""
    sizes = {Path(f.path).name.split(".", 1)[0]: f.bytes for f in manifest.files}
    done_bytes = 0

    def on_item(item_id: str | None) -> None:
        nonlocal done_bytes
        if item_id and item_id in sizes:
            done_bytes += sizes[item_id]
            report.update(bytes_done=done_bytes)

    async with _Children([env.get("PGPASSFILE")]) as children:
        proc = await children.spawn(cmd, env=env, stdout=asyncio.subprocess.DEVNULL)
        tables = _TableCounter(report, parallel, on_item)
        stderr = children.read_stderr(proc, tables.feed)
        await proc.wait()
        _check("pg_restore", proc.returncode, await stderr)


async def _restore_stream(cmd: list[str], env: dict[str, str], file: Path, compression: str, report: "_Reporter") -> None:
    """A streamed custom archive: FILE -> (zstd -d | zlib) -> pg_restore's standard input."""
    async with _Children([env.get("PGPASSFILE")]) as children:
        if compression == "zstd":
            zstd = shutil.which("zstd")
            if zstd is None:
                raise BackupError("zstd not found: install the zstd package to restore this backup")
            read_end, write_end = os.pipe()
            try:
                unpacker = await children.spawn([zstd, "-d", "-q", "-c", "-"], env=env, stdin=asyncio.subprocess.PIPE, stdout=write_end)
                proc = await children.spawn(cmd, env=env, stdin=read_end, stdout=asyncio.subprocess.DEVNULL)
            finally:
                os.close(read_end)
                os.close(write_end)
            sink, decode = unpacker.stdin, None
            unpack_err = children.read_stderr(unpacker, None)
        else:
            proc = await children.spawn(cmd, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
            sink = proc.stdin
            decode = zlib.decompressobj(31).decompress if compression == "gzip" else None
            unpacker, unpack_err = None, None
        tables = _TableCounter(report, parallel=False)
        stderr = children.read_stderr(proc, tables.feed)
        sent = 0
        try:
            with open(file, "rb") as f:
                while chunk := f.read(CHUNK):
                    data = await asyncio.to_thread(decode, chunk) if decode else chunk
                    sink.write(data)
                    await sink.drain()
                    sent += len(chunk)
                    report.update(bytes_done=sent)
            sink.close()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                await sink.wait_closed()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader died: its exit status and stderr say why
        if unpacker is not None:
            await unpacker.wait()
        await proc.wait()
        _check("pg_restore", proc.returncode, await stderr)
        if unpacker is not None:
            _check("zstd", unpacker.returncode, await unpack_err)


# -- SQLite ---------------------------------------------------------------------------------------


async def _backup_sqlite(url: str, out: Path, report: "_Reporter") -> Manifest:
    from aishell.engine.drivers.sqlite import SQLiteDriver

    driver = SQLiteDriver(url)
    if driver.path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up from another process")
    conn = await driver.connect(mode="ro")
    try:
        version = await conn.server_version()
        relations = await conn.relation_sizes()
    finally:
        await conn.close()
    tables = [TableEntry("main", t.name, "table", t.row_estimate, size) for t, size in relations]
    report.progress.tables_total = len(tables)
    dest = out / SQLITE_FILE
    await _sqlite_copy(_ro_uri(driver.path), str(dest), report, check=True)
    files = await _file_entries(out)
    report.update(bytes_done=files[0].bytes, tables_done=len(tables), finished=True, force=True)
    return Manifest(
        engine="sqlite",
        format="sqlite",
        compression="none",
        database={"url": driver.display_url, "path": str(Path(driver.path).resolve())},
        server_version=version,
        tables=tables,
        files=files,
        created_at=_now(),
    )


async def _restore_sqlite(manifest: Manifest, directory: Path, url: str, clean: bool, report: "_Reporter") -> None:
    path = sqlite_path(url)
    if path == ":memory:":
        raise BackupError("restore needs a SQLite file, not :memory:")
    target = Path(path).expanduser()
    if target.exists() and target.stat().st_size and not clean:
        existing = await _sqlite_object_count(target)
        if existing:
            raise BackupError(
                f"target {target} is not empty ({existing} tables, views or indexes): "
                "restore into a new file, or pass --clean to replace its contents"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    existed = target.exists()
    try:
        # The backup API writes the target in one transaction: stopped early, it is rolled back.
        # immutable: reading the verified file creates no -wal/-shm beside it (a WAL-mode copy
        # would otherwise leave them, and the next restore would rightly refuse them as unlisted)
        source = _ro_uri(str(directory / manifest.files[0].path)) + "&immutable=1"
        await _sqlite_copy(source, str(target), report, check=False)
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                target.unlink()
        raise


async def _sqlite_object_count(path: Path) -> int:
    from aishell.engine.drivers.sqlite import SQLiteDriver

    try:
        conn = await SQLiteDriver(str(path)).connect(mode="ro")
    except AishellError as exc:
        raise BackupError(f"target {path} is not a SQLite database ({exc.message}); refusing to overwrite it") from None
    try:
        return await conn.user_relation_count()
    finally:
        await conn.close()


async def _sqlite_copy(source_uri: str, dest: str, report: "_Reporter", *, check: bool) -> None:
    """The online backup API in a worker thread, a few hundred pages a step.

    Other connections may keep writing the source: SQLite restarts the copy when a step sees a
    change, so the result is a consistent snapshot. Cancellation stops it between steps.
    """
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def on_step(status: int, remaining: int, total: int, page_size: int) -> None:
        if stop.is_set():
            raise _Stopped()
        loop.call_soon_threadsafe(report.update, (total - remaining) * page_size)

    def copy() -> None:
        try:
            src = sqlite3.connect(source_uri, uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot open {source_uri}: {exc}") from None
        try:
            page_size = src.execute("PRAGMA page_size").fetchone()[0]
            with contextlib.closing(sqlite3.connect(dest)) as dst:
                src.backup(dst, pages=256, progress=lambda s, r, t: on_step(s, r, t, page_size))
                if check:
                    result = dst.execute("PRAGMA quick_check").fetchone()[0]
                    if result != "ok":
                        raise BackupError(f"the copy failed SQLite's quick_check: {result}")
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite backup failed: {exc}") from None
        finally:
            src.close()

    task = asyncio.ensure_future(asyncio.to_thread(copy))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        with contextlib.suppress(Exception, _Stopped):
            await task
        raise


class _Stopped(BaseException):
    """Raised inside the backup API's progress callback to stop the copy."""


def _ro_uri(path: str) -> str:
    return f"file:{quote(str(Path(path).resolve()))}?mode=ro"


# -- processes ----------------------------------------------------------------------------------


class _Children:
    """The tools one operation runs, in one process group that never outlives us.

    Every tool joins one process group (pg_dump's parallel workers inherit it), so one signal
    reaches them all: on error or cancellation they get SIGTERM, then SIGKILL after 5 s. A
    watchdog (``sh``, in a session of its own) holds the read end of a pipe whose write end only
    we hold; when we die in any way, SIGKILL and OOM included, the kernel closes it, and the
    watchdog kills the group and removes ``leftovers`` (the partial backup, the passfile).
    ``prctl(PR_SET_PDEATHSIG)`` would not do: it is not inherited by pg_dump's workers, and
    it needs ``preexec_fn``, which is unsafe in a process with threads.
    """

    def __init__(self, leftovers: list[str | os.PathLike[str] | None] | None = None) -> None:
        self._procs: list[asyncio.subprocess.Process] = []
        self._group: int | None = None
        self._leftovers = [str(p) for p in leftovers or () if p]
        self._watchdog: asyncio.subprocess.Process | None = None
        self._lifeline: int | None = None
        self._readers: list[asyncio.Future[list[str]]] = []

    async def __aenter__(self) -> "_Children":
        read_end, write_end = os.pipe()  # both close-on-exec: no tool inherits the write end
        try:
            self._watchdog = await asyncio.create_subprocess_exec(
                "/bin/sh", "-c", _WATCHDOG, "aishell-watchdog", *self._leftovers,
                stdin=read_end, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._lifeline = write_end
        return self

    async def spawn(self, cmd: list[str], **kwargs: Any) -> asyncio.subprocess.Process:
        # The first tool leads a new group in our session (so Ctrl-C on the terminal reaches
        # only us, and we stop the tools in order); the others join it.
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd, stderr=asyncio.subprocess.PIPE, process_group=self._group or 0, limit=1 << 20, **kwargs
            )
        except FileNotFoundError:
            raise BackupError(f"{cmd[0]} not found") from None
        self._procs.append(proc)
        if self._group is None:
            self._group = proc.pid
            self._tell_watchdog(f"{proc.pid}\n")
        return proc

    def read_stderr(self, proc: asyncio.subprocess.Process, on_line: Callable[[str], None] | None) -> "asyncio.Future[list[str]]":
        """The tool's stderr lines, read by a task these children finish before they exit."""
        reader = asyncio.ensure_future(_read_stderr(proc, on_line))
        self._readers.append(reader)
        return reader

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None:
                await asyncio.shield(self._kill_all())
            await asyncio.shield(self._drain())
        finally:
            self._tell_watchdog("done\n")
            os.close(self._lifeline)  # type: ignore[arg-type]
            self._lifeline = None
            if self._watchdog is not None:
                await asyncio.shield(self._watchdog.wait())

    async def _drain(self) -> None:
        """Read every pipe of the tools to its end while the loop still runs: a pipe left open
        is closed by the garbage collector after the loop has gone, which prints a traceback."""
        for proc in self._procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for reader in self._readers:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(reader), 5)
            reader.cancel()
        for proc in self._procs:
            if proc.stdout is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.stdout.read(), 5)

    def _tell_watchdog(self, line: str) -> None:
        with contextlib.suppress(OSError):  # a watchdog killed by someone else: nothing to tell
            os.write(self._lifeline, line.encode())  # type: ignore[arg-type]

    async def _kill_all(self) -> None:
        if self._group is None:
            return
        self._signal_group(signal.SIGTERM)
        self._signal_group(signal.SIGCONT)  # a stopped tool acts on SIGTERM only once continued
        for proc in self._procs:
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                self._signal_group(signal.SIGKILL)
                await proc.wait()
        self._signal_group(signal.SIGKILL)  # stragglers our direct children left behind

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._group, signum)  # type: ignore[arg-type]


# The watchdog: line 1 is the tools' process group, line 2 "done" when we finished normally.
# End of input without "done" means we died: kill the group, then remove what we left.
_WATCHDOG = """
read -r group
[ "$group" = done ] && exit 0
read -r word
[ "$word" = done ] && exit 0
[ -n "$group" ] && kill -KILL -- "-$group" 2>/dev/null
sleep 0.1
rm -rf -- "$@"
"""


async def _read_stderr(proc: asyncio.subprocess.Process, on_line: Callable[[str], None] | None) -> list[str]:
    """The tool's stderr lines (the last 40 kept for error messages), each also given to on_line."""
    kept: collections.deque[str] = collections.deque(maxlen=40)
    assert proc.stderr is not None
    async for raw in proc.stderr:
        line = raw.decode("utf-8", "replace").rstrip()
        kept.append(line)
        if on_line is not None:
            on_line(line)
    return list(kept)


def _check(tool: str, returncode: int | None, stderr: list[str]) -> None:
    """Raise BackupError with the tool's own error line when it failed."""
    if returncode == 0:
        return
    errors = [line for line in stderr if "error:" in line or "FATAL" in line or "ERROR" in line]
    detail = (errors or stderr or [f"exit status {returncode}"])[0]
    detail = re.sub(r"^\w+: error: ", "", detail)
    raise BackupError(f"{tool} failed: {redact_text(detail)}")


class _TableCounter:
    """Counts tables from pg_dump/pg_restore ``--verbose`` lines."""

    _START = re.compile(r'(?:dumping contents of table|processing data for table) "(?P<table>[^"]+)"')
    _LAUNCH = re.compile(r"launching item (?P<id>\d+) TABLE DATA (?P<table>.+)$")
    _FINISH = re.compile(r"finished item (?P<id>\d+) TABLE DATA (?P<table>.+)$")

    def __init__(self, report: "_Reporter", parallel: bool, on_done: Callable[[str | None], None] | None = None) -> None:
        self._report = report
        self._parallel = parallel
        self._on_done = on_done
        self._started = 0
        self._finished = 0

    def feed(self, line: str) -> None:
        report = self._report
        if match := self._FINISH.search(line):
            self._finished += 1
            if self._on_done:
                self._on_done(match["id"])
            report.update(tables_done=min(self._finished, report.progress.tables_total or self._finished), force=True)
        elif match := (self._START.search(line) or self._LAUNCH.search(line)):
            self._started += 1
            done = self._finished if self._parallel else self._started - 1
            if not self._parallel and self._on_done:
                self._on_done(None)
            report.update(table=match["table"], tables_done=min(done, report.progress.tables_total or done), force=True)


class _Reporter:
    """Keeps one Progress and sends it to the callback at most every 0.1 s (or when forced)."""

    def __init__(self, callback: ProgressCallback | None, phase: str, **initial: Any) -> None:
        self.callback = callback
        self.progress = Progress(phase, **initial)
        self._last = 0.0

    def update(self, bytes_done: int | None = None, *, force: bool = False, **changes: Any) -> None:
        if bytes_done is not None:
            self.progress.bytes_done = bytes_done
        for key, value in changes.items():
            setattr(self.progress, key, value)
        if self.callback is None:
            return
        now = time.monotonic()
        if force or now - self._last >= 0.1:
            self._last = now
            self.callback(self.progress)


# -- files --------------------------------------------------------------------------------------


PARTIAL_MARK = ".partial-"


def _start_partial(out: Path) -> Path:
    """The empty private directory (0700) the backup is written into: ``.NAME.partial-PID``
    beside ``out``. Refuses an ``out`` that exists and is not an empty directory, and removes
    partial copies left beside it by runs that were killed (their process is gone)."""
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise BackupError(f"{out} exists and is not a directory: choose a new --out path")
        if any(out.iterdir()):
            raise BackupError(f"{out} already exists and is not empty: choose a new --out path")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {out.parent}: {exc.strerror or exc}") from None
    prefix = f".{out.name}{PARTIAL_MARK}"
    with contextlib.suppress(OSError):
        for stale in out.parent.glob(glob.escape(prefix) + "*"):
            pid = stale.name[len(prefix):]
            if pid.isdigit() and not _process_exists(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
    work = out.parent / f"{prefix}{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)  # ours from an earlier call in this process
    try:
        work.mkdir(mode=0o700)
    except OSError as exc:
        raise BackupError(f"cannot create {work}: {exc.strerror or exc}") from None
    return work


def _publish(work: Path, out: Path) -> None:
    """Rename the finished backup to ``out`` (absent, or an empty directory it replaces) and
    make the rename durable."""
    try:
        os.rename(work, out)
    except OSError as exc:
        raise BackupError(f"cannot move the finished backup to {out}: {exc.strerror or exc} (was it created meanwhile?)") from None
    _fsync_dir(out.parent)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file (mode 0600) and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _backup_dir(path: str | os.PathLike[str]) -> Path:
    path = Path(path).expanduser()
    if path.name == MANIFEST_NAME:
        return path.parent
    if not path.exists():
        raise BackupError(f"backup {path} does not exist")
    if not path.is_dir():
        raise BackupCorrupt(f"{path} is a file: an aishell backup is a directory holding {MANIFEST_NAME}")
    return path


async def _file_entries(out: Path) -> list[FileEntry]:
    """Every file the tools wrote, with its size and sha256; each made private (0600) and
    flushed to disk, so the manifest written after them never describes data still in flight."""
    entries = []
    for file in sorted(p for p in out.rglob("*") if p.is_file() and p.name != MANIFEST_NAME):
        digest = await _sha256(file, None)
        await asyncio.to_thread(_make_durable, file)
        entries.append(FileEntry(file.relative_to(out).as_posix(), file.stat().st_size, digest))
    _fsync_dir(out)
    return entries


def _make_durable(path: Path) -> None:
    os.chmod(path, 0o600)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _sha256(path: Path, on_bytes: Callable[[int], None] | None) -> str:
    """sha256 of a file, hashed in a worker thread (hashlib releases the GIL)."""
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def run() -> str:
        digest = hashlib.sha256()
        done = 0
        with open(path, "rb") as f:
            while chunk := f.read(8 * CHUNK):
                if stop.is_set():
                    raise _Stopped()
                digest.update(chunk)
                done += len(chunk)
                if on_bytes is not None:
                    loop.call_soon_threadsafe(on_bytes, done)
        return digest.hexdigest()

    task = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        with contextlib.suppress(Exception, _Stopped):
            await task
        raise


def _tree_size(path: Path) -> int:
    total = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(path):
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat().st_size
    return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# -- small helpers ----------------------------------------------------------------------------


def _jobs(jobs: int | None) -> int:
    if jobs is None:
        return max(1, os.cpu_count() or 1)
    if jobs < 1:
        raise ConfigurationError(f"jobs must be at least 1, got {jobs!r}")
    return jobs


def _major_of_dir(directory: str) -> int | None:
    match = re.search(r"/postgresql/(\d+)/bin$", directory)
    return int(match.group(1)) if match else None


def _tool_major(path: str) -> int:
    major = _major_of_dir(str(Path(path).parent))
    if major is not None:
        return major
    import subprocess

    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


__all__ = [
    "BackupCorrupt",
    "BackupError",
    "FileEntry",
    "Manifest",
    "Progress",
    "ProgressCallback",
    "TableEntry",
    "backup",
    "find_tool",
    "restore",
    "verify",
]
