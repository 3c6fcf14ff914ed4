"""The server monitor's examples run: filters and ages, the lock tree, deltas while watched,
and the MongoDB and SQLite probes' parsing (no MongoDB server here: ``currentOp`` and
``serverStatus`` replies are checked as documents)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "aishell.engine.drivers.server",
    "aishell.engine.drivers.server_mongo",
    "aishell.engine.drivers.server_sqlite",
    "aishell.engine.server.activity",
    "aishell.engine.server.locks",
    "aishell.engine.server.statements",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


def test_a_deadlock_cycle_still_shows_and_a_blocker_not_listed_heads_its_tree():
    from aishell.engine.drivers.server import Backend
    from aishell.engine.server import lock_tree

    def b(pid, *blockers):
        return Backend(pid, "db", "u", "", None, "active", None, 1.0, 1.0, "q", tuple(blockers))

    cycle = lock_tree([b(1, 2), b(2, 1)])
    assert [(n.depth, n.backend.pid, n.root) for n in cycle] == [(0, 1, False), (1, 2, False)]
    unseen = lock_tree([b(5, 99)])
    assert [(n.depth, n.backend.pid, n.backend.state) for n in unseen] == [(0, 99, "not shown"), (1, 5, "active")]


def test_top_statements_rebaseline_after_a_reset():
    from aishell.engine.drivers.server import Statements, StatementStat
    from aishell.engine.server import StatementWatch

    watch = StatementWatch(limit=200)
    watch.update(Statements((StatementStat((1,), "q", "db", 100, 500.0, 100, 0, 0),)))
    after_reset = watch.update(Statements((StatementStat((1,), "q", "db", 3, 9.0, 3, 0, 0),)))
    assert (after_reset[0].calls, after_reset[0].total_ms) == (0, 0.0)
    new = watch.update(Statements((StatementStat((1,), "q", "db", 5, 15.0, 5, 0, 0), StatementStat((2,), "n", "db", 7, 7.0, 7, 0, 0))))
    assert {r.stat.key: r.calls for r in new} == {(1,): 2, (2,): 7}  # the baseline listed everything: (2,) is new
