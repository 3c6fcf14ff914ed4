"""Index advice: the indexes the rules and the plan propose, tried as HypoPG hypothetical
indexes, kept only when the planner's estimated cost drops by at least ``min_reduction``
(50 % by default, as Dexter does).

Nothing is created for real: hypothetical indexes live in the backend's memory and are reset
before returning. Without HypoPG (or on SQLite) the advice says so and lists the rule-based
candidates unverified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aishell.engine.analyzer.candidates import index_candidates
from aishell.engine.analyzer.findings import Finding, IndexCandidate, Rule
from aishell.engine.analyzer.identifiers import is_identifier
from aishell.engine.analyzer.pipeline import analyze
from aishell.engine.analyzer.plan import PlanReport, explain
from aishell.engine.config import AnalyzerSettings
from aishell.engine.errors import QueryError
from aishell.engine.types import SchemaInfo

ADVICE = Rule("AS110", "index-advice", "warning", "An index that lowers the estimated cost (HypoPG)")
UNVERIFIED = Rule("AS111", "index-advice-unverified", "info", "An index proposed by the rules, not verified")
WIDER_MARGIN = 0.25
"""A wider index is recommended over a narrower one only when its plan is this much cheaper:
every key column costs writes and space."""
WIDER_FLOOR = 100.0
"""…and only when the narrower one's plan costs more than this (in planner units, as Dexter
does): a plan that cheap already is not worth a wider index."""


@dataclass(frozen=True, slots=True)
class IndexAdvice:
    """One candidate and what the planner thought of it."""

    candidate: IndexCandidate
    statement: str
    """The CREATE INDEX to run (left to the user)."""
    cost_before: float | None = None
    cost_after: float | None = None
    used: bool = False
    """The planner chose the hypothetical index."""
    plan: PlanReport | None = field(default=None, compare=False, repr=False)
    """The plan with the hypothetical index (None when it could not be created)."""

    @property
    def reduction(self) -> float | None:
        """Share of the cost saved (0.7 = 70 % cheaper), None when not measured."""
        if self.cost_before is None or self.cost_after is None or self.cost_before <= 0:
            return None
        return 1.0 - self.cost_after / self.cost_before


@dataclass(slots=True)
class Advice:
    """The outcome: ``recommended`` indexes (verified by HypoPG, or rule-based without it),
    ``rejected`` candidates (too little gain or not used), and findings for the same."""

    hypopg: bool
    message: str
    cost_before: float | None = None
    recommended: list[IndexAdvice] = field(default_factory=list)
    rejected: list[IndexAdvice] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    plan_before: PlanReport | None = None
    """The plan without any hypothetical index (HypoPG only)."""

    @property
    def best(self) -> IndexAdvice | None:
        """The candidate whose plan to show beside :attr:`plan_before`: the cheapest recommended
        one, else the cheapest one tried (None when no plan with an index exists)."""
        for group in (self.recommended, self.rejected):
            tried = [a for a in group if a.plan is not None and a.cost_after is not None]
            if tried:
                return min(tried, key=lambda a: a.cost_after)
        return None


async def hypopg_available(conn) -> bool:
    """True when the HypoPG extension is installed in the connection's database."""
    if getattr(conn, "dialect", "") != "postgres":
        return False
    result = await conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'")
    return bool(result.rows and result.rows[0][0])


async def advise(
    conn,
    sql: str,
    schema: SchemaInfo | None,
    *,
    min_reduction: float = 0.5,
    settings: AnalyzerSettings | None = None,
) -> Advice:
    """Index advice for one statement on ``conn`` (a driver Connection): SELECT, UPDATE and
    DELETE, with ``$n`` parameters planned generically.

    Each candidate is tried alone; on each table the cheapest verified one wins, a wider one
    only by a clear margin (:func:`choose`). Raises QueryError when the server cannot plan the statement.
    """
    dialect = getattr(conn, "dialect", "postgres")
    candidates = _candidates(sql, dialect, schema, settings)
    if dialect != "postgres":
        if dialect == "sqlite":
            report = await explain(conn, sql, dialect="sqlite", settings=settings)
            _merge(candidates, (f.candidate for f in report.findings if f.candidate is not None))
        return _unverified(candidates, "hypothetical indexes need PostgreSQL with HypoPG: showing the candidates of the rules and the plan, not verified", dialect)
    if not await hypopg_available(conn):
        return _unverified(candidates, "HypoPG is not installed (CREATE EXTENSION hypopg): showing the rules' candidates, not verified", dialect)
    base = await explain(conn, sql, dialect="postgres", settings=settings)
    _merge(candidates, _plan_candidates(base, candidates))
    advice = Advice(True, "", base.total_cost, plan_before=base)
    if not candidates:
        advice.message = "no index candidates for this statement"
        return advice
    tried: list[IndexAdvice] = []
    try:
        await _reset(conn)
        for candidate in candidates:
            tried.append(await _try(conn, sql, candidate, base.total_cost, settings))
    finally:
        await _reset(conn)
    winners = choose(tried, min_reduction)
    for item in tried:
        if item in winners:
            continue
        advice.rejected.append(item)
    for item in sorted(winners, key=lambda a: a.cost_after):
        advice.recommended.append(item)
        candidate = item.candidate
        advice.findings.append(
            Finding(
                ADVICE.code, ADVICE.name, ADVICE.severity,
                f"index on {candidate.target} ({candidate.keys()}) lowers the estimated cost "
                f"from {item.cost_before:,.0f} to {item.cost_after:,.0f} ({item.reduction:.0%} less)",
                1, 1, item.statement, 0, None, None, candidate,
            )
        )
    kept = len(advice.recommended)
    advice.message = (
        f"{kept} of {len(candidates)} candidate index(es) lower the cost by at least {min_reduction:.0%} (HypoPG)"
        if kept else f"none of {len(candidates)} candidate index(es) lowers the cost by {min_reduction:.0%} or more (HypoPG)"
    )
    return advice


