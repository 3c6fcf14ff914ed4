"""Pure pieces of the foundation: URL routing and redaction, settings, statement kinds, output."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json

import pytest

from aishell.engine.config import ConfigError, Settings
from aishell.engine.drivers.url import classify, redact_text, redact_url, sqlite_path
from aishell.engine.errors import QueryError, UnsupportedURL
from aishell.engine.statements import describe
from aishell.engine.encode import json_text
from aishell.engine.types import Column
from aishell.tui.output import writer_for


@pytest.mark.parametrize(
    "target, kind",
    [
        ("postgresql://u@h/db", "postgres"), ("postgres://h", "postgres"), ("sqlite:///tmp/a.db", "sqlite"),
        ("shop.db", "sqlite"), ("./data/x.sqlite3", "sqlite"), (":memory:", "sqlite"),
        ("mongodb://h:27017", "mongo"), ("mongodb+srv://c.example.net", "mongo"), ("C:shop.db", "sqlite"),
    ],
)
def test_classify(target, kind):
    assert classify(target) == kind


@pytest.mark.parametrize("target", ["mysql://h/db", "http://x", "notes.txt", ""])
def test_classify_rejects(target):
    with pytest.raises(UnsupportedURL):
        classify(target)


def test_sqlite_paths():
    assert sqlite_path("sqlite:///tmp/a.db") == "/tmp/a.db"
    assert sqlite_path("sqlite:////tmp/a.db") == "/tmp/a.db"
    assert sqlite_path("sqlite://:memory:") == ":memory:"  # named, never implied by an empty URL
    for nothing in ("sqlite://", "sqlite:///", "sqlite:"):
        with pytest.raises(UnsupportedURL, match="names no database file"):
            sqlite_path(nothing)
    assert sqlite_path("rel/a.db") == "rel/a.db"


def test_redaction():
    assert redact_url("postgresql://bob:pa:ss@h/db") == "postgresql://bob:***@h/db"
    assert redact_url("postgresql://h/db?user=a&password=xyz&sslmode=require") == "postgresql://h/db?user=a&password=***&sslmode=require"
    assert redact_url("postgresql://bob@h/db") == "postgresql://bob@h/db"
    assert redact_text("failed for mongodb://u:p4ss@h and p4ss", ("p4ss",)) == "failed for mongodb://u:***@h and ***"


def test_settings_layers(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text(
        "read_only = true\n[pool]\nmax_size = 4\nacquire_timeout = 2.5\n[keys]\nrun_statement = 'f9'\n"
    )
    s = Settings.load(env={"AISHELL_HOME": str(tmp_path), "AISHELL_POOL__MAX_SIZE": "7", "AISHELL_CACHE__ENABLED": "off"})
    assert s.pool.max_size == 7 and s.pool.acquire_timeout == 2.5 and s.read_only
    assert not s.cache.enabled and s.keys == {"run_statement": "f9"}
    assert s.memory_path == tmp_path / "data" / "memory.db"
    with pytest.raises(ConfigError, match="max_size"):
        Settings.load(env={"AISHELL_HOME": str(tmp_path), "AISHELL_POOL__MAX_SIZE": "many"})
    (tmp_path / "config" / "config.toml").write_text("[pool\n")
    with pytest.raises(ConfigError, match="config.toml"):
        Settings.load(env={"AISHELL_HOME": str(tmp_path)})


@pytest.mark.parametrize(
    "sql, kind, destructive",
    [
        ("SELECT * FROM a JOIN b ON a.id = b.id", "select", False),
        ("DELETE FROM orders", "delete", True),
        ("DELETE FROM orders WHERE id = 1", "delete", False),
        ("UPDATE t SET a = 1", "update", True),
        ("DROP TABLE customers", "ddl", True),
        ("TRUNCATE orders", "ddl", True),
        ("CREATE INDEX i ON t (a)", "ddl", False),
        ("BEGIN", "transaction", False),
        ("SELECT 1; DROP TABLE x", "ddl", True),
        ("SELEC garbage ((", "unknown", False),
    ],
)
def test_describe(sql, kind, destructive):
    info = describe(sql)
    assert (info.kind, info.destructive) == (kind, destructive)


def test_describe_tables():
    info = describe("WITH recent AS (SELECT * FROM orders) INSERT INTO archive SELECT * FROM recent JOIN customers c ON true")
    assert info.writes == {"archive"} and info.reads == {"orders", "customers"} and info.is_write
    assert describe("SELECT * FROM t").is_read_only


def test_query_error_position():
    err = QueryError("boom", position=10, statement="SELECT\n  x FROM")
    assert err.line_column == (2, 3) and err.one_line() == "boom (line 2, column 3)"


def test_writers():
    cols = [Column("id", "int4"), Column("amount", "numeric"), Column("at", "timestamptz"), Column("ok", "bool")]
    rows = [(1, decimal.Decimal("10.50"), dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), True),
            (2, None, None, False)]
    for fmt in ("json", "jsonl", "csv", "table"):
        out = io.StringIO()
        w = writer_for(fmt, out, cols)
        w.start()
        w.rows(rows[:1])
        w.rows(rows[1:])
        w.finish(2, 1.5, "SELECT 2")
        text = out.getvalue()
        if fmt == "json":
            data = json.loads(text)
            assert data["rows"] == [[1, 10.5, "2024-01-02T03:04:05+00:00", True], [2, None, None, False]]
            assert data["rowcount"] == 2 and "10.50" in text
        elif fmt == "jsonl":
            assert [json.loads(line)["ok"] for line in text.splitlines()] == [True, False]
        elif fmt == "csv":
            assert text.splitlines() == ["id,amount,at,ok", "1,10.50,2024-01-02 03:04:05+00,t", "2,,,f"]
        else:
            assert text.splitlines()[-1] == "(2 rows)" and "NULL" in text
    assert json_text(float("nan")) == '"NaN"' and json_text(b"\x01") == '"\\\\x01"'
