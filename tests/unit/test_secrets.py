"""Attack table for "secrets stay out": every way a password could leak through masking, memory
text or logging, each row asserting the secret is gone and the text around it is intact."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
import sqlglot

from aishell.engine.drivers.url import classify
from aishell.engine.errors import UnsupportedURL
from aishell.engine.memory.text import redact_statement
from aishell.engine.redact import conninfo_pairs, passwords_in, redact_conninfo, redact_text, redact_url, url_password

# -- masking by structure -----------------------------------------------------------------------

URL_ROWS = [
    # (url, secrets that must vanish, expected)
    ("postgresql://u:p@h:5432/notaport", [], "postgresql://u:***@h:5432/notaport"),  # exact: notaport intact
    ("postgresql://u:p@ss@h/db", ["p@ss"], "postgresql://u:***@h/db"),
    ("postgresql://u:pa:ss@h/db", ["pa:ss"], "postgresql://u:***@h/db"),
    ("postgresql://u:p%40ss%3A@h/db", ["p%40ss", "p@ss"], "postgresql://u:***@h/db"),
    ("postgresql://u:pa/ss@h/db", ["pa/ss"], "postgresql://u:***@h/db"),
    ("postgresql://h/db?user=a&password=s3cret&sslmode=require", ["s3cret"], "postgresql://h/db?user=a&password=***&sslmode=require"),
    ("postgresql://h/db?sslpassword=s3cret", ["s3cret"], "postgresql://h/db?sslpassword=***"),
    ("mongodb://u:s3cret@h1:27017,h2/?authSource=admin", ["s3cret"], "mongodb://u:***@h1:27017,h2/?authSource=admin"),
    ("postgresql://bob@h/db", [], "postgresql://bob@h/db"),
    ("postgresql://h:5432/db?user=bob@corp", [], "postgresql://h:5432/db?user=bob@corp"),
    ("sqlite:///tmp/a@b:c.db", [], "sqlite:///tmp/a@b:c.db"),
]


@pytest.mark.parametrize("url, secrets, expected", URL_ROWS)
def test_urls_are_masked_by_their_structure(url, secrets, expected):
    masked = redact_url(url)
    assert masked == expected
    for secret in secrets:
        assert secret not in masked
    assert redact_text(f"could not connect to {url}: refused") == f"could not connect to {expected}: refused"


CONNINFO_ROWS = [
    ("host=db password=s3cret dbname=shop", ["s3cret"], "host=db password=*** dbname=shop"),
    ("host=db password = s3cret dbname=shop", ["s3cret"], "host=db password = *** dbname=shop"),
    (r"host=db password='a b\' c' dbname=shop", ["a b", "' c", "b\\' c"], "host=db password=*** dbname=shop"),
    (r"password=a\ b host=db", ["a\\ b", "a b"], "password=*** host=db"),
    ("host=db sslpassword=k3y sslkey=/k", ["k3y"], "host=db sslpassword=*** sslkey=/k"),
    ("host=db user=password dbname=password", [], "host=db user=password dbname=password"),
]


@pytest.mark.parametrize("dsn, secrets, expected", CONNINFO_ROWS)
def test_conninfo_is_masked_by_libpq_quoting(dsn, secrets, expected):
    assert redact_conninfo(dsn) == expected
    assert redact_text(f"failed: {dsn}") == f"failed: {expected}"
    for secret in secrets:
        assert secret not in redact_conninfo(dsn)


def test_conninfo_tokenizer_reads_values_as_libpq_does():
    pairs = conninfo_pairs(r"host=db password='a b\' c\\' port = 5 user=\ x")
    assert [(p.key, p.value) for p in pairs] == [("host", "db"), ("password", "a b' c\\"), ("port", "5"), ("user", " x")]
    assert conninfo_pairs("not a dsn") is None and conninfo_pairs("password='open") is None
    assert passwords_in("host=db password='a b'") == ["a b"]
    assert passwords_in("postgresql://u:p%40ss@h/db") == ["p@ss"] == [url_password("postgresql://u:p%40ss@h/db")]


KNOWN_SECRET_ROWS = [
    # (message, known password, expected): the known password is masked only as a whole token
    ('database "notaport" does not exist', "p", 'database "notaport" does not exist'),
    ('invalid input syntax for type integer: "p"', "p", 'invalid input syntax for type integer: "***"'),
    ("invalid input for port: aishell-test-pw.", "aishell-test-pw", "invalid input for port: ***."),
    ("role xaishell-test-pw is not aishell-test-pwx", "aishell-test-pw", "role xaishell-test-pw is not aishell-test-pwx"),
    ("password authentication failed for user \"bob\"", "bob", "password authentication failed for user \"***\""),
]


@pytest.mark.parametrize("message, secret, expected", KNOWN_SECRET_ROWS)
def test_known_password_is_masked_only_as_a_whole_token(message, secret, expected):
    assert redact_text(message, (secret,)) == expected


FREE_TEXT_ROWS = [
    ("COPY t TO PROGRAM 'PGPASSWORD=s3cret psql -h db'", ["s3cret"], "COPY t TO PROGRAM 'PGPASSWORD=*** psql -h db'"),
    ("export PGPASSWORD='s3 cret'; psql", ["s3 cret", "cret"], "export PGPASSWORD=***; psql"),
    # a statement quoted inside a message: '' reads as an escaped quote, so the mask runs to the end
    ("'ALTER ROLE x PASSWORD 'secret'' contains unsupported syntax", ["secret"], "'ALTER ROLE x PASSWORD '***'"),
    ("CREATE USER u IDENTIFIED BY 'tiger'", ["tiger"], "CREATE USER u IDENTIFIED BY '***'"),
    ("password authentication failed for user \"bob\"", [], "password authentication failed for user \"bob\""),
]


@pytest.mark.parametrize("text, secrets, expected", FREE_TEXT_ROWS)
def test_free_text_secrets(text, secrets, expected):
    assert redact_text(text) == expected
    for secret in secrets:
        assert secret not in redact_text(text)


def test_an_unparsable_dsn_target_is_refused_without_its_password():
    with pytest.raises(UnsupportedURL) as err:
        classify("host=db user=bob password='s3 cret' dbname=shop")
    assert "s3 cret" not in str(err.value) and "cret" not in str(err.value)
    assert "host=db user=bob password=*** dbname=shop" in str(err.value)
    with pytest.raises(UnsupportedURL) as err:
        classify("db.example.com PGPASSWORD=s3cret")
    assert "s3cret" not in str(err.value)


# -- memory text: secrets inside literals ---------------------------------------------------------

STATEMENT_ROWS = [
    ("SELECT dblink_connect('host=x password=secret dbname=y')", "SELECT dblink_connect('host=x password=*** dbname=y')"),
    ("SELECT dblink_connect('host=x password=''a b\\'' c'' user=u')", "SELECT dblink_connect('host=x password=*** user=u')"),
    ("SELECT * FROM dblink('dbname=x password=secret', 'select 1') AS t(a int)",
     "SELECT * FROM dblink('dbname=x password=***', 'select 1') AS t(a int)"),
    ("COPY t TO PROGRAM 'PGPASSWORD=secret psql -h h -c ''select 1'''", "COPY t TO PROGRAM 'PGPASSWORD=*** psql -h h -c ''select 1'''"),
    ("COPY t TO PROGRAM 'PGPASSWORD=''se cret'' psql'", "COPY t TO PROGRAM 'PGPASSWORD=*** psql'"),
    ("SELECT 'postgresql://u:secret@h/db' AS u", "SELECT 'postgresql://u:***@h/db' AS u"),
    ("SELECT 'postgresql://u:se@cret@h/db', 'mongodb://u:secret@h1,h2/?authSource=admin'",
     "SELECT 'postgresql://u:***@h/db', 'mongodb://u:***@h1,h2/?authSource=admin'"),
    ("SELECT 'postgresql://u:it''secret@h/db'", "SELECT 'postgresql://u:***@h/db'"),
    ("SELECT dblink_connect($$host=x password=secret$$)", "SELECT dblink_connect($$host=x password=***$$)"),
    ("SELECT dblink_connect($c$host=x password='se cret'$c$)", "SELECT dblink_connect($c$host=x password='***'$c$)"),
    ("SELECT dblink_connect(E'host=x password=se\\\\cret\\n')", "SELECT dblink_connect(E'host=x password=***\n')"),
    ("DO $$ BEGIN PERFORM dblink_connect('host=x password=secret'); END $$",
     "DO $$ BEGIN PERFORM dblink_connect('host=x password=***'); END $$"),
    ("EXECUTE 'ALTER ROLE x PASSWORD ''secret'''", "EXECUTE 'ALTER ROLE x PASSWORD ''***'''"),
    ("SELECT 1 -- password=secret\n", "SELECT 1 -- password=***\n"),
    ("SELECT 1 /*postgresql://u:secret@h*/", "SELECT 1 /*postgresql://u:***@h*/"),
    ('SELECT "postgresql://u:secret@h" FROM t', 'SELECT "postgresql://u:***@h" FROM t'),
    ("CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', password 'secret')",
     "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', password '***')"),
    ("ALTER ROLE x PASSWORD 'secret'", "ALTER ROLE x PASSWORD '***'"),
    ("CREATE USER x WITH PASSWORD 'secret' VALID UNTIL '2030-01-01'", "CREATE USER x WITH PASSWORD '***' VALID UNTIL '2030-01-01'"),
    ("SELECT 'password reset', note FROM t WHERE note <> 'postgresql://h/db'",
     "SELECT 'password reset', note FROM t WHERE note <> 'postgresql://h/db'"),
]


@pytest.mark.parametrize("sql, expected", STATEMENT_ROWS)
def test_memory_text_masks_secrets_inside_literals(sql, expected):
    clean = redact_statement(sql)
    assert clean == expected
    assert "secret" not in clean and "cret" not in clean
    sqlglot.Dialect.get_or_raise("postgres").tokenize(clean)  # still one valid statement's tokens
    assert len(sqlglot.parse(clean, read="postgres")) == len(sqlglot.parse(sql, read="postgres"))


# -- logging ----------------------------------------------------------------------------------------

def _run_logging(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


LOG_ROWS = [
    # (what a library does, secret) -- each through the program's one logging setup
    ("import sqlglot; sqlglot.parse_one(\"ALTER ROLE x PASSWORD 'secret'\", read='postgres')", "secret"),
    ("import logging; logging.getLogger('asyncpg.pool').warning('could not connect to %s', 'postgresql://u:secret@h/db')", "secret"),
    ("import logging; logging.getLogger('aiosqlite').error('failed: host=h password=secret')", "secret"),
    ("import logging\ntry:\n    raise ConnectionRefusedError('dsn host=h password=secret')\nexcept OSError:\n"
     "    logging.getLogger('asyncpg.pool').warning('Failed to restore the pool connection floor; retrying', exc_info=True)", "secret"),
    ("import warnings; warnings.warn('postgresql://u:secret@h/db is deprecated')", "secret"),
    ("import logging; logging.getLogger('aishell.engine.memory').warning('memory off: %s', 'hunter2')", "hunter2"),
    # an exception in a finalizer ("Exception ignored in …", e.g. a subprocess pipe closed after
    # its event loop): one redacted line, not Python's raw traceback
    ("class Pipe:\n    def __del__(self):\n        raise RuntimeError('postgresql://u:secret@h/db: Event loop is closed')\n"
     "Pipe()", "secret"),
]


@pytest.mark.parametrize("code, secret", LOG_ROWS)
def test_no_logger_prints_a_secret(code, secret):
    setup = "from aishell.engine import logs; logs.setup(secrets=['hunter2'])\n"
    out = _run_logging(setup + code)
    assert out.returncode == 0, out.stderr
    assert secret not in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") <= 1, out.stderr


def test_pool_floor_warning_is_one_redacted_line():
    code = (
        "from aishell.engine import logs; logs.setup()\nimport logging\n"
        "try:\n    raise OSError('connect to postgresql://u:secret@h/db failed')\n"
        "except OSError:\n    logging.getLogger('asyncpg.pool').warning('Failed to restore the pool connection floor; retrying', exc_info=True)\n"
    )
    out = _run_logging(code)
    assert out.stderr.splitlines() == [
        "aishell: asyncpg.pool: Failed to restore the pool connection floor; retrying "
        "(OSError: connect to postgresql://u:***@h/db failed)"
    ]


def test_workbench_logging_writes_a_private_file_and_nothing_to_the_terminal(tmp_path):
    log = tmp_path / "data" / "aishell.log"
    code = (
        "import logging\nfrom pathlib import Path\nfrom aishell.engine import logs\nlogs.setup()\n"
        f"with logs.to_file(Path({str(log)!r})):\n"
        "    logging.getLogger('asyncpg.pool').warning('postgresql://u:secret@h/db down')\n"
        "logging.getLogger('sqlglot').error('after: back on the terminal')\n"
    )
    out = _run_logging(code)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == "aishell: sqlglot: after: back on the terminal"
    text = log.read_text()
    assert "postgresql://u:***@h/db down" in text and "secret" not in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600 and stat.S_IMODE(log.parent.stat().st_mode) == 0o700


# -- files AIShell writes -----------------------------------------------------------------------------

def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_files_and_directories(tmp_path):
    from aishell.engine.files import private_dir, private_file, write_private

    old = os.umask(0o022)  # a user's usual umask: nothing below may rely on a stricter one
    try:
        shared = tmp_path / "home"
        shared.mkdir(mode=0o755)
        write_private(shared / "a" / "b" / "buffers.json", '{"x": 1}')
        assert [_mode(p) for p in (shared / "a", shared / "a" / "b", shared / "a" / "b" / "buffers.json")] == [0o700, 0o700, 0o600]
        assert _mode(shared) == 0o755  # a parent that existed is not ours to narrow
        assert private_dir(shared) == shared and _mode(shared) == 0o700  # ...unless asked
        wide = shared / "memory.db"
        wide.write_text("")
        wide.chmod(0o644)
        assert _mode(private_file(wide)) == 0o600
        write_private(wide, b"new")
        assert wide.read_bytes() == b"new" and _mode(wide) == 0o600
        assert sorted(p.name for p in shared.iterdir()) == ["a", "memory.db"]  # no partial file left
    finally:
        os.umask(old)


def test_exports_and_the_demo_database_are_private(tmp_path):
    from aishell.engine.demo import ensure_demo_database
    from aishell.engine.encode import export_rows

    old = os.umask(0o022)
    try:
        out = tmp_path / "exports"
        out.mkdir(mode=0o755)
        for fmt in ("csv", "json", "jsonl"):
            export_rows(["dsn"], [("host=h password=x",)], fmt, out / f"r.{fmt}")
            assert _mode(out / f"r.{fmt}") == 0o600
        assert _mode(out) == 0o755  # the user's directory keeps its mode
        demo = ensure_demo_database(tmp_path / "data" / "demo.db")
        assert _mode(demo) == 0o600 and _mode(demo.parent) == 0o700
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    "module",
    ["aishell.engine.redact", "aishell.engine.files", "aishell.engine.drivers.url", "aishell.engine.memory.text", "aishell.tui.buffers"],
)
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


BUFFER_ROWS = [
    ("\\c postgresql://bob:s3cret@db/shop", "\\c postgresql://bob@db/shop"),
    ("\\connect host=db password='s3 cret' dbname=shop", "\\connect host=db dbname=shop"),
    ("\\c postgresql://db/shop?password=s3cret&sslmode=require", "\\c postgresql://db/shop?sslmode=require"),
    ("ALTER ROLE bob PASSWORD 's3cret'; SELECT 1", "ALTER ROLE bob PASSWORD '***'; SELECT 1"),
    ("SELECT password FROM users WHERE name = 'unfinish", "SELECT password FROM users WHERE name = 'unfinish"),
    ("ALTER ROLE bob PASSWORD 's3cret", "ALTER ROLE bob PASSWORD '***'"),
]


@pytest.mark.parametrize("text, saved", BUFFER_ROWS)
def test_buffers_are_saved_without_passwords(text, saved, tmp_path):
    import json

    from aishell.tui.buffers import BufferFile

    store = BufferFile(tmp_path / "data" / "buffers.json")
    store.save({"active": 0, "buffers": [{"name": "q", "text": text, "cursor": [0, 0]}]}, "postgres")
    raw = store.path.read_text()
    assert "s3cret" not in raw and "s3 cret" not in raw
    assert store.load()["buffers"][0]["text"] == saved
    assert json.loads(raw)["buffers"][0]["name"] == "q" and _mode(store.path) == 0o600
