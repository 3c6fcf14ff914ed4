"""What the plan tree shows: each node's own cost or time, its share of the plan, its
conditions, and the most expensive node (engine/analyzer/plan.py)."""

from __future__ import annotations

from aishell.engine.analyzer.plan import read_postgres_plan

ESTIMATED = [{
    "Plan": {
        "Node Type": "Hash Join", "Total Cost": 1000.0, "Plan Rows": 500, "Hash Cond": "(o.customer_id = c.id)",
        "Plans": [
            {"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "orders", "Alias": "o",
             "Total Cost": 700.0, "Plan Rows": 500, "Filter": "(status = 'shipped'::text)"},
            {"Node Type": "Hash", "Parent Relationship": "Inner", "Total Cost": 250.0, "Plan Rows": 100,
             "Plans": [{"Node Type": "Index Scan", "Parent Relationship": "Outer", "Relation Name": "customers",
                        "Alias": "c", "Index Name": "customers_pkey", "Total Cost": 240.0, "Plan Rows": 100,
                        "Index Cond": "(id < 100)"}]},
        ],
    },
}]

ANALYZED = [{
    "Plan": {
        "Node Type": "Sort", "Total Cost": 50.0, "Plan Rows": 10, "Actual Rows": 10, "Actual Loops": 1,
        "Actual Total Time": 8.0, "Sort Key": ["a", "b DESC"],
        "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "t", "Total Cost": 40.0,
                   "Plan Rows": 10, "Actual Rows": 1000, "Actual Loops": 1, "Actual Total Time": 2.0}],
    },
    "Execution Time": 8.0,
}]


def test_estimated_plan_weighs_nodes_by_their_own_cost():
    report = read_postgres_plan(ESTIMATED)
    join, scan, hashed, index = report.nodes
    assert [n.exclusive_cost for n in report.nodes] == [50.0, 700.0, 10.0, 240.0]
    assert report.weight(scan) == 0.7 and report.weight(join) == 0.05
    assert report.costliest() is scan
    assert join.conditions == [("Hash Cond", "(o.customer_id = c.id)")]
    assert scan.conditions == [("Filter", "(status = 'shipped'::text)")]
    assert index.conditions == [("Index Cond", "(id < 100)")] and index.index == "customers_pkey"


def test_analyzed_plan_weighs_nodes_by_their_own_time():
    report = read_postgres_plan(ANALYZED)
    sort, scan = report.nodes
    assert report.analyzed
    assert report.weight(sort) == 0.75 and report.weight(scan) == 0.25
    assert report.costliest() is sort
    assert sort.conditions == [("Sort Key", "a, b DESC")]


def test_plans_without_costs_have_no_costliest_node():
    from aishell.engine.analyzer.plan import read_sqlite_plan

    report = read_sqlite_plan([(2, 0, 0, "SCAN orders")])
    assert report.costliest() is None and report.weight(report.nodes[0]) is None
