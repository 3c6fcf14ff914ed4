"""Reading query plans into findings: PostgreSQL ``EXPLAIN (FORMAT JSON)`` and SQLite
``EXPLAIN QUERY PLAN``.

PostgreSQL findings: sequential scans of large tables that keep few rows (AS101), row
estimates off by 10× or more (AS102, needs ANALYZE), sorts and hashes spilling to disk (AS103),
nested loops over many rows (AS104) and the slowest step (AS105, needs ANALYZE). SQLite
findings: full scans of large tables (AS101), temporary B-trees for ORDER BY/GROUP BY on
them (AS103) and automatic indexes built for a join on every run (AS107).

``EXPLAIN ANALYZE`` runs the statement: a write is only analyzed when ``allow_writes`` is
set, and then inside a transaction that is rolled back.

The pure readers (:func:`read_postgres_plan`, :func:`read_sqlite_plan`) take the plan as the
server returned it, so they are tested without a server.
"""

from __future__ import annotations

import contextlib
import itertools

import json
from dataclasses import dataclass, field
from typing import Any

from aishell.engine.analyzer.findings import Finding, IndexCandidate, Rule
from aishell.engine.config import AnalyzerSettings
from aishell.engine.errors import QueryError
from aishell.engine.statements import describe

SEQ_SCAN = Rule("AS101", "seq-scan-large", "warning", "Sequential scan of a large table keeping few rows")
MISESTIMATE = Rule("AS102", "row-misestimate", "warning", "Planner's row estimate off by 10x or more")
SPILL = Rule("AS103", "sort-spill", "warning", "Sort or hash spilling to disk (or sorting a large table)")
NESTED_LOOP = Rule("AS104", "nested-loop-many", "warning", "Nested loop over many rows")
SLOWEST = Rule("AS105", "slowest-node", "info", "The slowest step of the plan")
NOTE = Rule("AS106", "plan-note", "info", "A note about how the plan was obtained")
AUTO_INDEX = Rule("AS107", "automatic-index", "warning", "SQLite builds a temporary index on every run")
PLAN_RULES = (SEQ_SCAN, MISESTIMATE, SPILL, NESTED_LOOP, SLOWEST, NOTE, AUTO_INDEX)

SELECTIVE = 0.1
"""A scan that keeps at most this share of the table's rows is selective enough for an index."""
MISESTIMATE_FACTOR = 10.0
MANY_LOOPS = 1000
CONDITIONS = ("Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond", "Join Filter", "Filter", "One-Time Filter", "Sort Key", "Group Key")
"""The keys of a PostgreSQL plan node that say what it filters, joins or orders on, shown in this order."""


