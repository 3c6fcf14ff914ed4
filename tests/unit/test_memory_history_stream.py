"""History files read a block at a time give the entries of the whole file read at once, for every
kind ``aishell memory import`` accepts, wherever the blocks are cut (inside an escape, a quote,
a dollar-quoted body, a pgcli entry, between ``\\r`` and ``\\n``); and an import's place in a
file is found again by reading it, without holding its entries."""

from __future__ import annotations

import pytest

from aishell.engine.memory import history
from aishell.engine.memory.history import Progress, entries_of, parse, read_history, resume_at

FILES = {
    "psql": (
        "_HiStOrY_V2_\nSELECT\\040*\\040FROM\\040t\\040WHERE\\040a\\040=\\040'x\\134y';\n\\dt\n"
        "select\\0401\\012from\\040t;\n\nUPDATE\\040t\\040SET\\040a\\040=\\0402;\n"
    ),
    "pgcli": (
        "\n# 2024-05-01 10:00:00.123456\n+SELECT *\n+FROM orders;\n"
        "\n# 2024-05-02 11:30:00.000001\n+\\dt\n\n# 2024-05-03 09:15:00.5\n+select 1\n+  , 2\n"
    ),
    "plain": (
        "\\c shop\nSELECT 'a;b' FROM t;\n-- note; here\nSELECT $x$ ; $x$;\r\n\\x\n"
        "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END;\n/* ; */ SELECT 3"
    ),
    "plain-lines": "SELECT 1\n\\dt\nSELECT 2\r\n\nSELECT 'é'\n",
}


def _cut(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_entries_read_in_blocks_are_those_of_the_whole_file(name, size):
    text = FILES[name]
    kind = name.split("-")[0]
    whole = parse(text, kind)
    assert whole  # each file holds entries
    streamed = list(entries_of(_cut(text, size), kind, semicolons=";" in text))
    assert [(i.text, i.started_at, i.position) for i in streamed] == [(i.text, i.started_at, i.position) for i in whole]
    assert [i.position for i in whole] == sorted(i.position for i in whole)  # the order of entries without a time


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_file_read_from_disk_in_small_blocks_gives_the_same_entries(tmp_path, monkeypatch, name):
    monkeypatch.setattr(history, "BLOCK", 5)  # multi-byte characters cut between blocks too
    path = tmp_path / ("history" if name == "pgcli" else f"{name}.sql")
    path.write_bytes(FILES[name].encode())
    kind, entries = read_history(path)
    assert kind == name.split("-")[0]
    assert [i.text for i in entries] == [i.text for i in parse(FILES[name], kind)]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (["a", "b", "c", "d", "e"], 5),  # unchanged
        (["a", "b", "c", "d", "e", "f"], 5),  # grown
        (["c", "d", "e", "f"], 3),  # trimmed at the start, then grown
        (["e", "f"], 1),  # trimmed into the last entries read
        (["x", "y"], 0),  # rewritten
        (["z", "a", "b", "c", "d", "e", "a", "b", "c", "d", "e"], 6),  # the earliest place: never skip an entry not read
    ],
)
def test_resume_at_reads_only_as_far_as_needed(now, expected):
    done = Progress()
    for text in ["a", "b", "c", "d", "e"]:
        done.read(text)
    consumed = []

    def entries():
        for text in now:
            consumed.append(text)
            yield text

    assert resume_at(entries(), done.record()) == expected
    if expected == 5 and len(now) > 5:
        assert len(consumed) == 5  # stopped where the last import stopped
