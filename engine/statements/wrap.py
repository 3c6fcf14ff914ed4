"""A result's statement wrapped so the server sorts and filters all of it, not just the rows
loaded: ``SELECT * FROM (<statement>) s WHERE … ORDER BY …``.

Built with sqlglot from the statement's one parse (:mod:`.parsing`), never by pasting text:
the condition arrives as a sqlglot expression, columns are quoted identifiers, and only a
statement that reads (one SELECT, UNION, VALUES or WITH query that writes nothing and creates
nothing) is wrapped, since wrapping runs it again.

>>> wrap_view("SELECT id, total FROM orders", "postgres", order=("total", True))
'SELECT * FROM (SELECT id, total FROM orders) AS s ORDER BY "total" DESC'
>>> from sqlglot import exp  # PostgreSQL puts NULLs last ascending already; SQLite is told
>>> wrap_view("select * from t limit 5", "sqlite", where=exp.condition('"Total" > 100'), order=("Total", False))
'SELECT * FROM (SELECT * FROM t LIMIT 5) AS s WHERE "Total" > 100 ORDER BY "Total" ASC NULLS LAST'
>>> wrap_view("DELETE FROM t RETURNING *", "postgres", order=("id", False))
Traceback (most recent call last):
...
aishell.engine.statements.wrap.NotWrappable: only a query that reads can be sorted on the server, not a delete
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from aishell.engine.errors import AishellError
from aishell.engine.statements.parsing import parse

__all__ = ["NotWrappable", "wrap_view"]


class NotWrappable(AishellError):
    """The statement cannot be re-run wrapped; the message says why (sort loaded rows instead)."""

    title = "Sorted on loaded rows"


def wrap_view(sql: str, dialect: str, *, where: Any = None, order: tuple[str, bool] | None = None) -> str:
    """``sql`` wrapped to keep the rows where ``where`` (a sqlglot condition) holds, ordered by
    the column ``order[0]``, descending when ``order[1]``; NULLs last ascending, first descending.

    Raises NotWrappable for MongoDB, a script, text sqlglot cannot read, or a statement that
    writes or creates anything.
    """
    if dialect == "mongo":
        raise NotWrappable("MongoDB results are sorted and filtered on the loaded rows")
    from aishell.engine.statements import describe

    statements = parse(sql, dialect)
    if not statements or len(statements) != 1 or statements[0].tree is None:
        raise NotWrappable("only a single statement that parses can be sorted on the server")
    tree = statements[0].tree
    info = describe(sql, dialect)
    if not isinstance(tree, exp.Query) or not info.is_read_only:
        raise NotWrappable(f"only a query that reads can be sorted on the server, not {_article(info.kind)}")
    if tree.find(exp.Into) is not None or tree.find(exp.Lock) is not None:
        raise NotWrappable("SELECT INTO and FOR UPDATE are not run again to sort")
    wrapped = exp.select("*").from_(exp.Subquery(this=tree.copy(), alias=exp.TableAlias(this=exp.to_identifier("s"))))
    if where is not None:
        wrapped = wrapped.where(where.copy())
    if order is not None:
        column, descending = order
        wrapped = wrapped.order_by(
            exp.Ordered(this=exp.column(column, quoted=True), desc=descending, nulls_first=descending)
        )
    return wrapped.sql(dialect)


def _article(kind: str) -> str:
    if kind in ("other", "unknown"):
        return "a statement of another kind"
    return ("an " if kind[:1] in "aeiou" else "a ") + kind
