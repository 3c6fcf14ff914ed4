"""Documents into grid rows (dotted columns, summarized arrays, stable pages) and sampled schemas."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid

import bson
import pytest

from aishell.engine.mongo.flatten import Flattener, cell, compact, flatten, summarize_array, type_name
from aishell.engine.mongo.schema import FieldInfo, infer_fields
from aishell.engine.types import ColumnInfo

UTC = dt.timezone.utc


def order(i: int, **extra):
    doc = {
        "_id": bson.ObjectId(f"65a1b2c3d4e5f607182930{i:02x}"),
        "status": "paid" if i % 2 else "open",
        "customer": {"name": f"c{i}", "address": {"city": "Oslo", "zip": f"0{i:03d}"}},
        "total": decimal.Decimal("10.50") + i,
        "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 1}],
        "ts": dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(hours=i),
    }
    doc.update(extra)
    return doc


def test_nested_documents_become_dotted_columns_with_id_first():
    docs = [{"status": "x", "_id": 1, "customer": {"name": "Ann", "address": {"city": "Oslo"}}}]
    columns, rows = flatten(docs)
    assert [c.name for c in columns] == ["_id", "status", "customer.name", "customer.address.city"]
    assert rows == [(1, "x", "Ann", "Oslo")]


def test_children_stay_next_to_their_parent_when_met_later():
    f = Flattener()
    f.learn([{"_id": 1, "a": {"x": 1}, "b": 2}, {"_id": 2, "a": {"y": 3}, "c": 4}])
    assert [c.name for c in f.freeze()] == ["_id", "a.x", "a.y", "b", "c"]


def test_column_types_follow_bson_aliases():
    columns, _ = flatten([order(1), order(2, total=bson.Decimal128("3.25"))])
    types = {c.name: c.type_name for c in columns}
    assert types["_id"] == "objectId"
    assert types["status"] == "string"
    assert types["total"] == "decimal"
    assert types["items"] == "array"
    assert types["ts"] == "date"


def test_mixed_and_null_types():
    columns, rows = flatten([{"v": 1}, {"v": "x"}, {"v": None}, {"v": 2}])
    assert columns[0].type_name == "int|string"
    assert [r[0] for r in rows] == [1, "x", None, 2]


def test_cells_convert_bson_values():
    oid = bson.ObjectId("65a1b2c3d4e5f60718293a4b")
    assert cell(oid) == "65a1b2c3d4e5f60718293a4b"
    assert cell(bson.Int64(5)) == 5 and type(cell(bson.Int64(5))) is int
    assert cell(bson.Decimal128("1.10")) == decimal.Decimal("1.10")
    assert cell(bson.Timestamp(1700000000, 2)) == "Timestamp(1700000000, 2)"
    assert cell(bson.Regex("^a", "i")) == "/^a/i"
    assert cell(bson.Regex.from_native(re.compile("x", re.IGNORECASE | re.MULTILINE))) == "/x/im"
    u = uuid.uuid4()
    assert cell(bson.Binary.from_uuid(u)) == str(u)
    assert cell(bson.Binary(b"\x00\x01", 0)) == b"\x00\x01"
    assert cell(bson.MinKey()) == "MinKey()"
    moment = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert cell(moment) is moment
    assert cell(bson.DBRef("orders", 5)) == "DBRef('orders', 5)"


def test_type_names():
    assert type_name(bson.ObjectId()) == "objectId"
    assert type_name(bson.Int64(1)) == "long"
    assert type_name(2**40) == "long"
    assert type_name(7) == "int"
    assert type_name(1.5) == "double"
    assert type_name(True) == "bool"
    assert type_name(bson.Binary(b"x", 0)) == "binData"
    assert type_name(bson.Binary.from_uuid(uuid.uuid4())) == "uuid"
    assert type_name(bson.Timestamp(1, 1)) == "timestamp"
    assert type_name(bson.Regex("x")) == "regex"


def test_arrays_are_summarized():
    _, rows = flatten([order(1)])
    items = rows[0][[c.name for c in flatten([order(1)])[0]].index("items")]
    assert items == '[{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 1}]'
    assert summarize_array([]) == "[]"
    long = summarize_array(list(range(1000)), budget=30)
    assert long.endswith("… (1000 items)") and len(long) < 50
    assert summarize_array([[1, 2], ["a"]]) == '[[1, 2], ["a"]]'


def test_compact_cuts_long_values():
    text = compact({"a": "x" * 500}, budget=40)
    assert len(text) == 40 and text.endswith("…")


def test_columns_are_stable_across_pages_and_late_fields_are_noted():
    f = Flattener()
    first = [order(1), order(2)]
    f.learn(first)
    columns = f.freeze()
    page1 = f.rows(first)
    page2 = f.rows([order(3, coupon="X1"), {"_id": 9, "customer": "walk-in"}])
    assert f.columns == columns
    assert all(len(r) == len(columns) for r in page1 + page2)
    names = [c.name for c in columns]
    walk_in = page2[1]
    # A scalar where the first page had a subdocument: its children are empty for that row.
    assert walk_in[names.index("customer.name")] is None
    assert walk_in[names.index("status")] is None
    assert f.unseen == {"coupon": 1}
    assert "coupon" in f.unseen_note()
    with pytest.raises(RuntimeError):
        f.learn([order(4)])


def test_nested_fields_first_seen_later_are_noted_with_their_path():
    f = Flattener()
    f.learn([{"_id": 1, "customer": {"name": "Ann", "address": {"city": "Oslo"}}}])
    f.freeze()
    f.rows([{"_id": 2, "customer": {"name": "Bo", "vip": True, "address": {"city": "Rome", "zip": "00100"}}}])
    assert f.unseen == {"customer.vip": 1, "customer.address.zip": 1}


def test_subdocument_where_the_first_page_had_a_scalar_is_shown_compactly():
    f = Flattener()
    f.learn([{"_id": 1, "customer": "walk-in"}])
    f.freeze()
    assert f.rows([{"_id": 2, "customer": {"name": "Bo"}}]) == [(2, '{"name": "Bo"}')]


def test_max_depth_keeps_deep_documents_as_text():
    doc = {"a": {"b": {"c": {"d": 1}}}}
    columns, rows = flatten([doc], max_depth=2)
    assert [c.name for c in columns] == ["a.b"]
    assert rows == [('{"c": {"d": 1}}',)]


def test_max_columns_bounds_the_grid():
    doc = {f"f{i}": i for i in range(50)}
    f = Flattener(max_columns=10)
    f.learn([doc])
    assert len(f.freeze()) == 10
    f.rows([doc])
    assert len(f.unseen) == 40


def test_non_documents_get_a_value_column():
    columns, rows = flatten(["a", 1])
    assert [c.name for c in columns] == ["value"]
    assert rows == [("a",), (1,)]


def test_bad_options_are_refused_with_their_value():
    with pytest.raises(ValueError, match="0"):
        Flattener(max_depth=0)


# -- schema inference ---------------------------------------------------------------------------


def test_infer_fields_counts_frequency_and_types():
    docs = [order(i) for i in range(8)] + [order(8, status=None), {"_id": 99, "status": 3}]
    fields = {f.name: f for f in infer_fields(docs)}
    assert list(fields)[0] == "_id"
    assert isinstance(fields["status"], FieldInfo) and isinstance(fields["status"], ColumnInfo)
    assert fields["status"].frequency == 1.0
    assert fields["status"].type_name == "string|int"
    assert fields["status"].nullable
    assert dict(fields["status"].types)["null"] == pytest.approx(0.1)
    assert fields["customer"].frequency == pytest.approx(0.9)
    assert fields["customer.address.city"].frequency == 1.0  # relative to its parent
    assert fields["items"].type_name == "array"
    assert fields["items.sku"].type_name == "string"
    assert fields["items.sku"].count == 9
    assert fields["_id"].type_name == "objectId|int"
    assert not fields["_id"].nullable
    assert [f.position for f in fields.values()] == list(range(1, len(fields) + 1))
    assert fields["ts"].sample_size == 10


def test_infer_fields_of_nothing():
    assert infer_fields([]) == []
