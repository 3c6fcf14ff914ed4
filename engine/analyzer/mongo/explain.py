"""Reading ``explain("executionStats")`` into findings, and index advice by the ESR rule.

:func:`read_explain` accepts every shape the server returns: classic plans (``winningPlan`` with
nested ``inputStage``/``inputStages``), slot-based plans (``winningPlan.queryPlan``, MongoDB 7+),
sharded plans (``SHARD_MERGE``/``SINGLE_SHARD`` with ``shards``), aggregations (``stages`` with a
``$cursor`` stage, or per-shard ``shards``), and write explains (``UPDATE``/``DELETE`` roots).
:func:`findings` turns the summary into :class:`MongoFinding` values: collection scans over many
documents (MG001), poor examined/returned ratios (MG002), blocking in-memory sorts (MG003),
failed executions (MG004). :func:`suggest_index` proposes one compound index ordered
equality → sort → range, the order MongoDB documents as best for compound indexes.
:func:`static_findings` gives live advice from the text and the catalog alone (MG000 parse
error, MG005 destructive — as :func:`engine.statements.mongo.is_destructive` decides —, MG006
no index serves the query, MG007 unindexable condition, MG008 deep skip), with no round trip.

The documents come from :meth:`engine.drivers.mongo.MongoConnection.explain`, which runs the
server's explain command and returns its reply unread; :mod:`.report` turns what is read here
into the analyzer's plan reports and advice, as :mod:`engine.analyzer.plan` does for SQL.

>>> from aishell.engine.mongo.shell import parse
>>> suggest_index(parse('db.orders.find({status: "paid", total: {$gt: 100}}).sort({ts: -1})')).command
'db.orders.createIndex({status: 1, ts: -1, total: 1})'
>>> [f.code for f in static_findings("db.orders.deleteMany({})")]
['MG005']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from aishell.engine.mongo.shell import ShellQuery, format_value
from aishell.engine.mongo.values import RegexValue
from aishell.engine.statements.mongo import is_destructive
from aishell.engine.types import IndexInfo

# -- the plan, read ---------------------------------------------------------------------------


@dataclass(slots=True)
class PlanStage:
    """One stage of the winning plan, in pre-order (``depth`` 0 is the root)."""

    stage: str
    depth: int = 0
    shard: str | None = None
    index_name: str | None = None
    key_pattern: dict[str, Any] | None = None
    n_returned: int | None = None
    docs_examined: int | None = None
    keys_examined: int | None = None
    time_ms: int | None = None
    filter: dict[str, Any] | None = None
    sort_pattern: dict[str, Any] | None = None
    used_disk: bool = False
    memory_bytes: int | None = None
    is_multikey: bool = False
    after: str | None = None
    """For an aggregation ``$sort``: the pipeline stage whose output it sorts (None: the query's)."""

    @property
    def label(self) -> str:
        """``IXSCAN status_1_ts_-1`` / ``COLLSCAN`` / ``SORT {ts: -1}``: for plan trees."""
        if self.index_name:
            return f"{self.stage} {self.index_name}"
        if self.sort_pattern:
            return f"{self.stage} {format_value(self.sort_pattern)}"
        return self.stage


@dataclass(slots=True)
class ExplainSummary:
    """What a plan did, totalled over shards. Counts are None without execution statistics."""

    namespace: str = ""
    stages: list[PlanStage] = field(default_factory=list)
    n_returned: int | None = None
    docs_examined: int | None = None
    keys_examined: int | None = None
    time_ms: int | None = None
    execution_success: bool = True
    error: str = ""
    shards: list[str] = field(default_factory=list)
    slot_based: bool = False
    rejected_plans: int = 0
    pipeline_stages: list[str] = field(default_factory=list)
    """Aggregation stages run after the query layer (``$group``, ``$sort``, ...)."""

    @property
    def has_execution_stats(self) -> bool:
        return self.n_returned is not None

    @property
    def collscans(self) -> list[PlanStage]:
        return [s for s in self.stages if s.stage == "COLLSCAN"]

    @property
    def index_names(self) -> list[str]:
        return list(dict.fromkeys(s.index_name for s in self.stages if s.index_name))

    @property
    def blocking_sorts(self) -> list[PlanStage]:
        """Sorts done in memory that an index could have avoided (not by walking an index in
        order). A ``$sort`` after ``$group`` or ``$unwind`` sorts computed documents: no index
        can help it, so it counts only when it spilled to disk."""
        return [
            s
            for s in self.stages
            if s.stage in ("SORT", "sort") or (s.stage == "$sort" and (s.after is None or s.used_disk))
        ]

    @property
    def examined(self) -> int:
        """The larger of documents and keys examined (0 when unknown)."""
        return max(self.docs_examined or 0, self.keys_examined or 0)


def read_explain(doc: Mapping[str, Any]) -> ExplainSummary:
    """Summarize any explain output (find, aggregate, count, distinct, update, delete; sharded or not)."""
    summary = ExplainSummary()
    _read(doc, summary, shard=None)
    if summary.namespace == "" and isinstance(doc.get("command"), Mapping):
        summary.namespace = str(doc["command"].get("find") or doc["command"].get("aggregate") or "")
    return summary


def _read(doc: Mapping[str, Any], summary: ExplainSummary, shard: str | None) -> None:
    if "stages" in doc and isinstance(doc["stages"], list):  # aggregation
        _read_pipeline(doc["stages"], summary, shard)
        return
    if "shards" in doc and isinstance(doc["shards"], Mapping) and "queryPlanner" not in doc:  # sharded aggregation
        for name, part in doc["shards"].items():
            summary.shards.append(str(name))
            if isinstance(part, Mapping):
                _read(part, summary, str(name))
        return
    planner = doc.get("queryPlanner") or {}
    if isinstance(planner.get("Plan"), list) and "winningPlan" not in planner:
        _read_ferretdb(doc, planner["Plan"], summary, shard)
        return
    stats = doc.get("executionStats") or {}
    summary.namespace = summary.namespace or str(planner.get("namespace") or "")
    summary.rejected_plans += len(planner.get("rejectedPlans") or [])
    if stats:
        _add_totals(summary, stats)
        if stats.get("executionSuccess") is False:
            summary.execution_success = False
            summary.error = str(stats.get("errorMessage") or stats.get("errorCode") or "execution failed")
    winning = planner.get("winningPlan") or {}
    if not summary.namespace:
        for part in winning.get("shards") or []:  # mongos: the namespace is per shard
            if isinstance(part, Mapping) and part.get("namespace"):
                summary.namespace = str(part["namespace"])
                break
    slot_based = "queryPlan" in winning or str(doc.get("explainVersion", "1")) == "2"
    summary.slot_based = summary.slot_based or slot_based
    executed = stats.get("executionStages")
    if executed and not slot_based:
        _walk(executed, summary, 0, shard, planner_root=None)
    else:
        _walk(winning, summary, 0, shard, planner_root=winning)


_PUSHDOWNS = (("filterPushdown", "filter"), ("sortPushdown", "sort"), ("limitPushdown", "limit"))


def _read_ferretdb(doc: Mapping[str, Any], lines: list[Any], summary: ExplainSummary, shard: str | None) -> None:
    """FerretDB 1.x: its SQL backend's plan as text (SQLite's ``EXPLAIN QUERY PLAN`` lines, the
    ``detail`` kept), and which of the query's filter, sort and limit the backend ran; whatever
    it did not, FerretDB does itself over every document the backend returns. No execution
    statistics, no MongoDB stages: the findings that need them stay quiet.

    >>> doc = {"queryPlanner": {"Plan": ["id=2 parent=0 notused=0 detail=SCAN orders_fd0c5087"]},
    ...        "command": {"find": "orders", "filter": {"a": 1}}, "filterPushdown": False}
    >>> [s.label for s in read_explain(doc).stages]
    ['SCAN orders_fd0c5087', 'filter in FerretDB (not pushed down)']
    """
    for line in lines:
        text = str(line)
        summary.stages.append(PlanStage(text.split("detail=", 1)[1].strip() if "detail=" in text else text, shard=shard))
    command = doc.get("command") if isinstance(doc.get("command"), Mapping) else {}
    for key, part in _PUSHDOWNS:
        if doc.get(key) is False and command.get(part):
            summary.stages.append(PlanStage(f"{part} in FerretDB (not pushed down)", depth=1, shard=shard))


def _read_pipeline(stages: list[Any], summary: ExplainSummary, shard: str | None) -> None:
    previous: str | None = None
    for stage in stages:
        if not isinstance(stage, Mapping):
            continue
        if "$cursor" in stage and isinstance(stage["$cursor"], Mapping):
            _read(stage["$cursor"], summary, shard)
            continue
        name = next((k for k in stage if k.startswith("$")), None)
        if name is None:
            continue
        summary.pipeline_stages.append(name)
        if name == "$sort":
            body = stage[name] if isinstance(stage[name], Mapping) else {}
            summary.stages.append(
                PlanStage(
                    "$sort",
                    0,
                    shard,
                    sort_pattern=dict(body.get("sortKey") or {}),
                    n_returned=_int(stage.get("nReturned")),
                    time_ms=_int(stage.get("executionTimeMillisEstimate")),
                    used_disk=bool(stage.get("usedDisk")),
                    memory_bytes=_int(stage.get("totalDataSizeSortedBytesEstimate")),
                    after=previous,
                )
            )
        previous = name


def _add_totals(summary: ExplainSummary, stats: Mapping[str, Any]) -> None:
    for attr, key in (
        ("n_returned", "nReturned"),
        ("docs_examined", "totalDocsExamined"),
        ("keys_examined", "totalKeysExamined"),
        ("time_ms", "executionTimeMillis"),
    ):
        value = _int(stats.get(key))
        if value is None:
            continue
        current = getattr(summary, attr)
        if attr == "time_ms":  # shards run in parallel: the slowest one counts
            setattr(summary, attr, value if current is None else max(current, value))
        else:
            setattr(summary, attr, value if current is None else current + value)


def _walk(node: Any, summary: ExplainSummary, depth: int, shard: str | None, planner_root: Any) -> None:
    if not isinstance(node, Mapping):
        return
    if "queryPlan" in node and "stage" not in node:  # slot-based winning plan
        _walk(node["queryPlan"], summary, depth, shard, planner_root)
        return
    stage_name = str(node.get("stage") or "")
    if stage_name in ("SHARD_MERGE", "SINGLE_SHARD", "SHARD_MERGE_SORT", "SHARDED_AGGREGATE", "SHARD_WRITE"):
        summary.stages.append(PlanStage(stage_name, depth, shard, n_returned=_int(node.get("nReturned")),
                                        time_ms=_int(node.get("executionTimeMillis"))))
        for part in node.get("shards") or []:
            if not isinstance(part, Mapping):
                continue
            name = str(part.get("shardName") or "")
            if not summary.namespace and part.get("namespace"):
                summary.namespace = str(part["namespace"])
            if name and name not in summary.shards:
                summary.shards.append(name)
            if part.get("executionSuccess") is False:
                summary.execution_success = False
                summary.error = str(part.get("errorMessage") or "execution failed on shard " + name)
            inner = part.get("executionStages") or part.get("winningPlan")
            if isinstance(inner, Mapping) and "queryPlan" in inner:
                summary.slot_based = True
            _walk(inner, summary, depth + 1, name or shard, planner_root)
        return
    if not stage_name:
        return
    summary.stages.append(
        PlanStage(
            stage_name,
            depth,
            shard,
            index_name=node.get("indexName"),
            key_pattern=dict(node["keyPattern"]) if isinstance(node.get("keyPattern"), Mapping) else None,
            n_returned=_int(node.get("nReturned")),
            docs_examined=_int(node.get("docsExamined")),
            keys_examined=_int(node.get("keysExamined")),
            time_ms=_int(node.get("executionTimeMillisEstimate")),
            filter=dict(node["filter"]) if isinstance(node.get("filter"), Mapping) else None,
            sort_pattern=dict(node["sortPattern"]) if isinstance(node.get("sortPattern"), Mapping) else None,
            used_disk=bool(node.get("usedDisk")),
            memory_bytes=_int(node.get("totalDataSizeSorted")),
            is_multikey=bool(node.get("isMultiKey")),
        )
    )
    for key in ("inputStage", "outerStage", "innerStage"):
        if isinstance(node.get(key), Mapping):
            _walk(node[key], summary, depth + 1, shard, planner_root)
    for child in node.get("inputStages") or []:
        _walk(child, summary, depth + 1, shard, planner_root)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def plan_rows(summary: ExplainSummary) -> list[tuple]:
    """The plan as grid rows: (stage, shard, returned, docs examined, keys examined, ms)."""
    return [
        ("  " * s.depth + s.label, s.shard, s.n_returned, s.docs_examined, s.keys_examined, s.time_ms)
        for s in summary.stages
    ]


PLAN_COLUMNS = ("stage", "shard", "returned", "docs examined", "keys examined", "ms")

# -- index advice -------------------------------------------------------------------------------

_RANGE_OPS = frozenset({"$gt", "$gte", "$lt", "$lte", "$ne", "$nin", "$regex", "$exists", "$type", "$not", "$all"})
_EQUALITY_OPS = frozenset({"$eq", "$in"})
_UNINDEXABLE = frozenset({"$where", "$expr", "$text", "$or", "$nor", "$jsonSchema", "$comment", "$mod", "$size"})


@dataclass(frozen=True, slots=True)
class IndexSuggestion:
    """A compound index in ESR order, with the shell command that creates it."""

    collection: str
    keys: tuple[tuple[str, int], ...]
    equality: tuple[str, ...]
    sort: tuple[str, ...]
    range: tuple[str, ...]

    @property
    def key_document(self) -> dict[str, int]:
        return dict(self.keys)

    @property
    def command(self) -> str:
        from aishell.engine.mongo.shell import format_query, ShellQuery as _Q

        return format_query(_Q("", 0, "createIndex", "ddl", self.collection, None, (self.key_document,)))

    @property
    def reason(self) -> str:
        parts = []
        if self.equality:
            parts.append("equality on " + ", ".join(self.equality))
        if self.sort:
            parts.append("sort on " + ", ".join(self.sort))
        if self.range:
            parts.append("range on " + ", ".join(self.range))
        return ", then ".join(parts) + " (equality → sort → range)"


def classify_filter(filter_doc: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Equality and range fields of a filter, in the order they appear ($and is looked into;
    $or, $expr, $text, $where and the like are left out: one compound index cannot serve them)."""
    equality: list[str] = []
    ranges: list[str] = []
    for name, kind in _conditions(filter_doc):
        if kind == "eq" and name not in equality:
            equality.append(name)
    for name, kind in _conditions(filter_doc):
        if kind == "range" and name not in equality and name not in ranges:
            ranges.append(name)
    return equality, ranges


def _conditions(filter_doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in filter_doc.items():
        if key == "$and" and isinstance(value, list):
            for part in value:
                if isinstance(part, Mapping):
                    yield from _conditions(part)
            continue
        if key.startswith("$"):
            continue
        kind = _condition_kind(value)
        if kind:
            yield key, kind


def _condition_kind(value: Any) -> str | None:
    """``eq``, ``range`` or None (no single-field index bound) for one field's condition."""
    if isinstance(value, RegexValue) or type(value).__name__ in ("Regex", "Pattern"):
        return "range" if _prefix_regex(getattr(value, "pattern", ""), getattr(value, "flags", "")) else None
    if isinstance(value, Mapping) and value and all(str(k).startswith("$") for k in value):
        ops = set(value)
        if ops & _UNINDEXABLE or "$elemMatch" in ops:
            return None
        if ops <= {"$ne", "$nin", "$not"}:
            return None  # matches most documents: not worth an index key
        if "$regex" in ops and not _prefix_regex(str(value["$regex"]), str(value.get("$options", ""))):
            return None
        if ops <= _EQUALITY_OPS and len(ops) == 1:
            return "eq"  # $eq, or $in (a few point lookups: equality in ESR terms)
        if ops & (_RANGE_OPS | _EQUALITY_OPS):
            return "range"
        return None
    return "eq"  # a literal, or an embedded document matched exactly


def _prefix_regex(pattern: Any, flags: Any) -> bool:
    """A case-sensitive regex anchored at the start: the only kind an index bounds tightly."""
    return isinstance(pattern, str) and pattern.startswith("^") and not (isinstance(flags, str) and "i" in flags)


def suggest_index(query: ShellQuery, existing: Sequence[IndexInfo] = ()) -> IndexSuggestion | None:
    """The compound index that would serve ``query`` best, or None when there is nothing to
    suggest (no usable condition, a point lookup on ``_id``, or an existing index already
    starts with these keys)."""
    if query.collection is None or query.method not in (
        "find", "findOne", "aggregate", "countDocuments", "distinct", "updateOne", "updateMany",
        "deleteOne", "deleteMany", "replaceOne", "findOneAndUpdate", "findOneAndDelete", "findOneAndReplace",
    ):
        return None
    filter_doc = query.filter or {}
    equality, ranges = classify_filter(filter_doc)
    if "_id" in equality:
        return None  # the _id index already answers it
    sort_doc = query.sort or {}
    sort_keys: list[tuple[str, int]] = []
    for name, direction in sort_doc.items():
        if name in equality or name.startswith("$") or not isinstance(direction, (int, float)) or isinstance(direction, bool):
            continue
        sort_keys.append((name, -1 if direction < 0 else 1))
    keys: list[tuple[str, int]] = [(name, 1) for name in equality]
    keys += sort_keys
    keys += [(name, 1) for name in ranges if name not in dict(sort_keys)]
    if not keys:
        return None
    if _already_indexed([k for k, _ in keys], existing):
        return None
    return IndexSuggestion(
        query.collection,
        tuple(keys),
        tuple(equality),
        tuple(k for k, _ in sort_keys),
        tuple(r for r in ranges if r not in dict(sort_keys)),
    )


def _already_indexed(fields: list[str], existing: Iterable[IndexInfo]) -> bool:
    for index in existing:
        columns = list(index.columns)
        if columns[: len(fields)] == fields:
            return True
    return False


# -- findings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MongoFinding:
    """One piece of advice about a Mongo query, shaped like the SQL analyzer's findings."""

    code: str
    rule: str
    severity: str  # info, warning, error
    message: str
    suggestion: str = ""
    index: IndexSuggestion | None = None
    line: int | None = None
    """1-based line of the statement (or of the parse error) in the text, when known."""
    column: int | None = None
    statement: int = 0
    """0-based index of the statement in the script."""


def findings(
    summary: ExplainSummary,
    query: ShellQuery | None = None,
    indexes: Sequence[IndexInfo] = (),
    *,
    min_docs: int = 1000,
    max_ratio: float = 10.0,
) -> list[MongoFinding]:
    """Advice from a read plan. ``min_docs``: examined documents from which a collection scan or
    a poor ratio matters; ``max_ratio``: examined per returned document tolerated."""
    out: list[MongoFinding] = []
    advice = suggest_index(query, indexes) if query is not None else None
    index_text = f"create the index {advice.command} — {advice.reason}" if advice else ""
    if not summary.execution_success:
        out.append(MongoFinding("MG004", "execution-failed", "error", f"the query failed while explained: {summary.error}"))
    returned = summary.n_returned
    scans = summary.collscans
    if scans:
        examined = sum(s.docs_examined or 0 for s in scans) or (summary.docs_examined or 0)
        matched = sum(s.n_returned or 0 for s in scans) if all(s.n_returned is not None for s in scans) else returned
        where = f" on {', '.join(sorted({s.shard for s in scans if s.shard}))}" if any(s.shard for s in scans) else ""
        if summary.has_execution_stats and examined >= min_docs:
            out.append(
                MongoFinding(
                    "MG001",
                    "collection-scan",
                    "warning",
                    f"collection scan{where}: read {examined:,} documents to find {matched or 0:,}",
                    index_text or "add an index on the fields the filter tests",
                    advice,
                )
            )
        elif not summary.has_execution_stats:
            out.append(
                MongoFinding(
                    "MG001",
                    "collection-scan",
                    "info",
                    f"the plan scans the whole collection{where} (run explain(\"executionStats\") for counts)",
                    index_text,
                    advice,
                )
            )
    if summary.has_execution_stats and not scans:
        examined = summary.examined
        # Behind a blocking sort every match must be read before the limit applies: compare
        # with what reached the sort, not with what the limit let through.
        wanted = max([returned or 0] + [_input_returned(summary.stages, s) for s in summary.blocking_sorts])
        ratio = examined / max(wanted, 1)
        if examined >= min_docs and ratio > max_ratio:
            used = ", ".join(summary.index_names) or "the index"
            out.append(
                MongoFinding(
                    "MG002",
                    "examined-ratio",
                    "warning",
                    f"{used} is not selective here: examined {summary.keys_examined or 0:,} keys and "
                    f"{summary.docs_examined or 0:,} documents to return {wanted:,} ({ratio:,.0f}:1)",
                    index_text or "extend the index with the fields the filter tests so fewer entries are read",
                    advice,
                )
            )
    for sort in summary.blocking_sorts:
        size = f", {sort.memory_bytes / 1048576:.1f} MB" if sort.memory_bytes else ""
        disk = " and spilled to disk" if sort.used_disk else ""
        pattern = format_value(sort.sort_pattern) if sort.sort_pattern else "the requested order"
        sort_advice = advice if advice and advice.sort else None
        out.append(
            MongoFinding(
                "MG003",
                "in-memory-sort",
                "warning",
                f"sorted {pattern} in memory{size}{disk}: no index gives this order",
                f"create the index {sort_advice.command} so documents come out in order"
                if sort_advice
                else "index the sort fields (after the equality fields) so documents come out in order",
                sort_advice,
            )
        )
        break
    return out


def _input_returned(stages: list[PlanStage], stage: PlanStage) -> int:
    """Documents the stage's first input produced (0 when unknown)."""
    try:
        at = next(i for i, s in enumerate(stages) if s is stage)
    except StopIteration:
        return 0
    for child in stages[at + 1 :]:
        if child.depth <= stage.depth:
            break
        if child.depth == stage.depth + 1:
            return child.n_returned or 0
    return 0


# -- without a server -----------------------------------------------------------------------------


def static_findings(
    text: str,
    schema: Any = None,
    *,
    large_collection: int = 10_000,
    deep_skip: int = 1_000,
) -> list[MongoFinding]:
    """Advice from the statement alone (and the catalog, when given), for live suggestions while
    typing: no round trip. ``schema`` is a :class:`engine.types.SchemaInfo` from
    ``Session.schema()``; with it, filters and sorts no index serves are reported (MG006) for
    collections of at least ``large_collection`` documents (or of unknown size).

    Codes: MG000 parse error (with line and column), MG005 destructive statement, MG006 no
    index serves the filter/sort, MG007 a condition no index bound can serve ($where,
    unanchored or case-insensitive regex, $ne/$nin/$not alone), MG008 deep skip.
    """
    from aishell.engine.errors import QueryError
    from aishell.engine.mongo.shell import parse_script

    try:
        queries = parse_script(text)
    except QueryError as exc:
        where = exc.line_column or (None, None)
        return [MongoFinding("MG000", "parse-error", "error", exc.message, "", None, where[0], where[1])]
    out: list[MongoFinding] = []
    for number, query in enumerate(queries):
        first = len(out)
        line = text.count("\n", 0, query.start) + 1
        column = query.start - (text.rfind("\n", 0, query.start) + 1) + 1
        reason = is_destructive(query)
        if reason:
            out.append(MongoFinding("MG005", "destructive", "warning", reason,
                                    "add a filter, or confirm that every document is meant", None, line, column))
        for message, severity in _weak_conditions(query.filter if query.collection else {}):
            out.append(MongoFinding("MG007", "unindexable-condition", severity, message, "", None, line, column))
        skip = query.skip
        if skip is not None and skip >= deep_skip:
            out.append(MongoFinding(
                "MG008", "deep-skip", "info",
                f"skip({skip:,}) reads and throws away {skip:,} documents on every page",
                "page by a range on an indexed field instead, e.g. {_id: {$gt: <last _id seen>}} with sort({_id: 1})",
                None, line, column,
            ))
        if schema is not None and query.collection is not None and not query.explain:
            table = schema.find(query.collection, query.database) if query.database else schema.find(query.collection)
            if table is not None and (table.row_estimate < 0 or table.row_estimate >= large_collection):
                advice = suggest_index(query, table.indexes)
                if advice is not None and not _served(advice, table.indexes):
                    size = f" ({table.row_estimate:,} documents)" if table.row_estimate >= 0 else ""
                    out.append(MongoFinding(
                        "MG006", "no-index", "info",
                        f"no index of {query.collection}{size} serves this {_what(advice)}",
                        f"create the index {advice.command} — {advice.reason}", advice, line, column,
                    ))
        if number:
            out[first:] = [dataclasses.replace(f, statement=number) for f in out[first:]]
    return out


def _what(advice: IndexSuggestion) -> str:
    parts = (["filter"] if advice.equality or advice.range else []) + (["sort"] if advice.sort else [])
    return " and ".join(parts) or "query"


def _served(advice: IndexSuggestion, indexes: Sequence[IndexInfo]) -> bool:
    """True when some index starts with the first key the query needs (it is at least usable)."""
    first = advice.keys[0][0]
    return any(ix.columns and ix.columns[0] == first for ix in indexes)


def _weak_conditions(filter_doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in filter_doc.items():
        if key == "$where":
            yield "$where runs JavaScript on every document: it always scans the whole collection", "warning"
        elif key in ("$and", "$or", "$nor") and isinstance(value, list):
            for part in value:
                if isinstance(part, Mapping):
                    yield from _weak_conditions(part)
        elif key.startswith("$"):
            continue
        elif isinstance(value, RegexValue) or (isinstance(value, Mapping) and "$regex" in value):
            pattern = value.pattern if isinstance(value, RegexValue) else str(value.get("$regex", ""))
            flags = value.flags if isinstance(value, RegexValue) else str(value.get("$options", ""))
            if "i" in flags:
                yield (f"case-insensitive regex on {key} cannot use index bounds: every index key is tested",
                       "info")
            elif not pattern.startswith("^"):
                yield f"unanchored regex on {key} tests every index key (anchor it with ^ to use a range)", "info"
        elif isinstance(value, Mapping) and value and set(value) <= {"$ne", "$nin", "$not"}:
            yield f"{'/'.join(sorted(value))} on {key} alone matches most documents: an index barely helps", "info"


__all__ = [
    "PlanStage",
    "ExplainSummary",
    "read_explain",
    "plan_rows",
    "PLAN_COLUMNS",
    "IndexSuggestion",
    "classify_filter",
    "suggest_index",
    "MongoFinding",
    "findings",
    "static_findings",
]
