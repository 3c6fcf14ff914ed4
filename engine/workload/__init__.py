"""Advice for a whole workload: the statements a database runs, grouped by shape and weighed by
calls × mean time, tested together against hypothetical indexes (HypoPG), and the existing
indexes nobody uses or that repeat another.

    statements = await from_pg_stat_statements(conn)          # or from_memory / from_file
    advice = await advise_workload(conn, statements, progress=print)
    for index in advice.recommendations:
        print(index.statement, index.saved, [e.statement.text for e in index.helps])

Nothing is ever created: recommendations are statements for the user to run.
"""

from aishell.engine.workload.advice import IndexRecommendation, StatementEffect, WorkloadAdvice, advise_workload
from aishell.engine.workload.collect import collect
from aishell.engine.workload.existing import IndexNote, existing_index_notes
from aishell.engine.workload.sources import WorkloadStatement, from_file, from_memory, from_pg_stat_statements, merge

__all__ = [
    "IndexNote",
    "IndexRecommendation",
    "StatementEffect",
    "WorkloadAdvice",
    "WorkloadStatement",
    "advise_workload",
    "collect",
    "existing_index_notes",
    "from_file",
    "from_memory",
    "from_pg_stat_statements",
    "merge",
]
