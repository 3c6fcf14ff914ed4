"""psql's client-side commands: variables and their interpolation, named queries, \\conninfo,
\\echo, \\x auto, \\pset null."""

from __future__ import annotations

import os
import stat

import pytest

from aishell.engine import commands as backslash
from aishell.engine.commands import named
from aishell.engine.commands.variables import interpolate, set_arguments
from aishell.engine.session import Session

VARIABLES = {"x": "5", "t": "My Table", "who": "O'Brien", "path": "C:\\tmp", "q": 'say "hi"'}

# (statement, what psql sends): the expected texts are psql 15's (psql -e with the same \set values).
INTERPOLATION = [
    ("select :x", "select 5"),
    ("select :x+1, :x*2", "select 5+1, 5*2"),
    ("select :'who'", "select 'O''Brien'"),
    ("select :'path'", "select  E'C:\\\\tmp'"),
    ('select * from :"t"', 'select * from "My Table"'),
    ('select :"q"', 'select "say ""hi"""'),
    ("select a::int, :x::text", "select a::int, 5::text"),
    ("select ':x', e':x\\' :x', :x", "select ':x', e':x\\' :x', 5"),
    ("select 'it''s :x' || :x", "select 'it''s :x' || 5"),
    ('select ":x" from t', 'select ":x" from t'),
    ("select 1 -- :x\n, :x", "select 1 -- :x\n, 5"),
    ("select /* :x /* nested :x */ :x */ :x", "select /* :x /* nested :x */ :x */ 5"),
    ("select $$ :x $$, :x", "select $$ :x $$, 5"),
    ("select $body$ :x $x$ :x $body$, :x", "select $body$ :x $x$ :x $body$, 5"),
    ("select $1, :x from f($2)", "select $1, 5 from f($2)"),
    ("select :nope, :'nope', :\"nope\"", "select :nope, :'nope', :\"nope\""),
    ("select :x:x", "select 55"),
    ("select x:x", "select x5"),
]


@pytest.mark.parametrize("statement, expected", INTERPOLATION)
def test_interpolation_follows_psql(statement, expected):
    assert interpolate(statement, VARIABLES) == expected


@pytest.mark.parametrize(
    "argument, expected",
    [("x 5", ("x", "5")), ("x", ("x", "")), ("x 'a b'", ("x", "a b")), ("x a b", ("x", "ab")),
     ("x 'it''s'", ("x", "it's")), ("", ("", ""))],
)
def test_set_arguments_like_psql(argument, expected):
    assert set_arguments(argument) == expected


async def test_set_unset_and_list():
    ctx = backslash.Context(session=None)
    assert (await backslash.run(ctx, "\\set limit 10")).action == "notice"
    await backslash.run(ctx, "\\set greeting 'hello world'")
    out = await backslash.run(ctx, "\\set")
    assert out.rows == [("greeting", "hello world"), ("limit", "10")]
    await backslash.run(ctx, "\\unset limit")
    assert ctx.variables == {"greeting": "hello world"}
    with pytest.raises(backslash.CommandError):
        await backslash.run(ctx, "\\set bad-name 1")
    echo = await backslash.run(ctx, "\\echo :greeting!")
    assert (echo.action, echo.argument) == ("notice", "hello world!")


async def test_named_queries_are_kept_privately(aishell_home):
    ctx = backslash.Context(session=None)
    await backslash.run(ctx, "\\ns recent select * from orders where id > $1 limit $2")
    path = named.store_path()
    assert path.is_relative_to(aishell_home) and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    out = await backslash.run(ctx, "\\n recent 10 5")
    assert (out.action, out.argument) == ("run", "select * from orders where id > 10 limit 5")
    with pytest.raises(backslash.CommandError, match=r"\$2"):
        await backslash.run(ctx, "\\n recent 10")
    assert (await backslash.run(ctx, "\\nl")).rows == [("recent", "select * from orders where id > $1 limit $2")]
    assert (await backslash.run(backslash.Context(session=None), "\\n")).rows  # read back from the file
    await backslash.run(ctx, "\\nd recent")
    assert (await backslash.run(ctx, "\\nl")).rows == []
    with pytest.raises(backslash.CommandError):
        await backslash.run(ctx, "\\n recent")


async def test_display_settings():
    ctx = backslash.Context(session=None)
    out = await backslash.run(ctx, "\\x auto")
    assert (out.action, out.value) == ("expanded", "auto")
    out = await backslash.run(ctx, "\\pset null '(null)'")
    assert (out.action, out.argument, ctx.null_text) == ("null", "(null)", "(null)")
    with pytest.raises(backslash.CommandError):
        await backslash.run(ctx, "\\pset border 2")


@pytest.mark.pg
async def test_conninfo_never_shows_the_password(pg_url):
    session = await Session.open(pg_url)
    try:
        out = await backslash.run(backslash.Context(session), "\\conninfo")
    finally:
        await session.close()
    text = repr(out)
    assert "aishell-test-pw" not in text
    values = dict(out.rows)
    assert values["dbname"] == "aishell_test" and values["user"] == "aishell" and values["host"] == "127.0.0.1"


async def test_conninfo_on_sqlite(tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "c.db").execute("CREATE TABLE t(a)").connection.close()
    session = await Session.open(str(tmp_path / "c.db"))
    try:
        out = await backslash.run(backslash.Context(session), "\\conninfo")
    finally:
        await session.close()
    assert dict(out.rows)["database"] == "sqlite"
