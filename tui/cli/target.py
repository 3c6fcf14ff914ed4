"""How every sub-command that connects takes its target: the same words, the same ``--ssh``.

A target is a URL, a path, ``service=NAME`` or a saved connection's name, resolved by
:func:`aishell.engine.connections.resolve` (the workbench, ``run``, ``top`` and
``connections test`` through ``Session.open``; ``backup``, ``restore``, ``migrate``, ``advise``
and ``analyze`` through :func:`aishell.engine.connections.reach`, which also opens the tunnel).
``--ssh`` on the command line wins over a saved connection's ``ssh``.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_ssh(parser)
>>> parser.parse_args(["--ssh", "me@bastion:2222"]).ssh
'me@bastion:2222'
"""

from __future__ import annotations

import argparse

__all__ = ["SSH_HELP", "TARGET_HELP", "add_ssh"]

TARGET_HELP = "postgresql://…, sqlite:///path, a .db path, mongodb://…, service=NAME or a saved connection's name"
"""What a target may be, in every sub-command's help."""

SSH_HELP = "[user@]host[:port] or a Host of ~/.ssh/config: connect through an SSH tunnel (wins over a saved connection's ssh)"


def add_ssh(parser: argparse.ArgumentParser, *, default: str = "") -> None:
    """``--ssh HOP`` (default "": direct, or the saved connection's hop; ``argparse.SUPPRESS``
    where the flag is accepted both before and after a sub-action)."""
    parser.add_argument("--ssh", default=default, metavar="[USER@]HOST[:PORT]", help=SSH_HELP)
