"""Index advice across a workload: every statement planned once as it is, every candidate index
(:mod:`engine.analyzer.candidates` of every statement) created once as a HypoPG hypothetical
index and the statements it could serve planned again. Each statement picks its best index as
the one-statement advisor does (:func:`engine.analyzer.advisor.choose`); an index is worth what
its statements save, estimated as each one's calls × mean time × the share of plan cost it cuts,
minus what it adds to the writes on its table (inserts, and updates of its columns: roughly
:data:`WRITE_OVERHEAD` of their time). Indexes are ranked by that net saving.

Without times (a FILE), savings are in calls × planner cost units instead of milliseconds.
Hypothetical indexes live only in this connection's backend and are reset before returning.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import sqlglot
from sqlglot import exp

from aishell.engine.analyzer.advisor import IndexAdvice, choose, hypopg_available
from aishell.engine.analyzer.candidates import index_candidates
from aishell.engine.analyzer.findings import IndexCandidate, Rule
from aishell.engine.analyzer.identifiers import folded
from aishell.engine.analyzer.plan import explain
from aishell.engine.errors import ConnectionLost, QueryError
from aishell.engine.workload.existing import IndexNote, existing_index_notes
from aishell.engine.workload.sources import WorkloadStatement

WORKLOAD_INDEX = Rule("AS120", "workload-index", "warning", "An index that saves the workload time (HypoPG, calls x mean time)")
UNUSED_INDEX = Rule("AS121", "unused-index", "info", "An index no scan has used since the statistics were reset")
DUPLICATE_INDEX = Rule("AS122", "duplicate-index", "warning", "An index that repeats another one of the same table")
WORKLOAD_RULES = (WORKLOAD_INDEX, UNUSED_INDEX, DUPLICATE_INDEX)
WRITE_OVERHEAD = 0.1
"""Share of a write's time one more index adds (an estimate: an index entry per row written)."""
MIN_REDUCTION = 0.5
"""A statement counts as helped when its plan gets at least this much cheaper (as Dexter)."""

Progress = Callable[[int, int, str], None]
"""Called with (done, total, what) as each phase (planning, trying candidates) goes on."""


@dataclass(frozen=True, slots=True)
class StatementEffect:
    """What an index does to one statement: plan costs and the estimated saving (negative: a
    write it slows)."""

    statement: WorkloadStatement
    cost_before: float | None
    cost_after: float | None
    saved: float

    @property
    def reduction(self) -> float | None:
        if not self.cost_before or self.cost_after is None:
            return None
        return 1.0 - self.cost_after / self.cost_before


@dataclass(slots=True)
class IndexRecommendation:
    """One index for the workload: the statements it helps and slows, and the net saving."""

    candidate: IndexCandidate
    helps: list[StatementEffect] = field(default_factory=list)
    slows: list[StatementEffect] = field(default_factory=list)

    @property
    def statement(self) -> str:
        """CONCURRENTLY, as the DROP of an unused index: advice for a whole workload is run on
        the server that carries it, and a plain CREATE INDEX blocks its writes while it builds."""
        return self.candidate.create_statement(concurrently=True)

    @property
    def saved(self) -> float:
        return sum(e.saved for e in self.helps) + sum(e.saved for e in self.slows)


