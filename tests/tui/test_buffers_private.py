"""The editor's buffers file as the workbench writes it: 0600 in a 0700 directory, no password."""

from __future__ import annotations

import json
import stat

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import connected, make_app, type_sql

SECRET_BUFFER = (
    "\\c postgresql://bob:s3cr3t-url@db:5432/shop\n"
    "\\connect host=db user=bob password='s3cr3t dsn'\n"
    "ALTER ROLE bob PASSWORD 's3cr3t-role';\n"
    "SELECT dblink_connect('host=db password=s3cr3t-literal');\n"
    "SELECT note FROM t WHERE note = 'unfinished"
)
SECRETS = ("s3cr3t-url", "s3cr3t dsn", "s3cr3t-role", "s3cr3t-literal")


async def test_buffers_file_is_private_and_holds_no_password(tmp_path, aishell_home):
    aishell_home.chmod(0o755)  # as conftest (and a user's mkdir) leave it
    demo = ensure_demo_database(tmp_path / "demo.db")
    app = make_app(demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        type_sql(pilot, SECRET_BUFFER)
        editor = app.screen.query_one("#editor")
        editor.save()
        assert editor.text == SECRET_BUFFER  # the screen keeps what was typed
        await app.action_quit()
    path = aishell_home / "data" / "buffers.json"
    raw = path.read_text()
    assert not [s for s in SECRETS if s in raw]
    text = json.loads(raw)["buffers"][0]["text"]
    assert text.splitlines() == [
        "\\c postgresql://bob@db:5432/shop",  # run again: the passfile or PGPASSWORD supplies it
        "\\connect host=db user=bob",
        "ALTER ROLE bob PASSWORD '***';",
        "SELECT dblink_connect('host=db password=***');",
        "SELECT note FROM t WHERE note = 'unfinished",  # being typed: kept whole
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob("*.part")) and not list(path.parent.glob("*.tmp"))
    log = path.parent / "aishell.log"
    if log.exists():
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
    app2 = make_app(demo)  # reloaded: the user types the password again
    async with app2.run_test(size=(120, 36)) as pilot:
        assert app2.screen.query_one("#editor").text.startswith("\\c postgresql://bob@db:5432/shop\n")
