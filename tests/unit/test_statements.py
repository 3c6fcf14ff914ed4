"""The statement classifier on its own: read-only verdicts (the second layer of --read-only),
one parse per text, no import loop, and the package's runnable examples."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import aishell.engine.statements
from aishell.engine.statements import changes_session_state, describe, plan
from aishell.engine.statements.parsing import parse

# (statement, dialect, a piece of the reason it is refused)
REFUSED = [
    ("BEGIN READ WRITE; INSERT INTO t VALUES (1); COMMIT", "postgres", "BEGIN READ WRITE"),
    ("begin transaction isolation level serializable, read write", "postgres", "BEGIN READ WRITE"),
    ("START TRANSACTION READ WRITE; INSERT INTO t VALUES (1); COMMIT", "postgres", "START TRANSACTION READ WRITE"),
    ("BEGIN; SET TRANSACTION READ WRITE; INSERT INTO t VALUES (1); COMMIT", "postgres", "SET TRANSACTION READ WRITE"),
    ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE READ WRITE", "postgres", "SET TRANSACTION READ WRITE"),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "postgres", "later transactions writable"),
    ("SET default_transaction_read_only = off", "postgres", "SET default_transaction_read_only"),
    ("SET default_transaction_read_only TO DEFAULT", "postgres", "SET default_transaction_read_only"),
    ("SET SESSION default_transaction_read_only = off", "postgres", "SET default_transaction_read_only"),
    ("SET LOCAL transaction_read_only = off", "postgres", "SET transaction_read_only"),
    ("/* x */ set  DEFAULT_TRANSACTION_READ_ONLY=off", "postgres", "SET default_transaction_read_only"),
    ('SET "default_transaction_read_only" = off', "postgres", "SET default_transaction_read_only"),
    ("RESET default_transaction_read_only", "postgres", "RESET default_transaction_read_only"),
    ("RESET ALL", "postgres", "RESET ALL"),
    ("DISCARD ALL", "postgres", "DISCARD ALL"),
    ("SELECT set_config('default_transaction_read_only', 'off', false)", "postgres", "set_config('default_transaction_read_only')"),
    ("SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false)", "postgres", "set_config("),
    ('SELECT "pg_catalog"."set_config"(\'Transaction_Read_Only\', \'off\', true)', "postgres", "set_config('transaction_read_only')"),
    ("SELECT 1 WHERE set_config('default_transaction_read_only', 'off', false) IS NOT NULL", "postgres", "set_config("),
    ("SELECT set_config(name, 'off', false) FROM pg_settings", "postgres", "computed setting name"),
    ("SELECT set_config('role', 'postgres', false)", "postgres", "role"),
    ("SET ROLE postgres", "postgres", "SET ROLE"),
    ("SET SESSION AUTHORIZATION postgres", "postgres", "SET SESSION AUTHORIZATION"),
    ("ALTER SYSTEM SET fsync = off", "postgres", "ALTER SYSTEM"),
    ("COPY t TO PROGRAM 'touch /tmp/x'", "postgres", "COPY … TO PROGRAM runs a shell command on the server"),
    ("COPY (SELECT 1) TO PROGRAM 'cat' WITH (FORMAT csv)", "postgres", "TO PROGRAM"),
    ("COPY t FROM PROGRAM 'cat /etc/passwd'", "postgres", "FROM PROGRAM"),
    ("COPY t FROM STDIN", "postgres", "COPY … FROM writes rows"),
    ("COPY t TO '/tmp/out.csv'", "postgres", "writes a file on the server"),
    ("COPY (SELECT lo_create(0)) TO STDOUT", "postgres", "lo_create()"),
    ("SELECT lo_create(0)", "postgres", "lo_create() creates a large object"),
    ("SELECT lo_import('/etc/passwd')", "postgres", "lo_import()"),
    ("SELECT lo_export(1, '/tmp/x')", "postgres", "lo_export()"),
    ("SELECT lo_unlink(1)", "postgres", "lo_unlink()"),
    ("SELECT lo_put(1, 0, 'x')", "postgres", "lo_put()"),
    ("SELECT lo_from_bytea(0, 'x')", "postgres", "lo_from_bytea()"),
    ("SELECT lowrite(0, 'x')", "postgres", "lowrite()"),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "postgres", "pg_terminate_backend() ends another session"),
    ("SELECT pg_cancel_backend(1)", "postgres", "pg_cancel_backend()"),
    ("SELECT pg_reload_conf()", "postgres", "pg_reload_conf()"),
    ("SELECT pg_rotate_logfile()", "postgres", "pg_rotate_logfile()"),
    ("SELECT * FROM dblink('dbname=x', 'DELETE FROM t') AS r(a int)", "postgres", "dblink()"),
    ("SELECT dblink_exec('dbname=x', 'DELETE FROM t')", "postgres", "dblink_exec()"),
    ("SELECT pg_notify('jobs', 'go')", "postgres", "pg_notify()"),
    ("NOTIFY jobs, 'go'", "postgres", "NOTIFY"),
    ("SELECT pg_stat_reset()", "postgres", "pg_stat_reset()"),
    ("DO $$ BEGIN PERFORM set_config('default_transaction_read_only', 'off', false); END $$", "postgres", "DO runs"),
    ("CALL lift()", "postgres", "CALL runs"),
    ("VACUUM t", "postgres", "VACUUM rewrites"),
    ("ANALYZE t", "postgres", "ANALYZE"),
    ("REINDEX TABLE t", "postgres", "REINDEX"),
    ("CLUSTER t", "postgres", "CLUSTER"),
    ("CHECKPOINT", "postgres", "CHECKPOINT"),
    ("LOAD 'auto_explain'", "postgres", "LOAD"),
    ("COMMIT PREPARED 'x'", "postgres", "COMMIT PREPARED"),
    ("EXPLAIN ANALYZE SELECT lo_create(0)", "postgres", "lo_create()"),
    ("EXPLAIN (ANALYZE, COSTS off) SELECT set_config('transaction_read_only', 'off', true)", "postgres", "set_config("),
    ("PREPARE lift AS SELECT set_config('default_transaction_read_only', 'off', false)", "postgres", "set_config("),
    ("DECLARE c CURSOR FOR SELECT pg_reload_conf()", "postgres", "pg_reload_conf()"),
    ("EXECUTE p(lo_create(0))", "postgres", "lo_create()"),
    ("SELECT 1; SELECT pg_reload_conf()", "postgres", "pg_reload_conf()"),
    ("SELEC 1", "postgres", "not understood at line 1"),
    ("SELECT (", "postgres", "not understood"),
    ("ABRACADABRA", "postgres", "not understood"),
    ("PRAGMA query_only = 0", "sqlite", "PRAGMA query_only"),
    ("PRAGMA main.query_only = false", "sqlite", "PRAGMA query_only"),
    ('PRAGMA "query_only"(0)', "sqlite", "PRAGMA query_only"),
    ("PRAGMA writable_schema = 1", "sqlite", "PRAGMA writable_schema"),
    ("PRAGMA journal_mode = DELETE", "sqlite", "PRAGMA journal_mode"),
    ("PRAGMA user_version = 7", "sqlite", "PRAGMA user_version"),
    ("ATTACH DATABASE '/tmp/new.db' AS n", "sqlite", "ATTACH"),
    ("DETACH n", "sqlite", "DETACH"),
    ("VACUUM INTO '/tmp/copy.db'", "sqlite", "VACUUM INTO writes a new database file"),
    ("VACUUM main INTO '/tmp/copy.db'", "sqlite", "VACUUM INTO"),
    ("VACUUM", "sqlite", "VACUUM"),
    ("SELECT 1; ATTACH 'x.db' AS x; SELECT 2", "sqlite", "ATTACH"),
]

# Sent to the server, whose own read-only session decides (writes are refused there).
ALLOWED = [
    ("SELECT * FROM t WHERE a = $1", "postgres"),
    ("TABLE t", "postgres"),
    ("EXPLAIN SELECT * FROM t", "postgres"),
    ("EXPLAIN ANALYZE SELECT count(*) FROM t", "postgres"),
    ("SHOW search_path", "postgres"),
    ("SET search_path TO app, public", "postgres"),
    ("SET statement_timeout = 5000", "postgres"),
    ("SET LOCAL work_mem = '8MB'", "postgres"),
    ("SELECT set_config('search_path', 'public', false)", "postgres"),
    ("BEGIN; SELECT 1; COMMIT", "postgres"),
    ("BEGIN READ ONLY", "postgres"),
    ("START TRANSACTION READ ONLY", "postgres"),
    ("START TRANSACTION ISOLATION LEVEL REPEATABLE READ", "postgres"),
    ("SET TRANSACTION READ ONLY", "postgres"),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "postgres"),
    ("SAVEPOINT a; ROLLBACK TO SAVEPOINT a; RELEASE SAVEPOINT a", "postgres"),
    ("ROLLBACK", "postgres"),
    ("INSERT INTO t VALUES (1)", "postgres"),  # the server refuses it
    ("WITH x AS (INSERT INTO t VALUES (1) RETURNING a) SELECT * FROM x", "postgres"),  # the server refuses it
    ("SELECT * FROM t FOR UPDATE", "postgres"),  # the server refuses it
    ("CREATE TEMP TABLE scratch (a int)", "postgres"),  # the server refuses it
    ("PREPARE w AS INSERT INTO t VALUES (1)", "postgres"),
    ("EXECUTE w", "postgres"),
    ("COPY t TO STDOUT", "postgres"),
    ("LISTEN jobs", "postgres"),
    ("SELECT pg_sleep(0), now(), 'SET default_transaction_read_only = off'", "postgres"),
    ("-- a comment only", "postgres"),
    ("", "postgres"),
    ("SELECT * FROM t", "sqlite"),
    ("PRAGMA table_info(t)", "sqlite"),
    ("PRAGMA query_only", "sqlite"),
    ("PRAGMA foreign_keys = ON", "sqlite"),
    ("SELECT * FROM pragma_table_info('t')", "sqlite"),
    ("EXPLAIN QUERY PLAN SELECT * FROM t", "sqlite"),
    ("BEGIN IMMEDIATE; SELECT 1; COMMIT", "sqlite"),
]


@pytest.mark.parametrize("sql, dialect, reason", REFUSED)
def test_escapes_are_refused_with_their_reason(sql, dialect, reason):
    verdict = plan(sql, dialect).read_only_escape
    assert verdict is not None and reason in verdict, verdict
    assert "\n" not in verdict
    assert describe(sql, dialect).read_only_escape == verdict


@pytest.mark.parametrize("sql, dialect", ALLOWED)
def test_reads_and_what_the_server_enforces_are_allowed(sql, dialect):
    assert plan(sql, dialect).read_only_escape is None


@pytest.mark.parametrize(
    "text, verdict",
    [
        ("db.orders.find({a: 1})", None),
        ("db.orders.find({a: 1}).explain('executionStats')", None),
        ("db.orders.insertOne({a: 1})", "insertOne() would change data or schema"),
        ("db.orders.find({}); db.orders.drop()", "drop() would change data or schema"),
        ("db.orders.find({", None),  # the driver's parser refuses it, with its position, sending nothing
        ("use archive", None),
        ("db.orders.aggregate([{$out: 'copy'}])", "aggregate() would change data or schema"),
    ],
)
def test_mongo_statements_have_a_read_only_verdict(text, verdict):
    assert plan(text, "mongo").read_only_escape == verdict


@pytest.mark.parametrize(
    "sql, kind",
    [
        ("BEGIN READ ONLY", "transaction"),  # sqlglot does not parse it; the tokens say what it is
        ("START TRANSACTION", "transaction"),
        ("SAVEPOINT a", "transaction"),
        ("CHECKPOINT", "other"),
        ("CLUSTER t", "ddl"),
        ("SELEC 1", "unknown"),
        ("SELECT * INTO t2 FROM t", "ddl"),  # creates t2
    ],
)
def test_kinds_of_statements_sqlglot_reads_as_words(sql, kind):
    assert describe(sql).kind == kind


def test_each_text_is_parsed_once_for_every_answer():
    sql = "SELECT a FROM parsed_once_probe WHERE b = 1; SET search_path TO app"
    before = parse.cache_info()
    describe(sql)
    plan(sql)
    changes_session_state(sql)
    plan(sql, "postgres").read_only_escape
    after = parse.cache_info()
    assert after.misses - before.misses == 1


def test_statements_import_neither_the_cache_nor_the_pool_nor_mongo_fingerprints():
    code = (
        "import sys, aishell.engine.statements as s; s.describe('SELECT 1'); s.plan('db.t.find()', 'mongo'); "
        "print(sorted(m for m in sys.modules if m in ('aishell.engine.cache', 'aishell.engine.pool', "
        "'aishell.engine.mongo.fingerprint', 'aishell.engine.session')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


MODULES = ["aishell.engine.statements"] + [
    "aishell.engine.statements." + m.name for m in pkgutil.iter_modules(aishell.engine.statements.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
