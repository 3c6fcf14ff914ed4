"""The rules, one a module, run in this order on every statement. Each module has ``RULE`` (a
:class:`~engine.analyzer.findings.Rule` with a stable code, never reused) and
``check(tree, ctx) -> Iterator[Finding]``. Add a rule by writing a module and listing it here.
"""

from aishell.engine.analyzer.rules import (
    cartesian_join,
    correlated_subquery,
    deep_offset,
    distinct_fanout,
    function_on_column,
    leading_wildcard,
    missing_index,
    missing_where,
    not_in_subquery,
    null_comparison,
    or_across_columns,
    order_without_limit,
    select_star,
    type_mismatch,
)

RULES = (
    select_star,
    missing_where,
    cartesian_join,
    function_on_column,
    leading_wildcard,
    or_across_columns,
    not_in_subquery,
    order_without_limit,
    deep_offset,
    distinct_fanout,
    correlated_subquery,
    null_comparison,
    type_mismatch,
    missing_index,
)

__all__ = ["RULES"]
