"""``\\c`` as psql takes it, in the workbench: another database on the same server with the same
user and password, another user, a URL, and on SQLite a file path; a target that fails leaves the
session where it was."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import connected, grid, make_app, run, until

SIZE = (120, 36)


async def switch(pilot, command: str, *, ends_with: str) -> None:
    app = pilot.app
    await run(pilot, command, finished=False)
    await until(pilot, lambda: app.session is not None and app.session.display_url.endswith(ends_with) and app.screen.connection_state == "connected", what=f"{command} connected")


@pytest.mark.pg
async def test_backslash_c_dbname_and_user_on_the_same_server(pg_url, pg_fresh_db, monkeypatch):
    fresh = urlsplit(pg_fresh_db).path.lstrip("/")
    role = f"r_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'r0le-pw'")
    finally:
        await conn.close()
    app = make_app(pg_url)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await switch(pilot, f"\\c {fresh}", ends_with=f"/{fresh}")  # the scram password went along
        await run(pilot, "SELECT current_database(), current_user")
        assert [tuple(r) for r in grid(pilot).rows] == [(fresh, urlsplit(pg_url).username)]
        assert "aishell-test-pw" not in str(app.screen.query_one("#target").content)

        monkeypatch.setenv("PGPASSWORD", "r0le-pw")  # another user: the password is not carried over
        await switch(pilot, f"\\connect - {role}", ends_with=f"/{fresh}")
        await until(pilot, lambda: urlsplit(app.session.target).username == role, what="the role's session")
        await run(pilot, "SELECT current_database(), current_user")
        assert [tuple(r) for r in grid(pilot).rows] == [(fresh, role)]

        before = app.session
        await run(pilot, "\\c no_such_database_here", finished=False)
        await pilot.pause(1.0)
        await until(pilot, lambda: app.screen.connection_state == "connected", what="still connected")
        assert app.session is before  # a failed \c keeps the session it had


async def test_backslash_c_on_sqlite_is_a_path(tmp_path, monkeypatch):
    first = ensure_demo_database(tmp_path / "demo.db")
    other = tmp_path / "notes"  # no .db suffix: on SQLite the argument is a path all the same
    import sqlite3

    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE note (body TEXT)")
        db.execute("INSERT INTO note VALUES ('from the other file')")
    monkeypatch.chdir(tmp_path)
    app = make_app(first)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await switch(pilot, "\\c notes", ends_with=f"{tmp_path}/notes")
        await run(pilot, "SELECT body FROM note")
        assert [tuple(r) for r in grid(pilot).rows] == [("from the other file",)]
