"""Completion in half-typed mongosh statements: collections, methods, field paths, $references."""

from __future__ import annotations

import pytest

from aishell.engine.mongo.complete import complete

FIELDS = {"orders": ["_id", "status", "total", "customer.name", "customer.city"], "order_items": ["sku"], "people": ["name"]}

CASES = [
    # (text with | at the cursor, context, names)
    ("db.|", "collection", ["order_items", "orders", "people", "createCollection", "dropDatabase", "getCollectionInfos", "getCollectionNames", "runCommand", "stats"]),
    ("db.ord|", "collection", ["order_items", "orders"]),
    ("x = 1; db.peo|", "collection", ["people"]),
    ("db.orders.find|", "method", ["find", "findOne", "findOneAndDelete", "findOneAndReplace", "findOneAndUpdate"]),
    ("db.orders.find({|", "field", ["_id", "status", "total", "'customer.name'", "'customer.city'"]),
    ("db.orders.find({st|", "field", ["status", "'customer.name'", "'customer.city'"]),  # then names containing it
    ("db.orders.find({status: 'paid', cust|", "field", ["'customer.name'", "'customer.city'"]),
    ("db.orders.find({'customer.c|", "field", ["customer.city"]),
    ("db.orders.find({\"cus|", "field", ["customer.name", "customer.city"]),
    ("db.orders.find({}, {tot|", "field", ["total"]),
    ("db.orders.find({}).sort({tot|", "nothing", []),  # a cursor modifier: not a call on the collection
    ("db.orders.updateMany({status: 'open'}, {$set: {sta|", "field", ["status"]),
    ("db.orders.aggregate([{$match: {to|", "field", ["total", "'customer.name'", "'customer.city'"]),
    ("db.orders.aggregate([{$group: {_id: '$customer.c|", "reference", ["$customer.city"]),
    ("db.getCollection('people').find({na|", "field", ["name"]),
    ("db.orders.find({status: st|", "nothing", []),  # a value, not a key
    ("db.orders.find({status: 'pa|", "nothing", []),  # inside a value string
    ("db.orders.find({$|", "nothing", []),  # an operator is being typed
    ("db.orders.find([st|", "nothing", []),  # inside an array, not a document
    ("db.nosuch.find({a|", "field", []),
    ("// db.or|", "nothing", []),
    ("db.orders.find({}) // {st|", "nothing", []),
    ("show |", "nothing", []),
]


@pytest.mark.parametrize("typed, context, names", CASES, ids=[c[0] for c in CASES])
def test_completion_at_the_cursor(typed, context, names):
    offset = typed.index("|")
    text = typed.replace("|", "")
    found = complete(text, offset, FIELDS)
    assert (found.context, found.names) == (context, names)
    if names:
        assert text[found.start : offset] == found.prefix


def test_the_prefix_is_what_the_choice_replaces():
    text = "db.orders.find({status: 'paid', cust"
    found = complete(text, len(text), FIELDS)
    assert text[: found.start] + found.names[0] == "db.orders.find({status: 'paid', 'customer.name'"
