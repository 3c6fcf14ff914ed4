"""One value encoder: `aishell run --format csv|json|jsonl` and the grid's export write the same row
the same way, in the forms engine/encode.py documents."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import doctest
import io
import json
import uuid

import pytest
from asyncpg import BitString, Range
from bson import Decimal128, Int64, ObjectId, Timestamp

from aishell.engine.types import Column
import aishell.engine.encode
from aishell.engine.encode import CsvRowWriter, ExportError, export_rows
from aishell.engine.mongo.values import ObjectIdValue
from aishell.tui.output import writer_for

D = decimal.Decimal
UTC2 = dt.timezone(dt.timedelta(hours=2))
OID = "65a1b2c3d4e5f60718293a4b"
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")

# (case, column type, value, CSV field, JSON value parsed with parse_float=Decimal)
CASES = [
    ("null", "text", None, "", None),
    ("true", "bool", True, "t", True),
    ("false", "bool", False, "f", False),
    ("int", "int8", -42, "-42", -42),
    ("float", "float8", 1.5, "1.5", D("1.5")),
    ("float_exp", "float8", 1e16, "1e+16", D("1e16")),
    ("nan", "float8", float("nan"), "NaN", "NaN"),
    ("inf", "float8", float("inf"), "Infinity", "Infinity"),
    ("-inf", "float8", float("-inf"), "-Infinity", "-Infinity"),
    ("decimal", "numeric", D("1.10"), "1.10", D("1.10")),
    ("big_decimal", "numeric", D("12345678901234567890.123456789"), "12345678901234567890.123456789", D("12345678901234567890.123456789")),
    ("decimal_nan", "numeric", D("NaN"), "NaN", "NaN"),
    ("text", "text", 'say "hi",\nok', 'say "hi",\nok', 'say "hi",\nok'),
    ("unicode", "text", "ø ✓", "ø ✓", "ø ✓"),
    ("bytes", "bytea", b"\x00\xff", "\\x00ff", "\\x00ff"),
    ("date", "date", dt.date(2024, 1, 2), "2024-01-02", "2024-01-02"),
    ("timestamp", "timestamp", dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05", "2024-01-02T03:04:05"),
    ("timestamptz", "timestamptz", dt.datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC2),
     "2024-01-02 03:04:05.12+02", "2024-01-02T03:04:05.120000+02:00"),
    ("time", "time", dt.time(3, 4, 5), "03:04:05", "03:04:05"),
    ("interval", "interval", dt.timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=500000),
     "1 day 02:03:04.5", "P1DT2H3M4.5S"),
    ("interval_days", "interval", dt.timedelta(days=2), "2 days", "P2D"),
    ("interval_negative", "interval", dt.timedelta(seconds=-1), "-00:00:01", "-PT1S"),
    ("interval_negative_days", "interval", -dt.timedelta(days=1, hours=2), "-1 days -02:00:00", "-P1DT2H"),
    ("interval_zero", "interval", dt.timedelta(0), "00:00:00", "PT0S"),
    ("uuid", "uuid", UID, str(UID), str(UID)),
    ("int_array", "_int4", [1, None, 3], "{1,NULL,3}", [1, None, 3]),
    ("nested_array", "_int4", [[1, 2], [3, 4]], "{{1,2},{3,4}}", [[1, 2], [3, 4]]),
    ("text_array", "_text", ["a b", 'x"y', "", "null", "\\", "plain"], '{"a b","x\\"y","","null","\\\\",plain}',
     ["a b", 'x"y', "", "null", "\\", "plain"]),
    ("bool_array", "_bool", [True, False], "{t,f}", [True, False]),
    ("dict", "jsonb", {"k": [1, "x"], "n": None, "d": D("2.50")}, '{"k": [1, "x"], "n": null, "d": 2.50}',
     {"k": [1, "x"], "n": None, "d": D("2.50")}),
    ("jsonb_text", "jsonb", '{"a": 1.10, "b": [true, null]}', '{"a": 1.10, "b": [true, null]}', {"a": D("1.10"), "b": [True, None]}),
    ("json_not_json", "json", "not json", "not json", "not json"),
    ("range", "int4range", Range(1, 5), "[1,5)", "[1,5)"),
    ("range_text", "tsrange", Range(dt.datetime(2024, 1, 1), None, upper_inc=False), '["2024-01-01 00:00:00",)',
     '["2024-01-01 00:00:00",)'),
    ("range_empty", "int4range", Range(empty=True), "empty", "empty"),
    ("bits", "bit", BitString("101"), "101", "101"),
    ("objectid", "objectId", ObjectId(OID), OID, OID),
    ("objectid_shell", "objectId", ObjectIdValue(OID), OID, OID),
    ("int64", "long", Int64(5), "5", 5),
    ("decimal128", "decimal", Decimal128("1.5"), "1.5", D("1.5")),
    ("bson_timestamp", "timestamp", Timestamp(1, 2), "Timestamp(1, 2)", "Timestamp(1, 2)"),
]
IDS = [case[0] for case in CASES]


def _cli(fmt: str, columns: list[tuple[str, str]], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = writer_for(fmt, out, [Column(name, type_name) for name, type_name in columns])
    writer.start()
    for row in rows:
        writer.rows([row])
    writer.finish(len(rows), 1.0, f"SELECT {len(rows)}")
    return out.getvalue()


def _export(fmt: str, columns: list[tuple[str, str]], rows: list[tuple], tmp_path) -> str:
    path = tmp_path / f"export.{fmt}"
    assert export_rows(columns, iter(rows), fmt, path) == len(rows)
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case, type_name, value, csv_field, json_value", CASES, ids=IDS)
def test_one_value_both_paths(case, type_name, value, csv_field, json_value, tmp_path):
    columns, rows = [("v", type_name), ("n", "int4")], [(value, 1)]
    csv_text = _cli("csv", columns, rows)
    assert csv_text == _export("csv", columns, rows, tmp_path)
    assert list(csv.reader(io.StringIO(csv_text))) == [["v", "n"], [csv_field, "1"]]

    jsonl = _cli("jsonl", columns, rows)
    assert jsonl == _export("jsonl", columns, rows, tmp_path)
    assert json.loads(jsonl, parse_float=D) == {"v": json_value, "n": 1}

    cli = json.loads(_cli("json", columns, rows), parse_float=D)
    export = json.loads(_export("json", columns, rows, tmp_path), parse_float=D)
    assert cli["rows"] == [[json_value, 1]] and export == [{"v": json_value, "n": 1}]


def test_every_type_in_one_row_pages_and_duplicate_names(tmp_path):
    """All the cases side by side, over pages whose types change (NULLs first, then values),
    with a duplicated column name: byte-identical CSV and JSONL, the same JSON values."""
    columns = [("v", case[1]) for case in CASES]
    first = tuple(None for _ in CASES)
    row = tuple(case[2] for case in CASES)
    rows = [first, row, row]
    csv_text = _cli("csv", columns, rows)
    assert csv_text == _export("csv", columns, rows, tmp_path)
    header, *parsed = csv.reader(io.StringIO(csv_text))
    assert header[:3] == ["v", "v_2", "v_3"] and len(set(header)) == len(CASES)
    assert parsed == [[""] * len(CASES), [case[3] for case in CASES], [case[3] for case in CASES]]

    assert _cli("jsonl", columns, rows) == _export("jsonl", columns, rows, tmp_path)
    cli = json.loads(_cli("json", columns, rows), parse_float=D)
    export = json.loads(_export("json", columns, rows, tmp_path), parse_float=D)
    assert cli["rows"] == [list(record.values()) for record in export]
    assert cli["rows"][1] == [case[4] for case in CASES]
    assert cli["columns"] == ["v"] * len(CASES)  # the json shape lists the real names


def test_csv_columns_of_several_types_stay_watched():
    """SQLite and MongoDB columns may change type between rows: a column that showed two types
    is checked on every page, one that showed only NULLs until it shows values."""
    out = io.StringIO()
    writer = CsvRowWriter(out, ["mixed", "late", "int"])
    writer.rows([(1, None, 1), ("a", None, 2)])
    writer.rows([(b"\x01", None, 3)])
    writer.rows([(True, [1, 2], 4)])
    assert out.getvalue().splitlines() == ["1,,1", "a,,2", "\\x01,,3", 't,"{1,2}",4']


def test_export_file_is_complete_or_absent(tmp_path):
    columns = [("id", "int4")]
    assert export_rows(["a"], [], "json", tmp_path / "empty.json") == 0
    assert json.loads((tmp_path / "empty.json").read_text()) == []
    with pytest.raises(ExportError, match="xml"):
        export_rows(columns, [(1,)], "xml", tmp_path / "r.xml")
    with pytest.raises(OSError):
        export_rows(columns, [(1,)], "csv", tmp_path / "missing-dir" / "r.csv")

    def broken():
        yield (1,)
        raise OSError("the export was interrupted")

    with pytest.raises(OSError, match="interrupted"):
        export_rows(columns, broken(), "csv", tmp_path / "r.csv")
    assert not list(tmp_path.glob(".*.part")) and not (tmp_path / "r.csv").exists()


def test_docstring_examples():
    result = doctest.testmod(aishell.engine.encode)
    assert result.attempted > 0 and result.failed == 0
