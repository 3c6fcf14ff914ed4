"""Memory records what the user typed: a backslash command as typed (``\\l``), never the
statements run for it; pinned statements are listed first and deleted ones are gone."""

from __future__ import annotations

import pytest

from aishell.engine import commands
from aishell.engine.commands.registry import COMMANDS, Outcome, command
from aishell.engine.config import MemorySettings
from aishell.engine.memory.service import Memory
from aishell.engine.memory.store import Entry
from aishell.engine.session import Session


@pytest.fixture
async def session(tmp_path):
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "memory.db")
    session = await Session.open(str(tmp_path / "app.db"), create=True, memory=memory)
    yield session
    await session.close()
    await memory.close()


@pytest.fixture
def sends_sql():
    """A command that runs SQL for the user (as \\l or \\d+ may)."""

    @command("\\zz_test", "", "runs two statements")
    async def _zz(context, name, argument):
        await context.session.execute("SELECT 41 + 1")
        result = await context.session.execute("SELECT name FROM pragma_database_list")
        return Outcome([("name", "text")], result.rows, "done")

    yield
    del COMMANDS["\\zz_test"]


async def _texts(session) -> list[str]:
    return [hit.text for hit in await session.memory.search("", limit=50)]


@pytest.mark.parametrize("line", ["\\l", "\\dt", "\\zz_test"])
async def test_a_command_is_recorded_as_typed_not_as_the_sql_it_sent(session, sends_sql, line):
    context = commands.Context(session)
    await commands.run(context, line)
    texts = await _texts(session)
    assert texts == [line]


async def test_a_failing_command_is_recorded_as_failed(session):
    context = commands.Context(session)
    with pytest.raises(commands.CommandError):
        await commands.run(context, "\\d no_such_table")
    (hit,) = await session.memory.search("", limit=5)
    assert hit.text == "\\d no_such_table" and hit.success is False


async def test_statements_outside_a_command_are_still_recorded(session):
    await commands.run(commands.Context(session), "\\l")
    await session.execute("SELECT 7")
    assert set(await _texts(session)) == {"\\l", "SELECT 7"}


async def test_pin_lists_first_and_forget_deletes(tmp_path):
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "memory.db")
    try:
        for i, text in enumerate(["SELECT 1", "SELECT name FROM users", "DELETE FROM t WHERE id = 3"]):
            await memory.record(Entry(text=text, database="db", started_at=1000.0 + i))
        hits = {h.text: h.id for h in await memory.search("", limit=10)}
        assert await memory.pin([hits["SELECT 1"]]) == {hits["SELECT 1"]}
        assert [h.text for h in await memory.pinned(database="db")] == ["SELECT 1"]
        await memory.pin([hits["SELECT 1"]], pinned=False)
        assert await memory.pinned() == []
        await memory.pin([hits["SELECT name FROM users"]])
        assert await memory.forget([hits["SELECT name FROM users"]]) == 1
        assert await memory.pinned() == []
        assert "SELECT name FROM users" not in [h.text for h in await memory.search("", limit=10)]
    finally:
        await memory.close()
