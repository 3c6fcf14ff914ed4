"""Attack table for "secrets stay out", through real `aishell` processes against the throwaway
PostgreSQL cluster (scram-sha-256 over TCP, so every password below is really used).

Each row is a way a password could leak: stderr and stdout of `aishell run`, the memory file,
the log and every file and directory AIShell writes. Every row asserts the secret never shows
and the text around it is intact.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

AISHELL = [sys.executable, "-m", "aishell.tui.cli"]

ROLES = {
    # name: password (a short one, one with URL delimiters, one with spaces and quotes)
    "sec_short": "p",
    "sec_delims": "p@ss:w0rd/%40",
    "sec_quoted": "it's a s3cret",
}


def aishell(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*AISHELL, *args], capture_output=True, text=True, timeout=60, env=env or dict(os.environ))


def url_for(pg_url: str, role: str, database: str | None = None) -> str:
    parts = urlsplit(pg_url)
    netloc = f"{role}:{quote(ROLES[role], safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, f"/{database}" if database else parts.path, "", ""))


@pytest.fixture(scope="module")
def roles(pg_url):
    async def create() -> None:
        conn = await asyncpg.connect(pg_url)
        try:
            for role, password in ROLES.items():
                literal = password.replace("'", "''")
                await conn.execute(f"DROP ROLE IF EXISTS {role}")
                await conn.execute(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{literal}'")
        finally:
            await conn.close()

    asyncio.run(create())
    return ROLES


def leaks(secret: str, text: str) -> bool:
    """The secret (or its URL encoding) in ``text``; a one-letter password counts only as a
    whole word (it is in every other word)."""
    forms = {secret, quote(secret, safe=""), quote(secret)}
    if len(secret) < 3:
        import re

        return any(re.search(rf"(?<![\w]){re.escape(form)}(?![\w])", text) for form in forms)
    return any(form in text for form in forms)


RUN_ROWS = [
    # (role, statement, expected on stderr, exit code); the role's password must not show
    ("sec_delims", "ALTER ROLE sec_delims PASSWORD 'p@ss:w0rd/%40'", None, 0),
    ("sec_quoted", "CREATE ROLE sec_tmp_{n} PASSWORD 'it''s a s3cret'", None, 0),
    ("sec_delims", "SELECT 'p@ss:w0rd/%40'::int", 'invalid input syntax for type integer: "***"', 2),
    ("sec_quoted", "SELECT 'it''s a s3cret'::int", 'invalid input syntax for type integer: "***"', 2),
    ("sec_short", "SELECT 'notaport'::int", 'invalid input syntax for type integer: "notaport"', 2),
    ("sec_short", "SELECT 'p'::int", 'invalid input syntax for type integer: "***"', 2),
]


@pytest.mark.parametrize("role, sql, expected, code", RUN_ROWS)
def test_run_never_shows_the_password(pg_url, roles, role, sql, expected, code):
    out = aishell("run", url_for(pg_url, role), "-c", sql.format(n=uuid.uuid4().hex[:8]))
    assert out.returncode == code, out.stderr
    assert not leaks(roles[role], out.stderr), out.stderr
    if sql.startswith(("ALTER", "CREATE")):
        assert out.stderr == "" and not leaks(roles[role], out.stdout)  # no sqlglot warning quoting the statement
    if expected:
        assert expected in out.stderr and len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr


def test_connection_errors_keep_the_text_around_a_short_password(pg_url, roles):
    out = aishell("run", url_for(pg_url, "sec_short", "notaport"), "-c", "SELECT 1")
    assert out.returncode == 2
    assert 'database "notaport" does not exist' in out.stderr, out.stderr
    assert "postgresql://sec_short:***@" in out.stderr and not leaks("p", out.stderr)


@pytest.mark.parametrize(
    "target, secret, shown",
    [
        ("host=127.0.0.1 user=sec_quoted password='it\\'s a s3cret' dbname=x", "s3cret", "password=*** dbname=x"),
        ("host=127.0.0.1 password=s3cret-dsn", "s3cret-dsn", "host=127.0.0.1 password=***"),
        ("foo://u:s3cret-url@h/db", "s3cret-url", "foo://u:***@h/db"),
    ],
)
def test_unusable_targets_are_refused_without_their_password(target, secret, shown):
    out = aishell("run", target, "-c", "SELECT 1")
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr
    assert secret not in out.stderr and shown in out.stderr


LITERAL_SHAPES = [
    # (statement, secret inside one of its literals); the first runs through `aishell run`, the
    # rest reach memory through `aishell memory import` (both paths redact the same way); each has
    # its own shape, since search shows one hit a shape
    ("SELECT 'host=h password=lit-s3cret-1 dbname=d' AS dsn", "lit-s3cret-1"),
    ("SELECT 'postgresql://u:lit-s3cret-2@h/db' AS url", "lit-s3cret-2"),
    ("COPY t TO PROGRAM $$PGPASSWORD=lit-s3cret-3 psql -h h$$", "lit-s3cret-3"),
    ("SELECT dblink_connect(E'host=h password=''lit s3cret-4''') AS e", "lit s3cret-4"),
    ("SELECT 1 AS one -- postgresql://u:lit-s3cret-5@h/db\n", "lit-s3cret-5"),
    ("SELECT dblink_connect('host=h password=lit-s3cret-6')", "lit-s3cret-6"),
    ("ALTER ROLE bob PASSWORD 'lit-s3cret-7'", "lit-s3cret-7"),
    ("\\c postgresql://sec_delims:lit-s3cret-8@127.0.0.1/x", "lit-s3cret-8"),
]


def test_memory_files_and_modes_hold_no_secret(pg_url, roles, aishell_home, tmp_path):
    aishell_home.chmod(0o755)  # as a user's mkdir leaves it
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="true")
    url = url_for(pg_url, "sec_delims")
    ran = aishell("run", url, "-c", LITERAL_SHAPES[0][0], env=env)
    assert ran.returncode == 0, ran.stderr
    role_statement = aishell("run", url, "-c", "ALTER ROLE sec_quoted PASSWORD 'it''s a s3cret'", env=env)
    assert role_statement.returncode == 0 and role_statement.stderr == ""
    history = tmp_path / "psql_history"
    history.write_text("".join(sql if sql.endswith("\n") else f"{sql};\n" for sql, _ in LITERAL_SHAPES[1:]))
    imported = aishell("memory", "import", str(history), "--kind", "psql", env=env)
    assert imported.returncode == 0, imported.stderr
    words = ("select", "copy", "alter", "dblink_connect", "connect", "url", "dsn", "one", "role")
    found = aishell("memory", "search", *words, "--limit", "50", "--format", "json", env=env)
    assert found.returncode == 0, found.stderr
    secrets = [s for _, s in LITERAL_SHAPES] + [ROLES["sec_delims"], ROLES["sec_quoted"]]
    texts = [hit["text"] for hit in json.loads(found.stdout)["hits"]]
    for shown in (
        "SELECT 'host=h password=*** dbname=d' AS dsn",
        "SELECT 'postgresql://u:***@h/db' AS url",
        "COPY t TO PROGRAM $$PGPASSWORD=*** psql -h h$$",
        "SELECT dblink_connect(E'host=h password=***') AS e",
        "SELECT 1 AS one -- postgresql://u:***@h/db",
        "SELECT dblink_connect('host=h password=***')",
        "ALTER ROLE bob PASSWORD '***'",
        "ALTER ROLE sec_quoted PASSWORD '***'",
    ):
        assert any(text.rstrip(";\n ") == shown for text in texts), (shown, texts)
    for secret in secrets:
        assert not leaks(secret, found.stdout), secret
    # every file AIShell wrote: no secret in its bytes, 0600, in 0700 directories (home included)
    written = [p for p in aishell_home.rglob("*")]
    assert any(p.name == "memory.db" for p in written)
    for path in [aishell_home, *written]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data and quote(secret, safe="").encode() not in data, (path, secret)
