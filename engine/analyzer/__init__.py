"""Query analysis on sqlglot ASTs: rules with stable codes, EXPLAIN plan reading and index advice.

    from aishell.engine.analyzer import analyze
    for finding in analyze(sql, dialect="postgres", schema=schema).findings:
        print(finding.line, finding.column, finding.code, finding.message)

:func:`analyze` is synchronous, pure and never raises; :func:`analyze_stream` does the same for
text read in pieces (a file of any size, in bounded memory); :func:`fingerprint` gives a
statement's normalized shape. Plans (``engine.analyzer.plan.explain``) and index advice
(``engine.analyzer.advisor.advise``) need a live connection and are async.
"""

from aishell.engine.statements.fingerprint import normalize as fingerprint
from aishell.engine.analyzer.findings import SEVERITIES, Analysis, Finding, IndexCandidate, Rule, severity_rank
from aishell.engine.analyzer.pipeline import PARSE_ERROR, Statement, analyze, analyze_stream, cache_stats, clear_cache, split_statements
from aishell.engine.analyzer.rules import RULES
from aishell.engine.config import AnalyzerSettings
from aishell.engine.types import SchemaInfo


def rule_catalog() -> list[Rule]:
    """Every rule's identity, AS000 first."""
    return [PARSE_ERROR] + [module.RULE for module in RULES]


__all__ = [
    "analyze",
    "analyze_stream",
    "fingerprint",
    "clear_cache",
    "cache_stats",
    "rule_catalog",
    "split_statements",
    "Statement",
    "Analysis",
    "AnalyzerSettings",
    "Finding",
    "IndexCandidate",
    "Rule",
    "RULES",
    "SchemaInfo",
    "SEVERITIES",
    "severity_rank",
]