def choose(tried: list[IndexAdvice], min_reduction: float) -> list[IndexAdvice]:
    """The winner on each table among the candidates the planner used and that cut the cost
    by ``min_reduction``: the cheapest of the narrowest, replaced by a wider one only when
    that is :data:`WIDER_MARGIN` cheaper still and the narrower plan costs over
    :data:`WIDER_FLOOR`.

    >>> from aishell.engine.analyzer.findings import IndexCandidate
    >>> def tried(columns, cost): return IndexAdvice(IndexCandidate("t", columns), "", 5000.0, cost, True)
    >>> [w.candidate.columns for w in choose([tried(("a", "b"), 8.0), tried(("a",), 11.0)], 0.5)]
    [('a',)]
    >>> [w.candidate.columns for w in choose([tried(("c", "b"), 8.0), tried(("c",), 595.0)], 0.5)]
    [('c', 'b')]
    """
    by_table: dict[tuple, list[IndexAdvice]] = {}
    for item in tried:
        reduction = item.reduction
        if item.used and reduction is not None and reduction >= min_reduction:
            by_table.setdefault((item.candidate.schema, item.candidate.table), []).append(item)
    winners = []
    for items in by_table.values():
        best: IndexAdvice | None = None
        for item in sorted(items, key=lambda a: (len(a.candidate.columns), a.cost_after)):
            if best is None or (best.cost_after > WIDER_FLOOR and item.cost_after < best.cost_after * (1.0 - WIDER_MARGIN)):
                best = item
        winners.append(best)
    return winners


def _candidates(sql: str, dialect: str, schema: SchemaInfo | None, settings: AnalyzerSettings | None) -> list[IndexCandidate]:
    """The statement's own candidates (:mod:`candidates`), then the rules' not already there."""
    out = index_candidates(sql, schema, dialect=dialect) if dialect == "postgres" else []
    _merge(out, (f.candidate for f in analyze(sql, dialect=dialect, schema=schema, settings=settings).findings if f.candidate is not None))
    return out


def _merge(into: list[IndexCandidate], more) -> None:
    """Adds the candidates of ``more`` that are not in ``into`` (expressions compared without
    case and spaces: ``LOWER(x)`` is ``lower(x)``)."""
    keys = {_key(c) for c in into}
    for candidate in more:
        key = _key(candidate)
        if key not in keys:
            keys.add(key)
            into.append(candidate)


def _key(candidate: IndexCandidate) -> tuple:
    return (
        candidate.schema,
        candidate.table,
        tuple(c if is_identifier(c) else c.lower().replace(" ", "") for c in candidate.columns),
    )


def _plan_candidates(report: PlanReport, known: list[IndexCandidate]) -> list[IndexCandidate]:
    """The plan's candidates (columns of a scan's filter), given the schema the statement
    wrote for that table: a plan names relations without their schema."""
    schemas = {c.table: c.schema for c in known}
    out = []
    for finding in report.findings:
        candidate = finding.candidate
        if candidate is not None:
            if candidate.schema is None and schemas.get(candidate.table):
                candidate = IndexCandidate(candidate.table, candidate.columns, schemas[candidate.table])
            out.append(candidate)
    return out


def _unverified(candidates: list[IndexCandidate], message: str, dialect: str) -> Advice:
    advice = Advice(False, message)
    for candidate in candidates:
        statement = candidate.create_statement(dialect=dialect)
        advice.recommended.append(IndexAdvice(candidate, statement))
        advice.findings.append(
            Finding(
                UNVERIFIED.code, UNVERIFIED.name, UNVERIFIED.severity,
                f"index on {candidate.target} ({candidate.keys(dialect)}) proposed by the rules; {message.split(':')[0]}",
                1, 1, statement, 0, None, None, candidate,
            )
        )
    return advice


async def _try(conn, sql: str, candidate: IndexCandidate, before: float | None, settings) -> IndexAdvice:
    statement = candidate.create_statement(dialect="postgres")
    try:
        created = await conn.execute("SELECT indexrelid, indexname FROM hypopg_create_index($1)", [statement])
    except QueryError:
        return IndexAdvice(candidate, statement, before, None, False)
    oid, name = created.rows[0]
    try:
        report = await explain(conn, sql, dialect="postgres", settings=settings)
    finally:
        await conn.execute("SELECT hypopg_drop_index($1)", [oid])
    used = any(node.index == name for node in report.nodes)
    return IndexAdvice(candidate, statement, before, report.total_cost, used, report)


async def _reset(conn) -> None:
    try:
        await conn.execute("SELECT hypopg_reset()")
    except QueryError:
        pass