@dataclass(slots=True)
class WorkloadAdvice:
    """The outcome: ``recommendations`` best first, ``notes`` on existing indexes, the
    statements that could not be planned (``skipped``: statement and reason) and the unit of
    every saving (``ms``, or ``cost`` when the workload has no times)."""

    hypopg: bool
    unit: str
    statements: int = 0
    candidates: int = 0
    recommendations: list[IndexRecommendation] = field(default_factory=list)
    notes: list[IndexNote] = field(default_factory=list)
    skipped: list[tuple[WorkloadStatement, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
    message: str = ""


async def advise_workload(
    conn,
    statements: list[WorkloadStatement],
    *,
    progress: Progress | None = None,
    min_reduction: float = MIN_REDUCTION,
    schema=None,
) -> WorkloadAdvice:
    """Advice for ``statements`` (heaviest first) on a PostgreSQL ``conn``. Raises
    ConnectionLost when the link breaks; a statement the server cannot plan is skipped."""
    started = time.perf_counter()
    report = progress or (lambda done, total, what: None)
    timed = any(s.mean_ms is not None for s in statements)
    advice = WorkloadAdvice(await hypopg_available(conn), "ms" if timed else "cost")
    if schema is None:
        schema = await conn.schema_info()
    advice.notes = await existing_index_notes(conn)
    if not advice.hypopg:
        advice.message = "HypoPG is not installed (CREATE EXTENSION hypopg): no index could be verified"
        advice.elapsed_s = time.perf_counter() - started
        return advice

    base: dict[int, float] = {}
    wanted: dict[IndexCandidate, list[int]] = {}
    writes: list[tuple[int, str, set[str] | None]] = []
    used: set[str] = set()
    total = len(statements)
    for number, statement in enumerate(statements):
        report(number, total, "planning")
        written = _written_table(statement.text)
        if written is not None:
            writes.append((number, *written))
        try:
            plan = await explain(conn, statement.text, dialect="postgres")
        except ConnectionLost:
            raise
        except QueryError as exc:
            advice.skipped.append((statement, exc.one_line()))
            continue
        used.update(node.index for node in plan.nodes if node.index)
        if plan.total_cost is None:
            continue
        base[number] = plan.total_cost
        for candidate in index_candidates(statement.text, schema):
            wanted.setdefault(candidate, []).append(number)
    # an index the workload's own plans read is not unused, whatever the statistics say (they
    # start at zero for an index created since, or after a reset)
    advice.notes = [note for note in advice.notes if note.kind != "unused" or note.index not in used]
    advice.statements = len(base)
    advice.candidates = len(wanted)

    tried: dict[int, list[IndexAdvice]] = {}
    try:
        await conn.execute("SELECT hypopg_reset()")
        for done, (candidate, numbers) in enumerate(wanted.items()):
            report(done, len(wanted), f"trying {candidate.target} ({candidate.keys()})")
            for number, item in await _try_candidate(conn, candidate, numbers, statements, base):
                tried.setdefault(number, []).append(item)
    finally:
        await conn.execute("SELECT hypopg_reset()")
    report(len(wanted), len(wanted), "ranking")

    chosen: dict[IndexCandidate, IndexRecommendation] = {}
    for number, items in tried.items():
        statement = statements[number]
        for winner in choose(items, min_reduction):
            share = winner.reduction or 0.0
            saved = statement.weight * share if timed else statement.calls * (winner.cost_before - winner.cost_after)
            recommendation = chosen.setdefault(winner.candidate, IndexRecommendation(winner.candidate))
            recommendation.helps.append(StatementEffect(statement, winner.cost_before, winner.cost_after, saved))
    _fold_prefixes(chosen)
    for recommendation in chosen.values():
        candidate = recommendation.candidate
        for number, table, updated in writes:
            if table != _table_key(candidate):
                continue
            if updated is not None and not (updated & {c.lower() for c in candidate.columns}):
                continue  # an UPDATE of other columns: a heap-only update touches no index
            statement = statements[number]
            penalty = statement.weight * WRITE_OVERHEAD if timed else statement.calls * (base.get(number) or 0.0) * WRITE_OVERHEAD
            recommendation.slows.append(StatementEffect(statement, base.get(number), None, -penalty))
    advice.recommendations = sorted((r for r in chosen.values() if r.saved > 0), key=lambda r: r.saved, reverse=True)
    for recommendation in advice.recommendations:
        recommendation.helps.sort(key=lambda e: e.saved, reverse=True)
    advice.elapsed_s = time.perf_counter() - started
    advice.message = (
        f"{len(advice.recommendations)} index(es) from {advice.candidates} candidate(s) over {advice.statements} statement shape(s) (HypoPG)"
    )
    return advice


async def _try_candidate(conn, candidate: IndexCandidate, numbers: list[int], statements, base) -> list[tuple[int, IndexAdvice]]:
    """Plans of the statements that could use ``candidate``, with it as a hypothetical index."""
    create = candidate.create_statement()
    try:
        created = await conn.execute("SELECT indexrelid, indexname FROM hypopg_create_index($1)", [create])
    except QueryError:
        return []  # a candidate the server refuses (a type without a B-tree operator class)
    oid, name = created.rows[0]
    out = []
    try:
        for number in numbers:
            try:
                plan = await explain(conn, statements[number].text, dialect="postgres")
            except QueryError:
                continue
            used = any(node.index == name for node in plan.nodes)
            out.append((number, IndexAdvice(candidate, create, base[number], plan.total_cost, used)))
    finally:
        await conn.execute("SELECT hypopg_drop_index($1)", [oid])
    return out


def _fold_prefixes(chosen: dict[IndexCandidate, IndexRecommendation]) -> None:
    """A recommended index whose keys start a wider recommended one on the same table is
    dropped and its statements credited to the wider one, which serves the same lookups."""
    for narrow in list(chosen):
        for wide in chosen:
            if wide is narrow or (wide.schema, wide.table) != (narrow.schema, narrow.table):
                continue
            if len(wide.columns) > len(narrow.columns) and wide.columns[: len(narrow.columns)] == narrow.columns:
                chosen[wide].helps.extend(chosen.pop(narrow).helps)
                break


def _table_key(candidate: IndexCandidate) -> str:
    return candidate.table


def _written_table(text: str) -> tuple[str, set[str] | None] | None:
    """(table, updated columns or None for every column) of an INSERT or UPDATE."""
    kind = text.lstrip()[:6].upper()
    if kind not in ("INSERT", "UPDATE"):
        return None
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except sqlglot.errors.SqlglotError:
        return None
    target = tree.this if isinstance(tree, (exp.Insert, exp.Update)) else None
    if isinstance(target, exp.Schema):
        target = target.this
    if not isinstance(target, exp.Table) or not isinstance(target.this, exp.Identifier):
        return None
    table = folded(target.name, quoted=bool(target.this.quoted))
    if isinstance(tree, exp.Insert):
        return table, None
    updated = set()
    for assignment in tree.expressions:
        column = assignment.this if isinstance(assignment, exp.EQ) else None
        if isinstance(column, exp.Column):
            updated.add(column.name.lower())
    return table, updated
