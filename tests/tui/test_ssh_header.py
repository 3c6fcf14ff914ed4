"""The workbench through an SSH tunnel (real sshd, see tests/integration/test_ssh_tunnel.py): an
unknown host key is asked about with its fingerprint, the header names the hop and shows when it
drops and comes back, and ``\\c`` to another database goes through the same hop."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from aishell.tui.screens.prompts import QuestionScreen
from tests.integration.test_ssh_tunnel import ssh_home, ssh_world  # noqa: F401 - fixtures
from tests.support import bare_settings
from tests.tui.appkit import connected, make_app, run, until

pytestmark = pytest.mark.pg
SIZE = (120, 36)


async def test_unknown_host_asked_then_header_follows_the_tunnel(ssh_home, pg_url, pg_fresh_db):
    ssh_home["known"].write_text("")
    app = make_app(pg_url, settings=bare_settings(), ssh="bastion")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QuestionScreen), what="the host key question")
        assert "SHA256:" in str(app.screen.message) and f"[127.0.0.1]:{ssh_home['bastion'].port}" in app.screen.message
        await pilot.press("y")
        await connected(pilot)
        hop = app.screen.query_one("#tunnel")
        assert hop.display and str(hop.content) == "ssh bastion" and not hop.has_class("-bad")
        assert "127.0.0.1" in ssh_home["known"].read_text()

        header = app.screen.query_one("#header")
        shown: list[str] = []  # every state the header showed: the drop may be mended before a poll sees it
        show = header.show_tunnel
        header.show_tunnel = lambda state: (shown.append(state), show(state))[1]
        ssh_home["bastion"].drop_sessions()
        await until(pilot, lambda: any(state != "up" for state in shown), what="the header to show the drop")
        await run(pilot, "SELECT 1")  # the session's reconnect brings the tunnel back
        await until(pilot, lambda: app.session.tunnel.state == "up" and not hop.has_class("-busy") and not hop.has_class("-bad"), what="the tunnel back up")

        fresh = urlsplit(pg_fresh_db).path.lstrip("/")
        await run(pilot, f"\\c {fresh}", finished=False)
        await until(pilot, lambda: app.session is not None and app.session.display_url.endswith(f"/{fresh}"), what="\\c through the hop")
        assert app.session.tunnel_hop == "bastion"
