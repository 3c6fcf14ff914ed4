"""The workload advisor's pure parts: which statements a workload keeps, how sources merge by
shape, which writes an index slows, and the docstring examples."""

from __future__ import annotations

import doctest
import importlib

import pytest

from aishell.engine.analyzer.findings import IndexCandidate
from aishell.engine.statements.fingerprint import fingerprint
from aishell.engine.workload.advice import IndexRecommendation, StatementEffect, _fold_prefixes, _written_table
from aishell.engine.workload.sources import WorkloadStatement, _keep, from_file, merge


@pytest.mark.parametrize("name", ["aishell.engine.workload.sources", "aishell.engine.workload.advice", "aishell.engine.memory.fingerprints"])
def test_docstring_examples(name):
    assert doctest.testmod(importlib.import_module(name)).failed == 0


@pytest.mark.parametrize(
    "text, kept",
    [
        ("SELECT id FROM orders WHERE customer_id = $1", True),
        ("UPDATE orders SET note = $1 WHERE id = $2", True),
        ("INSERT INTO events VALUES ($1, $2)", True),
        ("SELECT count(*) FROM pg_extension WHERE extname = $1", False),  # the catalog
        ("SELECT pg_stat_statements_reset()", False),
        ("SELECT * FROM hypopg_create_index($1)", False),  # the advisor's own
        ("EXPLAIN SELECT 1 FROM t", False),
        ("CREATE INDEX ON t (a)", False),
        ("SELECT pg_size_pretty(pg_relation_size($1))", True),  # a function of the catalog's is not its table
    ],
)
def test_which_statements_a_workload_keeps(text, kept):
    assert _keep(text) is kept


def test_parameters_and_literals_are_one_shape():
    assert fingerprint("SELECT id FROM t WHERE a = $1") == fingerprint("SELECT id FROM t WHERE a = 42")


def test_file_shapes_are_counted(tmp_path):
    path = tmp_path / "w.sql"
    path.write_text("SELECT 1 FROM t WHERE a = 1;\nselect 1 from T where a = 2;\nSELECT 1 FROM t WHERE b = 1;\nVACUUM t;\n")
    shapes = from_file(path)
    assert [(s.calls, s.mean_ms) for s in shapes] == [(2, None), (1, None)]


def test_merge_keeps_the_servers_counts_and_memorys_text():
    server = WorkloadStatement("f", "SELECT 1 FROM t WHERE a = $1", 500, 2.0, ("pg_stat_statements",))
    remembered = WorkloadStatement("f", "SELECT 1 FROM t WHERE a = 3", 4, 9.0, ("memory",))
    only_here = WorkloadStatement("g", "SELECT 1 FROM u WHERE b = 3", 1, 1.0, ("memory",))
    merged = merge([server], [remembered, only_here])
    assert [(m.calls, m.mean_ms, m.text) for m in merged] == [(500, 2.0, "SELECT 1 FROM t WHERE a = 3"), (1, 1.0, "SELECT 1 FROM u WHERE b = 3")]


@pytest.mark.parametrize(
    "text, written",
    [
        ("INSERT INTO orders (id) VALUES (1)", ("orders", None)),
        ('INSERT INTO "Orders" VALUES (1)', ("Orders", None)),
        ("UPDATE orders SET note = 'x', Status = 'y' WHERE id = 1", ("orders", {"note", "status"})),
        ("DELETE FROM orders WHERE id = 1", None),
        ("SELECT 1", None),
    ],
)
def test_which_writes_an_index_slows(text, written):
    assert _written_table(text) == written


def test_a_narrow_index_folds_into_a_wider_one_that_starts_with_it():
    statement = WorkloadStatement("f", "SELECT 1", 1, 1.0)
    narrow, wide, other = IndexCandidate("t", ("a",)), IndexCandidate("t", ("a", "b")), IndexCandidate("u", ("a",))
    chosen = {c: IndexRecommendation(c, [StatementEffect(statement, 10.0, 1.0, 5.0)]) for c in (narrow, wide, other)}
    _fold_prefixes(chosen)
    assert set(chosen) == {wide, other} and len(chosen[wide].helps) == 2
