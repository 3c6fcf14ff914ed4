"""What the analyzer reports: findings, the analysis of a script, and index candidates.

A :class:`Finding` is about one node of one statement: its position is 1-based line and column
within the text that was analyzed. Rules describe themselves with a :class:`Rule` (stable code,
name, default severity); codes are never reused.

>>> f = Finding("AS001", "select-star", "warning", "SELECT * in the outer query", 1, 8)
>>> f.at_least("warning"), f.at_least("error")
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("info", "warning", "error")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for error; ValueError for anything else."""
    try:
        return _RANK[severity]
    except KeyError:
        raise ValueError(f"unknown severity {severity!r}: expected one of {', '.join(SEVERITIES)}") from None


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's identity: a stable code (``AS001``…), a short kebab-case name, the default
    severity and a one-line summary (used by ``--format sarif`` and the suggestions pane)."""

    code: str
    name: str
    severity: str
    summary: str


@dataclass(frozen=True, slots=True)
class IndexCandidate:
    """An index a rule proposes: ``table`` (as written, may be schema-qualified) and its key
    ``columns`` — plain column names or SQL expressions such as ``lower(email)``."""

    table: str
    columns: tuple[str, ...]
    schema: str | None = None

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def target(self) -> str:
        """The table as PostgreSQL must read it: ``"Bar"."Foo"``, ``orders``."""
        from aishell.engine.analyzer.identifiers import quote_ident

        return ".".join(quote_ident(part) for part in (self.schema, self.table) if part)

    def keys(self, dialect: str = "postgres") -> str:
        """The key list inside the parentheses: names quoted where PostgreSQL needs it,
        expressions in their own parentheses."""
        from aishell.engine.analyzer.identifiers import is_identifier, quote_ident

        if dialect != "postgres":
            return ", ".join(c if _is_plain(c) else f"({c})" for c in self.columns)
        out = []
        for column in self.columns:
            if is_identifier(column):
                out.append(quote_ident(column))
            elif column.startswith('"') and column.endswith('"'):
                out.append(column)
            else:
                out.append(f"({column})")
        return ", ".join(out)

    def create_statement(self, *, dialect: str = "postgres", concurrently: bool = False) -> str:
        """The ``CREATE INDEX`` that builds it (name left to the server in PostgreSQL).
        ``table``, ``schema`` and plain ``columns`` are catalog names (``Foo`` is the table
        created as ``"Foo"``), quoted here where PostgreSQL needs it.

        >>> IndexCandidate("Foo", ("Id", "lower(name)"), "Bar").create_statement()
        'CREATE INDEX ON "Bar"."Foo" ("Id", (lower(name)));'
        """
        keys = self.keys(dialect)
        if dialect == "postgres":
            how = "CONCURRENTLY " if concurrently else ""
            return f"CREATE INDEX {how}ON {self.target} ({keys});"
        words = [self.table] + [c for c in self.columns]
        name = "idx_" + "_".join(w for w in ("".join(ch if ch.isalnum() else "_" for ch in word.lower()).strip("_") for word in words) if w)
        while "__" in name:
            name = name.replace("__", "_")
        return f"CREATE INDEX {name} ON {self.qualified_table} ({keys});"


def _is_plain(column: str) -> bool:
    return column.replace("_", "").isalnum() or (column.startswith('"') and column.endswith('"'))


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one statement.

    ``line``/``column`` are 1-based and point at the node the finding is about, in the text that
    was analyzed; ``end_line``/``end_column`` at its last character. ``statement`` is the
    0-based index of the statement in the script. ``suggestion`` is a rewritten snippet or a
    statement to run, when there is one; ``candidate`` an index the advisor can try.
    """

    code: str
    rule: str
    severity: str
    message: str
    line: int
    column: int
    suggestion: str | None = None
    statement: int = 0
    end_line: int | None = None
    end_column: int | None = None
    candidate: IndexCandidate | None = None

    def at_least(self, severity: str) -> bool:
        return _RANK[self.severity] >= severity_rank(severity)

    def to_dict(self) -> dict:
        """The JSON shape of ``aishell analyze --format json`` (without ``file``)."""
        return {
            "statement": self.statement,
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "suggestion": self.suggestion,
        }


@dataclass(slots=True)
class Analysis:
    """The result of analyzing a script: findings in statement and position order, and the
    number of statements seen (parsed or not)."""

    findings: list[Finding] = field(default_factory=list)
    statements: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def worst(self) -> str | None:
        """The highest severity among the findings, or None when there are none."""
        if not self.findings:
            return None
        return SEVERITIES[max(_RANK[f.severity] for f in self.findings)]
