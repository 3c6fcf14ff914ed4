"""Who blocks whom: the sessions waiting for a lock as a forest, each blocking root first.

A root holds a lock others wait for and waits for none itself; under it stand the sessions
waiting for it, and under those the ones waiting for them. A session waiting for several
stands under the first of them (once: the tree never repeats a session), and a cycle of
waiters (a deadlock the server has not broken yet) becomes a root at its lowest pid.

>>> from aishell.engine.drivers.server import Backend
>>> def b(pid, *blockers):
...     return Backend(pid, "db", "u", "", None, "active", None, 1.0, 1.0, "q", tuple(blockers))
>>> [(n.depth, n.backend.pid, n.root) for n in lock_tree([b(1), b(2, 1), b(3, 2), b(4)])]
[(0, 1, True), (1, 2, False), (2, 3, False)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from aishell.engine.drivers.server import Backend


@dataclass(frozen=True, slots=True)
class LockNode:
    depth: int
    backend: Backend
    root: bool
    """It blocks others and waits for nobody: ending it frees the sessions under it."""
    blocks: int
    """How many sessions wait behind it, directly or not."""


def lock_tree(backends: Iterable[Backend]) -> list[LockNode]:
    """The blocking forest of ``backends`` in pre-order; sessions not involved are left out."""
    by_pid = {b.pid: b for b in backends}
    waiters: dict[int, list[int]] = {}
    for backend in by_pid.values():
        for blocker in backend.blocked_by[:1]:
            waiters.setdefault(blocker, []).append(backend.pid)
    roots = sorted(pid for pid in waiters if not _blocked(by_pid, pid))
    placed: set[int] = set()
    out: list[LockNode] = []

    def count(pid: int, seen: set[int]) -> int:
        total = 0
        for child in waiters.get(pid, ()):
            if child not in seen:
                seen.add(child)
                total += 1 + count(child, seen)
        return total

    def visit(pid: int, depth: int) -> None:
        if pid in placed:
            return
        placed.add(pid)
        backend = by_pid.get(pid) or _unseen(pid)
        out.append(LockNode(depth, backend, depth == 0 and not _blocked(by_pid, pid), count(pid, {pid})))
        for child in sorted(waiters.get(pid, ())):
            visit(child, depth + 1)

    for root in roots:
        visit(root, 0)
    for pid in sorted(waiters):  # cycles: nobody in them is a root
        if pid not in placed:
            visit(pid, 0)
    return out


def _blocked(by_pid: dict[int, Backend], pid: int) -> bool:
    backend = by_pid.get(pid)
    return backend is not None and bool(backend.blocked_by)


def _unseen(pid: int) -> Backend:
    """A blocker the activity sample does not show (a prepared transaction, another kind of
    backend): it still heads its tree."""
    return Backend(pid, None, None, "", None, "not shown", None, None, None, "")
