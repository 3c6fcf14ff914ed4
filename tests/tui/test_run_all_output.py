"""``\\o FILE`` applies to Run all as psql applies it to a script: after ``\\o FILE`` every result
goes to the file, ``\\o`` alone brings them back to the screen. The file holds what
``aishell run -f`` writes for the same script (the command line's contract), so the expectation
is not written here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import connected, copy_db, grid, make_app, until
from tests.tui.test_run_all import run_all

SIZE = (120, 36)

SCRIPT = """\\o {out}
select 1 as a;
select first_name, id from customers order by id limit 3;
\\o
select 3 as c;
"""


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory) -> Path:
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


async def test_run_all_writes_every_result_to_the_o_file_until_o_alone(demo_master, tmp_path):
    db = copy_db(demo_master, tmp_path)
    ours, theirs = tmp_path / "workbench.txt", tmp_path / "cli.txt"
    script = tmp_path / "script.sql"
    script.write_text(SCRIPT.format(out=theirs))
    cli = subprocess.run([sys.executable, "-m", "aishell.tui.cli", "run", str(db), "-f", str(script)],
                         capture_output=True, text=True, timeout=60, env=dict(os.environ, AISHELL_MEMORY__ENABLED="false"))
    assert cli.returncode == 0, cli.stderr
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        tabs = await run_all(pilot, SCRIPT.format(out=ours))
        g = grid(pilot)
        await until(pilot, lambda: g.finished, what="the last result")
        assert [c[0] for c in g.columns] == ["c"] and list(g.rows) == [(3,)]  # after \o alone: on screen
        # the results that went to the file say so in their tabs, with no rows on screen
        written_to = [slot for slot in tabs.slots if f"written to {ours}" in slot.status]
        assert len(written_to) == 2 and not any(slot.rows for slot in written_to)
    written = ours.read_text()
    assert written == theirs.read_text()
    assert " a\n" in written and "(3 rows)" in written and " c\n" not in written
