"""`aishell analyze`: inputs (files, directories, stdin), output formats (text, json, SARIF 2.1.0),
--fail-on and exit codes, and --db on a real SQLite database (schema-aware rules and plans)."""

from __future__ import annotations

import io
import json
import socket
import sys

import pytest

from aishell.engine.analyzer import rule_catalog
from aishell.engine.demo import ensure_demo_database
from aishell.tui.cli import main


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(["analyze", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sql_dir(tmp_path):
    (tmp_path / "a.sql").write_text("SELECT * FROM orders;\nDELETE FROM orders;\n")
    sub = tmp_path / "nested"
    sub.mkdir()
    (sub / "b.sql").write_text("SELECT id FROM t WHERE name LIKE '%x';\n")
    (sub / "notes.txt").write_text("SELECT * FROM ignored")
    return tmp_path


def test_text_output_like_a_compiler(capsys, sql_dir):
    code, out, err = run(capsys, str(sql_dir / "a.sql"))
    assert code == 1  # an error-level finding (DELETE without WHERE)
    lines = out.splitlines()
    assert lines[0].startswith(f"{sql_dir / 'a.sql'}:1:8: AS001 warning: SELECT *")
    assert lines[1].startswith(f"{sql_dir / 'a.sql'}:2:1: AS002 error: DELETE without WHERE")
    assert lines[2].startswith("    suggestion: DELETE FROM orders WHERE <condition>")
    assert "2 findings (1 error, 1 warning) in 2 statements" in err


def test_directories_are_read_recursively_and_sorted(capsys, sql_dir):
    code, out, _ = run(capsys, "--format", "json", str(sql_dir))
    data = json.loads(out)
    files = [f["file"] for f in data["findings"]]
    assert files == [str(sql_dir / "a.sql")] * 2 + [str(sql_dir / "nested" / "b.sql")]
    assert data["stats"]["statements"] == 3 and data["stats"]["elapsed_ms"] >= 0
    assert set(data["findings"][0]) == {"file", "statement", "code", "rule", "severity", "message", "line", "column", "suggestion"}
    assert code == 1


def test_stdin_with_dash_and_without_arguments(capsys, monkeypatch):
    code, out, _ = run(capsys, "-", "--format", "json", stdin="SELECT id FROM t WHERE x = NULL", monkeypatch=monkeypatch)
    finding = json.loads(out)["findings"][0]
    assert (finding["file"], finding["code"], finding["line"], finding["column"]) == ("<stdin>", "AS012", 1, 24)
    assert code == 1
    code, out, _ = run(capsys, stdin="SELECT 1", monkeypatch=monkeypatch)
    assert code == 0 and out == ""


def test_fail_on_levels(capsys, tmp_path):
    path = tmp_path / "warn.sql"
    path.write_text("SELECT * FROM t")
    assert run(capsys, str(path))[0] == 0
    assert run(capsys, str(path), "--fail-on", "warning")[0] == 1
    assert run(capsys, str(path), "--fail-on", "info")[0] == 1
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT FROM WHERE;")
    assert run(capsys, str(bad), "--fail-on", "never")[0] == 0
    assert run(capsys, str(bad))[0] == 1


def test_parse_errors_do_not_stop_the_run(capsys, tmp_path):
    path = tmp_path / "mixed.sql"
    path.write_text("SELECT FROM WHERE;\nUPDATE t SET a = 1;\n")
    code, out, _ = run(capsys, "--format", "json", str(path))
    got = [(f["code"], f["statement"], f["line"]) for f in json.loads(out)["findings"]]
    assert got == [("AS000", 0, 1), ("AS002", 1, 2)]
    assert code == 1


def test_sarif_2_1_0(capsys, sql_dir):
    code, out, _ = run(capsys, "--format", "sarif", str(sql_dir / "a.sql"))
    log = json.loads(out)
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "aishell"
    ids = [r["id"] for r in driver["rules"]]
    assert ids[: len(rule_catalog())] == [r.code for r in rule_catalog()]
    first, second = run_["results"]
    assert first["ruleId"] == "AS001" and first["level"] == "warning"
    assert driver["rules"][first["ruleIndex"]]["id"] == "AS001"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("a.sql")
    assert location["region"]["startLine"] == 1 and location["region"]["startColumn"] == 8
    assert second["level"] == "error" and second["properties"]["suggestion"].startswith("DELETE FROM orders WHERE")
    assert code == 1


def test_usage_errors_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, str(tmp_path / "missing.sql"))
    assert code == 2 and out == "" and "no such file" in err and "Traceback" not in err
    code, _, err = run(capsys, "--dialect", "klingon", str(tmp_path))
    assert code == 2 and "unknown SQL dialect" in err
    (tmp_path / "ok.sql").write_text("SELECT 1")
    assert run(capsys, "--dialect", "PostgreSQL", str(tmp_path / "ok.sql"))[0] == 0


def test_unreachable_database_exits_2(capsys, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "q.sql"
    path.write_text("SELECT 1")
    code, out, err = run(capsys, "--db", f"postgresql://nobody@127.0.0.1:{port}/none", str(path))
    assert code == 2 and out == ""
    assert err.startswith("aishell: ") and len(err.strip().splitlines()) == 1


def test_sqlite_database_adds_schema_rules_and_plans(capsys, tmp_path):
    db = ensure_demo_database(tmp_path / "demo.db")
    path = tmp_path / "q.sql"
    path.write_text(
        "SELECT id, total FROM orders WHERE status = 'shipped';\n"
        "SELECT o.id FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.customer_id = 5;\n"
    )
    code, out, _ = run(capsys, "--db", str(db), "--format", "json", "--fail-on", "warning", str(path))
    found = {(f["code"], f["statement"]) for f in json.loads(out)["findings"]}
    assert ("AS014", 0) in found  # orders.status has no index (schema-aware rule)
    assert ("AS101", 0) in found  # EXPLAIN QUERY PLAN: SCAN orders
    assert ("AS014", 1) in found  # payments.order_id: join key without an index
    assert code == 1
    code, out, _ = run(capsys, "--db", str(db), "--no-plans", "--format", "json", str(path))
    assert not [f for f in json.loads(out)["findings"] if f["code"].startswith("AS1")]


def test_disable_rules_from_the_command_line_and_the_config_file(capsys, tmp_path, aishell_home):
    path = tmp_path / "q.sql"
    path.write_text("SELECT * FROM t WHERE x = NULL;\n")
    assert run(capsys, "--format", "json", "--disable", "AS012", str(path))[0] == 0
    config = aishell_home / "config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text('[analyzer]\ndisabled_rules = "AS001"\n')
    code, out, _ = run(capsys, "--format", "json", str(path))
    assert [f["code"] for f in json.loads(out)["findings"]] == ["AS012"] and code == 1
