"""`aishell run URL -f FILE` as a CI job runs it: real processes on real SQLite files and the
test PostgreSQL cluster. Statement by statement, stopping at the first error with exit 1 and the
failing statement's file and line on stderr; backslash lines through the command table."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

AISHELL = [sys.executable, "-m", "aishell.tui.cli"]


def aishell(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="false")
    return subprocess.run([*AISHELL, *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd)


@pytest.fixture
def db(tmp_path) -> str:
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table t (a integer)")
    return str(path)


def tables(path: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}


def test_script_runs_every_statement_and_nested_files_in_order(db, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "inner.sql").write_text("insert into t values (2);\n\\ir more.sql\n")
    (tmp_path / "lib" / "more.sql").write_text("insert into t values (3);")
    script = tmp_path / "main.sql"
    script.write_text("insert into t values (1);\n\\i lib/inner.sql\nselect count(*) as n from t;\n\\dt\nselect 'done' as s")
    out = aishell("run", db, "-f", str(script), "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["columns"] for r in results][-3:] == [["n"], ["Schema", "Name", "Type"], ["s"]]
    assert results[-3]["rows"] == [[3]] and ["main", "t", "table"] in results[-2]["rows"]
    assert results[-1]["rows"] == [["done"]]


def test_table_format_separates_results_with_a_blank_line(db, tmp_path):
    script = tmp_path / "two.sql"
    script.write_text("select 1 as a;\nselect 2 as b;")
    out = aishell("run", db, "-f", str(script))
    assert out.returncode == 0, out.stderr
    assert out.stdout == " a\n---\n 1\n(1 row)\n\n b\n---\n 2\n(1 row)\n"


@pytest.mark.parametrize(
    ("flags", "rows_left", "rolled_back"),
    [((), [(1,)], False), (("-1",), [], True)],
    ids=["stop-on-error", "one-transaction"],
)
def test_failing_statement_stops_the_script_with_its_line(db, tmp_path, flags, rows_left, rolled_back):
    script = tmp_path / "fail.sql"
    script.write_text("insert into t values (1);\n\nselect a,\n       nosuch\n  from t;\ncreate table after_failure (x);\n")
    out = aishell("run", db, "-f", str(script), *flags)
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"aishell: {script}:3: ") and "nosuch" in lines[0]
    assert lines[0].endswith("(rolled back)") == rolled_back
    assert "after_failure" not in tables(db)  # the statements after it never ran
    with sqlite3.connect(db) as conn:
        assert conn.execute("select a from t").fetchall() == rows_left


def test_include_errors_name_the_line_that_included(db, tmp_path):
    (tmp_path / "loop.sql").write_text("select 1;\n\\i loop.sql\n")
    out = aishell("run", db, "-f", "loop.sql", cwd=tmp_path)
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert out.stderr.startswith("aishell: loop.sql:2: loop.sql: files nested more than 16 deep")
    missing = aishell("run", db, "-f", str(tmp_path / "absent.sql"))
    assert missing.returncode == 2 and missing.stderr.strip() == f"aishell: {tmp_path / 'absent.sql'}: no such file"


def test_connect_inside_a_script_runs_the_rest_there(db, tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table elsewhere (x)")
    script = tmp_path / "switch.sql"
    script.write_text(f"\\c {other}\nselect name from sqlite_master where type = 'table';")
    out = aishell("run", db, "-f", str(script), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["rows"] == [["elsewhere"]]


def test_script_from_stdin_and_usage_errors(db):
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="false")
    out = subprocess.run([*AISHELL, "run", db, "-f", "-", "--format", "csv"], input="select 7 as n;", capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0 and out.stdout.splitlines() == ["n", "7"]
    both = aishell("run", db, "-c", "select 1", "-f", "x.sql")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_postgres_error_position_maps_to_the_file_line(pg_fresh_db, tmp_path):
    script = tmp_path / "pg.sql"
    script.write_text("create table p (a int);\ninsert into p values (1);\nselect a\n  from p\n where nosuch = 1;\ndrop table p;\n")
    out = aishell("run", pg_fresh_db, "-f", str(script))
    assert out.returncode == 1
    assert out.stderr.startswith(f"aishell: {script}:5: ") and "nosuch" in out.stderr
    check = aishell("run", pg_fresh_db, "-c", "select count(*) as n from p", "--format", "json")
    assert json.loads(check.stdout)["rows"] == [[1]]  # ran up to the failure, the drop did not


def test_named_queries_run_as_steps_and_notices_go_to_stderr(db, tmp_path):
    script = tmp_path / "named.sql"
    script.write_text("\\ns doubled select $1 * 2 as n\n\\n doubled 21\n")
    out = aishell("run", db, "-f", str(script), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rows"] == [[42]] and "saved the named query doubled" in out.stderr


def test_variables_set_in_the_script_are_interpolated(db, tmp_path):
    script = tmp_path / "vars.sql"
    script.write_text("\\set n 5\n\\set word hello\nselect :n + 1 as six, :'word' as w, ':n' as literal;\n")
    out = aishell("run", db, "-f", str(script), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["rows"] == [[6, "hello", ":n"]]


def test_single_transaction_script_that_commits_by_itself(db, tmp_path):
    script = tmp_path / "commits.sql"
    script.write_text("insert into t values (1);\ncommit;\ninsert into t values (2);\n")
    out = aishell("run", db, "-1", "-f", str(script))
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select a from t order by a").fetchall() == [(1,), (2,)]