@dataclass(slots=True)
class PlanNode:
    """One step of a plan, flattened in pre-order with its depth."""

    depth: int
    node_type: str
    relation: str | None = None
    alias: str | None = None
    index: str | None = None
    total_cost: float | None = None
    plan_rows: float | None = None
    actual_rows: float | None = None
    loops: float | None = None
    total_time_ms: float | None = None
    exclusive_time_ms: float | None = None
    detail: str = ""
    raw: dict = field(default_factory=dict, repr=False)
    exclusive_cost: float | None = None
    """The node's own estimated cost: its total minus its children's (PostgreSQL)."""

    @property
    def conditions(self) -> list[tuple[str, str]]:
        """``(key, text)`` of the filter, index, join and sort conditions (PostgreSQL), in
        :data:`CONDITIONS` order; lists (sort keys) joined with commas."""
        out = []
        for key in CONDITIONS:
            value = self.raw.get(key)
            if value:
                out.append((key, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
        return out

    def label(self) -> str:
        text = self.node_type
        if self.relation:
            text += f" on {self.relation}"
            if self.alias and self.alias != self.relation:
                text += f" {self.alias}"
        if self.index:
            text += f" using {self.index}"
        return text


@dataclass(slots=True)
class PlanReport:
    """What a plan says: findings (positions are 1:1 of the statement), a readable summary,
    the total estimated cost (PostgreSQL), times when ANALYZE ran, the flattened nodes and
    the raw plan."""

    dialect: str
    findings: list[Finding]
    summary: str
    total_cost: float | None
    nodes: list[PlanNode]
    analyzed: bool = False
    planning_ms: float | None = None
    execution_ms: float | None = None
    raw: Any = None

    def weight(self, node: PlanNode) -> float | None:
        """How much of the plan ``node`` is, in [0, 1]: its share of the time when ANALYZE ran,
        else of the estimated cost; None when the plan has neither (SQLite)."""
        if self.analyzed:
            total = self.execution_ms or (self.nodes[0].total_time_ms if self.nodes else None)
            own = node.exclusive_time_ms
        else:
            total = self.total_cost
            own = node.exclusive_cost
        if not total or own is None:
            return None
        return min(1.0, max(0.0, own / total))

    def costliest(self) -> PlanNode | None:
        """The node with the largest :meth:`weight` (the most expensive step), None without weights."""
        weighed = [(w, i) for i, n in enumerate(self.nodes) if (w := self.weight(n)) is not None]
        return self.nodes[max(weighed)[1]] if weighed else None


_SQLITE_EXPLAINS = itertools.count(1)
"""Numbers the SQLite EXPLAIN texts, each one prepared afresh (see :func:`explain`)."""


async def explain(
    conn,
    sql: str,
    *,
    analyze: bool = False,
    dialect: str | None = None,
    allow_writes: bool = False,
    settings: AnalyzerSettings | None = None,
) -> PlanReport:
    """The plan of one statement on ``conn`` (a driver Connection), read into findings.

    ``analyze`` runs the statement (PostgreSQL ``EXPLAIN ANALYZE, BUFFERS``); for a write this
    happens only with ``allow_writes``, inside a transaction rolled back afterwards.
    Raises QueryError when the server rejects the statement, ConnectionLost when the link broke.
    """
    settings = settings or AnalyzerSettings()
    dialect = dialect or getattr(conn, "dialect", "postgres")
    statement = _single_statement(sql, dialect)
    info = describe(statement, dialect)
    notes: list[Finding] = []
    if analyze and info.is_write and not allow_writes:
        analyze = False
        notes.append(_note("ANALYZE skipped: the statement writes (pass allow_writes to run it in a rolled-back transaction)"))
    if dialect == "sqlite":
        # SQLite never checks a prepared EXPLAIN QUERY PLAN against the schema: a real read
        # reloads a schema another process changed, and a text of its own keeps the statement
        # cache from handing back a plan prepared before the change.
        await conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        result = await conn.execute(f"EXPLAIN QUERY PLAN {statement}\n-- plan {next(_SQLITE_EXPLAINS)}")
        sizes = await _sqlite_sizes(conn, result.rows)
        report = read_sqlite_plan(result.rows, sizes=sizes, settings=settings)
    elif dialect == "postgres":
        parameters = parameter_count(statement)
        if parameters and analyze:
            analyze = False
            notes.append(_note("ANALYZE skipped: the statement's parameters ($1…) have no values to run it with"))
        options = "FORMAT JSON, ANALYZE, BUFFERS" if analyze else "FORMAT JSON"
        async with _kept_transaction(conn):
            if parameters:
                rows = await _generic_plan(conn, sql, statement, parameters)
                notes.append(_note(f"generic plan: {parameters} parameter(s) without values, planned as for any value"))
            else:
                text = f"EXPLAIN ({options}) {statement}"
                with _positions_in(sql, statement, len(text) - len(statement)):
                    if analyze and info.is_write:
                        rows = await _in_rolled_back_transaction(conn, text)
                    else:
                        rows = (await conn.execute(text)).rows
            plan = rows[0][0] if rows and rows[0] else "[]"
            document = json.loads(plan) if isinstance(plan, str) else plan
            sizes, schemas = await _postgres_sizes(conn, document)
        report = read_postgres_plan(document, sizes=sizes, settings=settings, schemas=schemas)
    else:
        raise QueryError(f"plans are not available for {dialect!r} connections")
    report.findings[:0] = notes
    return report


@contextlib.asynccontextmanager
async def _kept_transaction(conn):
    """Inside the user's open transaction, plan under a savepoint: a statement the server
    refuses to plan (``EXPLAIN begin``, a typo) would otherwise abort the user's transaction, and
    everything they typed after it would be ignored until ROLLBACK."""
    if not getattr(conn, "in_transaction", False):
        yield
        return
    await conn.execute("SAVEPOINT aishell_plan")
    try:
        yield
    except BaseException:
        await conn.execute("ROLLBACK TO SAVEPOINT aishell_plan")
        await conn.execute("RELEASE SAVEPOINT aishell_plan")
        raise
    await conn.execute("RELEASE SAVEPOINT aishell_plan")


def _single_statement(sql: str, dialect: str) -> str:
    """The one statement of ``sql``; QueryError for none or several (a second statement would
    run for real after ``EXPLAIN`` of the first)."""
    from aishell.engine.analyzer.pipeline import split_statements

    try:
        parts = split_statements(sql, dialect)
    except ValueError:
        parts = [sql.strip().rstrip(";")] if sql.strip().rstrip(";") else []
    texts = [p.text if hasattr(p, "text") else p for p in parts]
    if not texts:
        raise QueryError("nothing to explain: the statement is empty")
    if len(texts) > 1:
        raise QueryError(f"EXPLAIN takes one statement; this text has {len(texts)}")
    return texts[0]


def parameter_count(statement: str, dialect: str = "postgres") -> int:
    """The highest ``$n`` placeholder of a PostgreSQL statement, 0 without any (those inside
    strings, quoted names and comments do not count).

    >>> parameter_count("SELECT '$1' FROM t WHERE a = $1 AND b = $3"), parameter_count("SELECT 1")
    (3, 0)
    """
    if "$" not in statement or dialect != "postgres":
        return 0
    from aishell.engine.statements.dialects import dialect_of
    from sqlglot.tokens import TokenType

    try:
        tokens = dialect_of(dialect).tokenize(statement)
    except Exception:  # noqa: BLE001 - text sqlglot cannot tokenize has no parameters we can see
        return 0
    highest = 0
    for before, token in zip(tokens, tokens[1:]):
        if before.token_type == TokenType.PARAMETER and token.token_type == TokenType.NUMBER and before.end + 1 == token.start:
            if token.text.isdigit():
                highest = max(highest, int(token.text))
    return highest


async def _generic_plan(conn, sql: str, statement: str, parameters: int) -> list:
    """The plan PostgreSQL would use for a statement with ``$n`` placeholders and any values:
    prepared under ``plan_cache_mode = force_generic_plan`` and explained with NULLs (what
    ``EXPLAIN (GENERIC_PLAN)`` does from PostgreSQL 16; the test cluster is 15). The setting is
    local to a transaction (a savepoint inside the user's) that is rolled back, and the prepared
    statement is deallocated."""
    import secrets

    name = f"aishell_generic_{secrets.token_hex(4)}"
    prepare = f"PREPARE {name} AS {statement}"
    nulls = ", ".join(["NULL"] * parameters)
    savepoint = conn.in_transaction
    await conn.execute("SAVEPOINT aishell_generic" if savepoint else "BEGIN")
    try:
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        with _positions_in(sql, statement, len(prepare) - len(statement)):
            await conn.execute(prepare)
        try:
            return (await conn.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {name}({nulls})")).rows
        finally:
            await conn.execute(f"DEALLOCATE {name}")
    finally:
        await conn.execute("ROLLBACK TO SAVEPOINT aishell_generic" if savepoint else "ROLLBACK")


class _positions_in:
    """Maps the position of a server error inside the wrapped text (``EXPLAIN … stmt``,
    ``PREPARE … AS stmt``) back to the user's ``sql``: column 37 of a wrapped text is column 15
    of what the user wrote."""

    __slots__ = ("sql", "offset")

    def __init__(self, sql: str, statement: str, prefix: int) -> None:
        self.sql = sql
        self.offset = max(sql.find(statement), 0) - prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, QueryError) and exc.statement != self.sql:
            position = exc.position + self.offset if exc.position is not None else None
            exc.position = position if position is not None and 0 < position <= len(self.sql) + 1 else None
            exc.statement = self.sql
        return False


async def _in_rolled_back_transaction(conn, text: str) -> list:
    if conn.in_transaction:
        await conn.execute("SAVEPOINT aishell_explain")
        try:
            return (await conn.execute(text)).rows
        finally:
            await conn.execute("ROLLBACK TO SAVEPOINT aishell_explain")
    await conn.execute("BEGIN")
    try:
        return (await conn.execute(text)).rows
    finally:
        await conn.execute("ROLLBACK")


def _relations(plan: dict) -> set[str]:
    out: set[str] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if node.get("Relation Name"):
            out.add(node["Relation Name"])
        stack.extend(node.get("Plans") or ())
    return out


async def _postgres_sizes(conn, document) -> tuple[dict[str, int], dict[str, str]]:
    """Row estimates of the plan's relations, and the schema of those the search path does not
    show (a plan names ``Foo``; the index must go on ``"Bar"."Foo"``)."""
    try:
        root = document[0]["Plan"]
    except (KeyError, IndexError, TypeError):
        return {}, {}
    names = sorted(_relations(root))
    if not names:
        return {}, {}
    result = await conn.execute(
        "SELECT c.relname, max(CASE WHEN c.reltuples < 0 THEN -1 ELSE c.reltuples::bigint END), "
        "bool_or(pg_table_is_visible(c.oid)), min(n.nspname), count(*) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ANY($1::text[]) GROUP BY c.relname",
        [names],
    )
    sizes = {r[0]: int(r[1]) for r in result.rows}
    schemas = {r[0]: r[3] for r in result.rows if not r[2] and r[4] == 1}
    return sizes, schemas


async def _sqlite_sizes(conn, rows) -> dict[str, int]:
    names = {name for name in (_sqlite_table(str(r[-1])) for r in rows) if name}
    if not names:
        return {}
    sizes = {}
    for table in await conn.tables():
        if table.name in names:
            sizes[table.name] = table.row_estimate
    return sizes


# -- PostgreSQL ---------------------------------------------------------------------------------


def read_postgres_plan(
    document: Any,
    *,
    sizes: dict[str, int] | None = None,
    settings: AnalyzerSettings | None = None,
    schemas: dict[str, str] | None = None,
) -> PlanReport:
    """Findings from ``EXPLAIN (FORMAT JSON[, ANALYZE])`` output (the parsed JSON document).

    ``sizes`` maps relation names to row estimates (pg_class.reltuples) for the large-table test;
    ``schemas`` relation names to the schema their index candidates must name.
    """
    settings = settings or AnalyzerSettings()
    sizes = sizes or {}
    schemas = schemas or {}
    top = document[0] if isinstance(document, list) and document else document
    if not isinstance(top, dict) or not isinstance(top.get("Plan"), dict):
        raise QueryError("the server returned no plan")
    nodes: list[PlanNode] = []
    _flatten(top["Plan"], 0, nodes)
    analyzed = any(n.actual_rows is not None for n in nodes)
    findings: list[Finding] = []
    for node in nodes:
        findings.extend(_node_findings(node, sizes, settings, analyzed, schemas))
    if analyzed and nodes:
        slowest = max(nodes, key=lambda n: n.exclusive_time_ms or 0.0)
        total = top.get("Execution Time") or nodes[0].total_time_ms or 0.0
        if slowest.exclusive_time_ms and total:
            share = 100.0 * slowest.exclusive_time_ms / total
            findings.append(
                _finding(
                    SLOWEST,
                    f"slowest step: {slowest.label()} took {slowest.exclusive_time_ms:.2f} ms ({share:.0f}% of {total:.2f} ms)",
                )
            )
    return PlanReport(
        "postgres",
        findings,
        "\n".join(_describe(n) for n in nodes),
        float(top["Plan"].get("Total Cost")) if top["Plan"].get("Total Cost") is not None else None,
        nodes,
        analyzed,
        top.get("Planning Time"),
        top.get("Execution Time"),
        document,
    )


def _flatten(plan: dict, depth: int, out: list[PlanNode]) -> float:
    """Appends ``plan`` and its children; returns the node's inclusive time (ms, all loops)."""
    loops = plan.get("Actual Loops")
    total_time = plan.get("Actual Total Time")
    inclusive = (total_time or 0.0) * (loops or 1)
    kind = plan.get("Node Type", "?")
    if kind == "ModifyTable" and plan.get("Operation"):  # as psql shows it: "Insert on t"
        kind = plan["Operation"]
    node = PlanNode(
        depth,
        kind,
        plan.get("Relation Name"),
        plan.get("Alias"),
        plan.get("Index Name"),
        plan.get("Total Cost"),
        plan.get("Plan Rows"),
        plan.get("Actual Rows"),
        loops,
        inclusive if total_time is not None else None,
        None,
        plan.get("Filter") or plan.get("Index Cond") or plan.get("Hash Cond") or plan.get("Join Filter") or "",
        plan,
    )
    out.append(node)
    children = 0.0
    children_cost = 0.0
    for child in plan.get("Plans") or ():
        children_cost += child.get("Total Cost") or 0.0
        if child.get("Parent Relationship") == "InitPlan" or child.get("Parent Relationship") == "SubPlan":
            _flatten(child, depth + 1, out)
            continue
        children += _flatten(child, depth + 1, out)
    if total_time is not None:
        node.exclusive_time_ms = max(inclusive - children, 0.0)
    if node.total_cost is not None:
        node.exclusive_cost = max(float(node.total_cost) - children_cost, 0.0)
    return inclusive


def _node_findings(node: PlanNode, sizes: dict[str, int], settings: AnalyzerSettings, analyzed: bool, schemas: dict[str, str]):
    raw = node.raw
    kind = node.node_type
    if kind in ("Seq Scan", "Parallel Seq Scan") and node.relation and raw.get("Filter"):
        table_rows = sizes.get(node.relation, -1)
        if analyzed and raw.get("Rows Removed by Filter") is not None:
            kept = (node.actual_rows or 0) * (node.loops or 1)
            scanned = kept + raw["Rows Removed by Filter"] * (node.loops or 1)
            table_rows = max(table_rows, int(scanned / (node.loops or 1)))
        else:
            kept = (node.plan_rows or 0)
            scanned = table_rows
        if table_rows >= settings.large_table_rows and scanned > 0 and kept / scanned <= SELECTIVE:
            candidate = _filter_candidate(node.relation, raw.get("Filter", ""), schemas.get(node.relation))
            yield _finding(
                SEQ_SCAN,
                f"Seq Scan on {node.relation} reads ~{int(scanned):,} rows to keep ~{int(kept):,} (filter {raw['Filter']})",
                suggestion=candidate.create_statement() if candidate else "an index on the filtered columns",
                candidate=candidate,
            )
    if analyzed and node.actual_rows is not None and node.plan_rows is not None:
        estimate, actual = float(node.plan_rows), float(node.actual_rows)
        high, low = max(estimate, actual), max(min(estimate, actual), 1.0)
        if high >= 100 and high / low >= MISESTIMATE_FACTOR:
            target = f"ANALYZE {node.relation};" if node.relation else "ANALYZE the tables involved;"
            yield _finding(
                MISESTIMATE,
                f"{node.label()}: estimated {int(estimate):,} rows, got {int(actual):,} ({high / low:.0f}x off)",
                suggestion=f"{target}  -- or CREATE STATISTICS for correlated columns",
            )
    if raw.get("Sort Space Type") == "Disk":
        used = raw.get("Sort Space Used", 0)
        yield _finding(
            SPILL,
            f"{node.label()} spilled {used:,} kB to disk ({raw.get('Sort Method', 'external sort')})",
            suggestion=f"SET work_mem = '{max(4, int(used * 2 / 1024) + 1)}MB';  -- or an index that returns rows in order",
        )
    if kind == "Hash" and (raw.get("Hash Batches") or 1) > 1:
        yield _finding(
            SPILL,
            f"Hash spilled to disk in {raw['Hash Batches']} batches (peak {raw.get('Peak Memory Usage', '?')} kB)",
            suggestion="SET work_mem higher for this query, or filter the hashed side earlier",
        )
    if kind == "Nested Loop":
        children = [c for c in raw.get("Plans") or () if c.get("Parent Relationship") in ("Outer", "Inner")]
        outer = next((c for c in children if c.get("Parent Relationship") == "Outer"), None)
        inner = next((c for c in children if c.get("Parent Relationship") == "Inner"), None)
        if outer is not None and inner is not None:
            outer_rows = outer.get("Actual Rows") if analyzed else outer.get("Plan Rows")
            outer_rows = (outer_rows or 0) * ((outer.get("Actual Loops") or 1) if analyzed else 1)
            inner_scan = inner.get("Node Type", "")
            if outer_rows >= MANY_LOOPS and ("Seq Scan" in inner_scan or "Materialize" in inner_scan or not analyzed):
                yield _finding(
                    NESTED_LOOP,
                    f"Nested Loop runs its inner side ({inner_scan}"
                    + (f" on {inner['Relation Name']}" if inner.get("Relation Name") else "")
                    + f") {int(outer_rows):,} times",
                    suggestion="an index on the inner side's join key, or ANALYZE so the planner picks a hash join",
                )


def _filter_candidate(relation: str, condition: str, schema: str | None = None) -> IndexCandidate | None:
    """An index on the columns of a plan's Filter (parsed with sqlglot)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(condition, read="postgres")
    except Exception:  # noqa: BLE001 - a filter sqlglot cannot read just gives no candidate
        return None
    names: list[str] = []
    for column in tree.find_all(exp.Column):
        if column.name and column.name not in names:
            names.append(column.name)
    return IndexCandidate(relation, tuple(names[:3]), schema) if names else None


def _describe(node: PlanNode) -> str:
    text = "  " * node.depth + node.label()
    if node.total_cost is not None:
        text += f"  (cost={node.total_cost:.2f} rows={int(node.plan_rows or 0)})"
    if node.actual_rows is not None:
        text += f"  (actual rows={int(node.actual_rows)} loops={int(node.loops or 1)} time={node.total_time_ms or 0:.3f} ms)"
    return text


def _finding(rule: Rule, message: str, *, suggestion: str | None = None, candidate: IndexCandidate | None = None) -> Finding:
    return Finding(rule.code, rule.name, rule.severity, message, 1, 1, suggestion, 0, None, None, candidate)


def _note(message: str) -> Finding:
    return _finding(NOTE, message)


# -- SQLite -------------------------------------------------------------------------------------


def _sqlite_table(detail: str) -> str | None:
    words = detail.split()
    if not words or words[0] not in ("SCAN", "SEARCH"):
        return None
    rest = words[1:]
    if rest and rest[0] == "TABLE":  # SQLite before 3.36: "SCAN TABLE t"
        rest = rest[1:]
    return rest[0] if rest else None


def read_sqlite_plan(rows, *, sizes: dict[str, int] | None = None, settings: AnalyzerSettings | None = None) -> PlanReport:
    """Findings from ``EXPLAIN QUERY PLAN`` rows ``(id, parent, notused, detail)``."""
    settings = settings or AnalyzerSettings()
    sizes = sizes or {}
    depth_of: dict[int, int] = {0: -1}
    nodes: list[PlanNode] = []
    findings: list[Finding] = []
    for row in rows:
        node_id, parent, detail = int(row[0]), int(row[1]), str(row[-1])
        depth = depth_of.get(parent, -1) + 1
        depth_of[node_id] = depth
        table = _sqlite_table(detail)
        words = detail.split()
        kind = words[0] if words else "?"
        index = None
        if " USING " in detail:
            after = detail.split(" USING ", 1)[1]
            index = after.replace("COVERING INDEX ", "").replace("INDEX ", "").split(" (")[0]
        nodes.append(PlanNode(depth, kind, table, None, index, detail=detail, raw={"detail": detail}))
        rows_in_table = sizes.get(table or "", -1)
        large = rows_in_table >= settings.large_table_rows
        if kind == "SCAN" and table and " USING " not in detail and large:
            findings.append(
                _finding(SEQ_SCAN, f"SCAN {table} reads all ~{rows_in_table:,} rows (no index used)",
                         suggestion="an index on the columns this query filters or joins on")
            )
        if kind == "SEARCH" and table and "USING AUTOMATIC" in detail:
            key = detail.split("(", 1)[1].rstrip(")") if "(" in detail else ""
            columns = tuple(part.split("=")[0].split(">")[0].split("<")[0].strip() for part in key.split(" AND ") if part.strip())
            candidate = IndexCandidate(table, columns) if columns and all(c.isidentifier() for c in columns) else None
            findings.append(
                _finding(AUTO_INDEX, f"SQLite builds a temporary index on {table} ({key or 'join key'}) every time this runs",
                         suggestion=candidate.create_statement(dialect="sqlite") if candidate else "a permanent index on the join key",
                         candidate=candidate)
            )
        if detail.startswith("USE TEMP B-TREE FOR"):
            scanned = [n for n in nodes if n.relation and sizes.get(n.relation, -1) >= settings.large_table_rows]
            if scanned:
                what = detail.removeprefix("USE TEMP B-TREE FOR ")
                findings.append(
                    _finding(SPILL, f"builds a temporary B-tree for {what} over {scanned[-1].relation} (~{sizes[scanned[-1].relation]:,} rows)",
                             suggestion=f"an index whose columns match the {what}")
                )
    summary = "\n".join("  " * n.depth + n.detail for n in nodes)
    return PlanReport("sqlite", findings, summary, None, nodes, False, None, None, [tuple(r) for r in rows])
