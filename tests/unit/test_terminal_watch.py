"""The workbench quits when its terminal hangs up: a dropped SSH session leaves no spinning process."""

from __future__ import annotations

import os
import pty

from aishell.tui.app import terminal_hung_up


def test_hang_up_is_seen_on_the_tty():
    master, slave = pty.openpty()
    try:
        assert not terminal_hung_up(slave)
        os.close(master)
        master = -1
        assert terminal_hung_up(slave)
    finally:
        os.close(slave)
        if master >= 0:
            os.close(master)
