"""Usage errors change nothing: each row runs the real CLI and must exit 2 with exactly one line on
stderr naming the problem, no traceback, and leave every file as it was (none created, none
written, a 0-byte file still 0 bytes).

Targets that name no database (``sqlite://``) or a file that is not one yet (missing, 0 bytes)
are refused at every entry point without --create; a setting that cannot be used (environment or
config.toml: wrong type, unknown section or key, TOML syntax, out of range) stops every command.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROWS = [
    # id, argv ({tmp}, {db}, {empty}, {missing}, {sql} are filled in), environment, config.toml, expected text
    ("run sqlite://", ["run", "sqlite://", "-c", "SELECT 1"], {}, None, "'sqlite://' names no database file"),
    ("run sqlite:///", ["run", "sqlite:///", "-c", "SELECT 1"], {}, None, "'sqlite:///' names no database file"),
    ("run sqlite:", ["run", "sqlite:", "-c", "SELECT 1"], {}, None, "'sqlite:' names no database file"),
    ("workbench sqlite://", ["sqlite://"], {}, None, "'sqlite://' names no database file"),
    ("migrate sqlite:", ["migrate", "status", "--db", "sqlite:", "--dir", "{tmp}/migrations"], {}, None, "'sqlite:' names no database file"),
    ("run 0-byte file", ["run", "{empty}", "-c", "SELECT 1"], {}, None, "is empty (0 bytes), not a database yet"),
    ("workbench 0-byte file", ["{empty}"], {}, None, "is empty (0 bytes), not a database yet"),
    ("backup 0-byte file", ["backup", "{empty}", "--out", "{tmp}/backup", "-q"], {}, None, "is empty (0 bytes)"),
    ("migrate 0-byte file", ["migrate", "up", "--db", "{empty}", "--dir", "{tmp}/migrations"], {}, None, "is empty (0 bytes)"),
    ("analyze --db 0-byte file", ["analyze", "--db", "{empty}", "{sql}"], {}, None, "is empty (0 bytes)"),
    ("run missing file", ["run", "{missing}", "-c", "SELECT 1"], {}, None, "does not exist (pass --create"),
    ("workbench missing file", ["{missing}"], {}, None, "does not exist (pass --create"),
    ("migrate missing file", ["migrate", "status", "--db", "{missing}", "--dir", "{tmp}/migrations"], {}, None, "does not exist"),
    ("env not an integer: run", ["run", "{db}", "-c", "SELECT 1"], {"AISHELL_POOL__MAX_SIZE": "abc"}, None,
     "AISHELL_POOL__MAX_SIZE: pool.max_size = 'abc': not an integer"),
    ("env negative size: analyze", ["analyze", "{sql}"], {"AISHELL_POOL__MAX_SIZE": "-1"}, None,
     "AISHELL_POOL__MAX_SIZE: pool.max_size = '-1': must be at least 1"),
    ("env unknown key: memory", ["memory", "stats"], {"AISHELL_POOL__MAXSIZE": "3"}, None,
     "AISHELL_POOL__MAXSIZE: unknown setting pool.maxsize (did you mean pool.max_size?)"),
    ("env not a boolean: bench", ["bench", "analyzer"], {"AISHELL_CACHE__ENABLED": "maybe"}, None,
     "AISHELL_CACHE__ENABLED: cache.enabled = 'maybe': not a boolean"),
    ("env zero page size: workbench", ["{db}"], {"AISHELL_UI__PAGE_SIZE": "0"}, None, "ui.page_size = '0': must be at least 1"),
    ("env unknown section: backup", ["backup", "{db}", "--out", "{tmp}/backup", "-q"], {"AISHELL_POLL__MAX_SIZE": "3"}, None,
     "unknown setting poll (did you mean pool?)"),
    ("toml bad value: run", ["run", "{db}", "-c", "SELECT 1"], {}, '[pool]\nmax_size = "many"\n',
     "config.toml: pool.max_size = 'many': not an integer"),
    ("toml unknown section: workbench", ["{db}"], {}, "[pools]\nmax_size = 3\n", "config.toml: unknown setting pools (did you mean pool?)"),
    ("toml unknown key: memory", ["memory", "search", "x"], {}, "[cache]\nttl = 3\n", "config.toml: unknown setting cache.ttl"),
    ("toml syntax: bench", ["bench", "analyzer"], {}, "[pool]\nmax_size = 4\nmin_size = \n",
     "config.toml: not valid TOML: Invalid value (at line 3, column 12)"),
    ("toml negative size: analyze", ["analyze", "{sql}"], {}, "[cache]\nmax_bytes = -5\n", "config.toml: cache.max_bytes = -5: must be at least 1"),
    ("toml float for int: migrate", ["migrate", "status", "--db", "{db}", "--dir", "{tmp}/migrations"], {}, "[pool]\nmax_size = 2.5\n",
     "pool.max_size = 2.5: not an integer"),
]


def _state(root: Path) -> dict[str, tuple[int, int] | None]:
    """Every file and directory under ``root`` with its size and modification time."""
    state: dict[str, tuple[int, int] | None] = {}
    for path in sorted(root.rglob("*")):
        stat = path.stat()
        state[str(path.relative_to(root))] = None if path.is_dir() else (stat.st_size, stat.st_mtime_ns)
    return state


@dataclass
class Outcome:
    proc: subprocess.CompletedProcess
    before: dict[str, tuple[int, int] | None]
    after: dict[str, tuple[int, int] | None]
    empty_size: int


def _run_row(root: Path, argv: list[str], env: dict[str, str], config: str | None) -> Outcome:
    """Run one row in a directory of its own (own AISHELL_HOME), recording the files around it."""
    work, home = root / "work", root / "home"
    work.mkdir(parents=True)
    home.mkdir()
    db = work / "shop.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (a int)")
    conn.close()
    empty = work / "empty.db"
    empty.touch()
    sql = work / "query.sql"
    sql.write_text("SELECT a FROM t;\n")
    if config is not None:
        (home / "config").mkdir()
        (home / "config" / "config.toml").write_text(config)
    names = {"tmp": str(work), "db": str(db), "empty": str(empty), "missing": str(work / "missing.db"), "sql": str(sql)}
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AISHELL_")}
    before = _state(root)
    proc = subprocess.run(
        [sys.executable, "-m", "aishell.tui.cli", *(a.format(**names) for a in argv)],
        env={**inherited, "AISHELL_HOME": str(home), **env},
        cwd=work,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Outcome(proc, before, _state(root), empty.stat().st_size)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    """Every row run once, a few at a time (each is a process start: together they take seconds)."""
    root = tmp_path_factory.mktemp("usage")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {row[0]: pool.submit(_run_row, root / f"row{n}", *row[1:4]) for n, row in enumerate(ROWS)}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name, expected", [pytest.param(row[0], row[4], id=row[0]) for row in ROWS])
def test_usage_error_is_one_line_and_changes_nothing(outcomes, name, expected):
    outcome = outcomes[name]
    proc = outcome.proc
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("aishell: ") and expected in lines[0]
    assert proc.stdout == ""
    assert outcome.after == outcome.before
    assert outcome.empty_size == 0


def test_create_still_makes_the_database(tmp_path):
    """The refusals above are lifted by --create: a 0-byte file becomes a database, a missing one is made."""
    empty = tmp_path / "empty.db"
    empty.touch()
    for target in (empty, tmp_path / "new.db"):
        proc = subprocess.run(
            [sys.executable, "-m", "aishell.tui.cli", "run", str(target), "--create", "-c", "SELECT 41 + 1 AS answer", "--format", "csv"],
            capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == ["answer", "42"]
        assert target.read_bytes().startswith(b"SQLite format 3\x00")
