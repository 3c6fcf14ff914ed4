"""A range of grid cells as text to paste elsewhere: TSV (spreadsheets), CSV or Markdown.

Values are written as the clipboard carries a single cell (NULL as nothing, strings as they
are); TSV puts a tab or a line break inside a value as a space, since TSV cannot quote.

    >>> names = ["id", "note"]
    >>> rows = [(1, "a|b"), (2, None), (3, 'say "hi"\\tthere')]
    >>> as_tsv(rows).splitlines()
    ['1\\ta|b', '2\\t', '3\\tsay "hi" there']
    >>> as_csv(names, rows).splitlines()
    ['id,note', '1,a|b', '2,', '3,"say ""hi""\\tthere"']
    >>> print(as_markdown(names, rows))
    | id | note |
    | --- | --- |
    | 1 | a\\|b |
    | 2 |  |
    | 3 | say "hi" there |
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

__all__ = ["FORMATS", "as_csv", "as_markdown", "as_tsv", "copy_text", "render"]

FORMATS = ("tsv", "csv", "markdown")
"""What a copied range can be written as."""


def copy_text(value: Any, display: Any) -> str:
    """What copying a value gives: NULL as nothing, strings as they are, the rest as shown
    (``display`` is the grid's one-line text function)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return display(value)


def _flat(text: str) -> str:
    return text.replace("\r\n", " ").replace("\t", " ").replace("\n", " ").replace("\r", " ")


def as_tsv(rows: Sequence[Sequence[Any]], display: Any = str) -> str:
    """Tab-separated values, one line a row, no header."""
    return "\n".join("\t".join(_flat(copy_text(value, display)) for value in row) for row in rows)


def as_csv(names: Sequence[str], rows: Sequence[Sequence[Any]], display: Any = str) -> str:
    """RFC 4180 CSV with a header line (values needing quotes are quoted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([copy_text(value, display) for value in row])
    return buffer.getvalue()


def as_markdown(names: Sequence[str], rows: Sequence[Sequence[Any]], display: Any = str) -> str:
    """A GitHub-flavoured Markdown table (``|`` escaped, line breaks as spaces)."""

    def cell(text: str) -> str:
        return _flat(text).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(name) for name in names) + " |", "|" + " --- |" * len(names)]
    lines += ["| " + " | ".join(cell(copy_text(value, display)) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def render(fmt: str, names: Sequence[str], rows: Sequence[Sequence[Any]], display: Any = str) -> str:
    """``rows`` (with their column ``names``) in ``fmt``, one of FORMATS."""
    if fmt == "tsv":
        return as_tsv(rows, display)
    if fmt == "csv":
        return as_csv(names, rows, display)
    if fmt == "markdown":
        return as_markdown(names, rows, display)
    raise ValueError(f"unknown copy format {fmt!r}; expected one of {FORMATS}")
