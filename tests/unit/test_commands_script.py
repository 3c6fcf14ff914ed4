"""Scripts read into steps (engine/commands/script.py): the one splitter with psql lines, and
``\\i``/``\\ir`` nesting expanded in place, with one-line errors for files that cannot be read."""

from __future__ import annotations

import asyncio

import pytest

from aishell.engine import commands
from aishell.engine.commands import script


async def walk(text: str, *, source: str | None = None) -> list[script.Step]:
    """Run the script's backslash lines as a front end does, collecting every step."""
    context = commands.Context(session=None)
    seen = []
    async for step in script.steps(text, "sqlite", source=source):
        if step.command:
            step.outcome = await commands.run(context, step.text)
        seen.append(step)
    return seen


def test_steps_keep_positions_and_psql_lines():
    steps = asyncio.run(walk("select 1;\n  select ';'\n  ;\\timing off\nselect 2"))
    assert [(s.text, s.line, s.column, s.command) for s in steps] == [
        ("select 1", 1, 1, False), ("select ';'", 2, 3, False), ("\\timing off", 3, 4, True), ("select 2", 4, 1, False)]


def test_include_runs_the_file_in_place_relative_to_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "inner.sql").write_text("select 'inner';\n\nselect 'second'")
    monkeypatch.chdir(tmp_path)
    steps = asyncio.run(walk("select 1;\n\\i inner.sql\nselect 3"))
    assert [(s.text, s.line, s.source) for s in steps if not s.command] == [
        ("select 1", 1, None), ("select 'inner'", 1, "inner.sql"), ("select 'second'", 3, "inner.sql"), ("select 3", 3, None)]
    assert steps[1].where == "line 2" and steps[3].where == "inner.sql:3"  # named as typed, like psql


def test_include_relative_reads_beside_the_including_file(tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "outer.sql").write_text("\\ir inner.sql\n\\include_relative 'inner.sql'")
    (sub / "inner.sql").write_text("select 'beside'")
    monkeypatch.chdir(tmp_path)  # inner.sql is not here: \ir must not look in the current directory
    steps = asyncio.run(walk("\\i sub/outer.sql"))
    assert [s.text for s in steps if not s.command] == ["select 'beside'", "select 'beside'"]
    assert [s.depth for s in steps] == [0, 1, 2, 1, 2]


@pytest.mark.parametrize(
    ("setup", "line", "message"),
    [
        (lambda d: None, "\\i missing.sql", "missing.sql: no such file"),
        (lambda d: (d / "dir.sql").mkdir(), "\\i dir.sql", "dir.sql: is a directory"),
        (lambda d: (d / "bin.sql").write_bytes(b"\xff\xfe\x00select"), "\\i bin.sql", "bin.sql: not a UTF-8 text file"),
        (lambda d: (d / "self.sql").write_text("select 1;\n\\i self.sql"), "\\i self.sql", f"self.sql: files nested more than {script.MAX_DEPTH} deep"),
        (lambda d: None, "\\i", "\\i needs a file name"),
    ],
    ids=["missing", "directory", "not-utf8", "includes-itself", "no-name"],
)
def test_unreadable_includes_are_one_line_command_errors(tmp_path, monkeypatch, setup, line, message):
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    with pytest.raises(commands.CommandError) as caught:
        asyncio.run(walk(line))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_self_include_stops_at_the_depth_limit_after_running_each_level_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loop.sql").write_text("select 1;\n\\i loop.sql")
    seen = []

    async def collect():
        async for step in script.steps("\\i loop.sql", "sqlite"):
            seen.append(step)
            if step.command:
                step.outcome = await commands.run(commands.Context(session=None), step.text)

    with pytest.raises(commands.CommandError):
        asyncio.run(collect())
    assert sum(1 for s in seen if not s.command) == script.MAX_DEPTH
