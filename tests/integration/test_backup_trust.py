"""Tampered backups are refused before anything is written, against real backups of the throwaway
cluster (pg_dump directory archives) and of real SQLite files.

Every row edits a pristine backup (its files, its manifest, or both) and runs ``aishell restore``:
it must exit 2 with one line on stderr and leave the target as it was; ``--verify-only`` must say
the same. A file the manifest does not list is never restored unverified.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import asyncpg
import pytest

from aishell.engine.backup import MANIFEST_NAME, backup
from aishell.tui.cli import main as cli

pytestmark = pytest.mark.pg


def _data_file(d: Path, m: dict) -> dict:
    """The manifest entry of the biggest file (a table's data; the database for SQLite)."""
    return max(m["files"], key=lambda f: f["bytes"])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _remove_entry_and_tamper(d: Path, m: dict) -> None:
    entry = _data_file(d, m)
    m["files"].remove(entry)
    _flip(d / entry["path"])


def _extra_file(d: Path, m: dict) -> None:
    (d / "9999.dat.gz").write_bytes(b"not in the manifest")


def _extra_file_in_subdir(d: Path, m: dict) -> None:
    (d / "more").mkdir()
    (d / "more" / "x.dat").write_bytes(b"hidden")


def _symlink(d: Path, m: dict) -> None:
    (d / "link.dat").symlink_to("/etc/hostname")


def _listed_symlink(d: Path, m: dict) -> None:
    """The listed file replaced by a symlink to an identical copy outside the backup."""
    entry = _data_file(d, m)
    outside = d.parent / "outside.bin"
    shutil.copyfile(d / entry["path"], outside)
    (d / entry["path"]).unlink()
    (d / entry["path"]).symlink_to(outside)


def _missing_file(d: Path, m: dict) -> None:
    (d / _data_file(d, m)["path"]).unlink()


def _size_mismatch(d: Path, m: dict) -> None:
    with open(d / _data_file(d, m)["path"], "ab") as f:
        f.write(b"\0")


def _digest_mismatch(d: Path, m: dict) -> None:
    _flip(d / _data_file(d, m)["path"])


def _set(path: str, value):
    """A row that sets one value of the manifest: ``files.0.bytes`` style paths; value DELETE removes it."""

    def edit(d: Path, m: dict) -> None:
        *parents, last = path.split(".")
        node = m
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        key = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value(node[key]) if callable(value) else value

    return edit


DELETE = object()


def _raw(text: bytes):
    def edit(d: Path, m: dict) -> None:
        m.clear()
        m["__raw__"] = text

    return edit


def _no_manifest(d: Path, m: dict) -> None:
    m.clear()
    m["__raw__"] = None


# (id, edit, fragment of the one-line refusal)
ROWS = [
    ("entry-removed-file-tampered", _remove_entry_and_tamper, "not listed in its manifest"),
    ("extra-file", _extra_file, "9999.dat.gz"),
    ("extra-file-in-subdir", _extra_file_in_subdir, "more/x.dat"),
    ("unlisted-symlink", _symlink, "link.dat"),
    ("listed-file-is-symlink", _listed_symlink, "not a regular file"),
    ("missing-file", _missing_file, "is missing"),
    ("size-mismatch", _size_mismatch, "the manifest says"),
    ("digest-mismatch", _digest_mismatch, "checksum mismatch"),
    ("manifest-size-edited", _set("files.0.bytes", lambda n: n + 1), "the manifest says"),
    ("bytes-as-string", _set("files.0.bytes", lambda n: str(n)), "files[0].bytes"),
    ("bytes-as-bool", _set("files.0.bytes", True), "files[0].bytes"),
    ("bytes-negative", _set("files.0.bytes", -1), "files[0].bytes"),
    ("bytes-float", _set("files.0.bytes", 25.0), "files[0].bytes"),
    ("sha256-not-hex", _set("files.0.sha256", "zz" * 32), "files[0].sha256"),
    ("sha256-short", _set("files.0.sha256", "ab" * 8), "files[0].sha256"),
    ("sha256-missing", _set("files.0.sha256", DELETE), "files[0]"),
    ("path-missing", _set("files.0.path", DELETE), "files[0]"),
    ("path-traversal", _set("files.0.path", "../outside.bin"), "files[0].path"),
    ("path-absolute", _set("files.0.path", "/etc/hostname"), "files[0].path"),
    ("path-dot", _set("files.0.path", "./toc.dat"), "files[0].path"),
    ("path-is-manifest", _set("files.0.path", MANIFEST_NAME), "files[0].path"),
    ("duplicate-entry", lambda d, m: m["files"].append(dict(m["files"][0])), "twice"),
    ("no-files", _set("files", []), "files"),
    ("files-not-a-list", _set("files", {}), "files"),
    ("entry-not-an-object", _set("files.0", 7), "files[0]"),
    ("entry-unknown-key", _set("files.0.mode", 420), "files[0]"),
    ("engine-missing", _set("engine", DELETE), "engine"),
    ("engine-unknown", _set("engine", "oracle"), "engine"),
    ("format-unknown", _set("format", "tar"), "format"),
    ("compression-unknown", _set("compression", "lz4"), "compression"),
    ("version-2", _set("version", 2), "version"),
    ("version-as-string", _set("version", "1"), "version"),
    ("version-missing", _set("version", DELETE), "version"),
    ("unknown-key", _set("signed_by", "mallory"), "signed_by"),
    ("tables-row-estimate-string", _set("tables.0.row_estimate", "12"), "tables[0].row_estimate"),
    ("tables-not-a-list", _set("tables", "all"), "tables"),
    ("elapsed-as-string", _set("elapsed_s", "0.5"), "elapsed_s"),
    ("parallel-restore-as-string", _set("parallel_restore", "yes"), "parallel_restore"),
    ("database-not-an-object", _set("database", "shop"), "database"),
    ("created-at-number", _set("created_at", 1700000000), "created_at"),
    ("truncated-json", _raw(b'{"version": 1, "engine": "postgres", "files": [{"pa'), "not valid JSON"),
    ("not-json", _raw(b"version=1\n"), "not valid JSON"),
    ("empty-manifest", _raw(b""), "not valid JSON"),
    ("manifest-a-list", _raw(b"[]"), "not a JSON object"),
    ("manifest-not-utf8", _raw(b'{"version": "\xff\xfe"}'), "manifest"),
    ("manifest-deep-nesting", _raw(b"[" * 100_000 + b"]" * 100_000), "manifest"),
    ("manifest-removed", _no_manifest, "no aishell-manifest.json"),
]


def _apply(directory: Path, edit) -> None:
    path = directory / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    edit(directory, manifest)
    if "__raw__" not in manifest:
        path.write_text(json.dumps(manifest))
    elif manifest["__raw__"] is None:
        path.unlink()
    else:
        path.write_bytes(manifest["__raw__"])


@pytest.fixture(scope="module")
def pg_backup(pg_cluster, tmp_path_factory) -> tuple[Path, str]:
    """A pristine directory backup of a small PostgreSQL database, and an empty target database."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    name = f"bt_{uuid.uuid4().hex[:10]}"
    url = pg_cluster.create_database(name)
    pg_cluster.psql(
        """CREATE TABLE orders (id bigint PRIMARY KEY, note text);
           INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
           CREATE TABLE customers (id int PRIMARY KEY, name text);
           INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 500) g;""",
        database=name,
    )
    out = tmp_path_factory.mktemp("pristine") / "bk"
    asyncio.run(backup(url, out, format="directory", jobs=1))
    return out, pg_cluster.create_database(f"bt_target_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def sqlite_backup(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sqlite-pristine")
    with sqlite3.connect(base / "src.db") as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)")
        db.executemany("INSERT INTO orders (note) VALUES (?)", [(f"note {i}",) for i in range(5000)])
    asyncio.run(backup(str(base / "src.db"), base / "bk"))
    return base / "bk"


async def _pg_relations(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        )
    finally:
        await conn.close()


def _refused(capsys, args: list[str], fragment: str) -> str:
    assert cli(args) == 2, f"aishell {' '.join(args)} was not refused"
    out, err = capsys.readouterr()
    assert err.startswith("aishell: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert fragment in err, err
    return err


@pytest.mark.parametrize(("edit", "fragment"), [pytest.param(r[1], r[2], id=r[0]) for r in ROWS])
def test_tampered_postgres_backup_is_refused_and_target_untouched(pg_backup, tmp_path, capsys, edit, fragment):
    pristine, target = pg_backup
    bk = tmp_path / "bk"
    shutil.copytree(pristine, bk, symlinks=True)
    _apply(bk, edit)
    _refused(capsys, ["restore", "-q", "--verify-only", str(bk)], fragment)
    _refused(capsys, ["restore", "-q", str(bk), target], fragment)
    assert asyncio.run(_pg_relations(target)) == 0, "nothing reached the target"


# Rows that name PostgreSQL archive files or formats read differently on a SQLite backup.
_SQLITE_FRAGMENTS = {
    "entry-removed-file-tampered": "files",  # its only file: an empty list is refused as such
    "format-unknown": "format",
    "path-dot": "files[0].path",
}


@pytest.mark.parametrize(("edit", "fragment"), [pytest.param(r[1], _SQLITE_FRAGMENTS.get(r[0], r[2]), id=r[0]) for r in ROWS])
def test_tampered_sqlite_backup_is_refused_and_target_untouched(sqlite_backup, tmp_path, capsys, edit, fragment):
    bk = tmp_path / "bk"
    shutil.copytree(sqlite_backup, bk, symlinks=True)
    _apply(bk, edit)
    target = tmp_path / "target.db"
    _refused(capsys, ["restore", "-q", "--verify-only", str(bk)], fragment)
    _refused(capsys, ["restore", "-q", str(bk), str(target)], fragment)
    assert not target.exists(), "nothing written"
    existing = tmp_path / "existing.db"
    with sqlite3.connect(existing) as db:
        db.execute("CREATE TABLE keep (x)")
    before = existing.read_bytes()
    _refused(capsys, ["restore", "-q", "--clean", str(bk), str(existing)], fragment)
    assert existing.read_bytes() == before


@pytest.mark.parametrize("edit", [
    pytest.param(_remove_entry_and_tamper, id="entry-removed-file-tampered"),
    pytest.param(_extra_file, id="extra-file"),
    pytest.param(_missing_file, id="missing-file"),
    pytest.param(_size_mismatch, id="size-mismatch"),
    pytest.param(_set("files.0.bytes", "25"), id="bytes-as-string"),
])
def test_no_verify_skips_only_the_checksums(pg_backup, tmp_path, capsys, edit):
    """--no-verify saves hashing; the listing, the sizes and the manifest's shape are still checked."""
    pristine, target = pg_backup
    bk = tmp_path / "bk"
    shutil.copytree(pristine, bk)
    _apply(bk, edit)
    assert cli(["restore", "-q", "--no-verify", str(bk), target]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert asyncio.run(_pg_relations(target)) == 0


def test_pristine_backups_verify(pg_backup, sqlite_backup, capsys):
    """The rows above fail for their edit, not because the backups were bad to begin with."""
    assert cli(["restore", "--verify-only", str(pg_backup[0])]) == 0
    assert cli(["restore", "--verify-only", str(sqlite_backup)]) == 0
    assert capsys.readouterr().out.count("is intact") == 2
    assert os.stat(pg_backup[0]).st_mode & 0o777 == 0o700
