"""PostgreSQL identifiers as the server reads them: quoted only when folding to lower case or a
keyword would change them, as the server's own ``quote_ident()`` does.

An unquoted ``Foo`` is the table ``foo``; the table created as ``"Foo"`` must stay quoted in
any statement we print, or the user runs it against a different (or no) table.

>>> quote_ident("orders"), quote_ident("Foo"), quote_ident("order"), quote_ident('a"b')
('orders', '"Foo"', '"order"', '"a""b"')
>>> folded("Foo", quoted=False), folded("Foo", quoted=True)
('foo', 'Foo')
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*\Z")

KEYWORDS = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization between bigint binary bit
    boolean both case cast char character check coalesce collate collation column concurrently
    constraint create cross current_catalog current_date current_role current_schema current_time
    current_timestamp current_user dec decimal default deferrable desc distinct do else end except
    exists extract false fetch float for foreign freeze from full grant greatest group grouping
    having ilike in initially inner inout int integer intersect interval into is isnull join
    lateral leading least left like limit localtime localtimestamp national natural nchar none
    normalize not notnull null nullif numeric offset on only or order out outer overlaps overlay
    placing position precision primary real references returning right row select session_user
    setof similar smallint some substring symmetric table tablesample then time timestamp to
    trailing treat trim true union unique user using values varchar variadic verbose when where
    window with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi
    xmlroot xmlserialize xmltable""".split()
)
"""PostgreSQL 15's keywords that are not unreserved (``pg_get_keywords()`` with catcode <> 'U'):
as a name they must be quoted."""


def quote_ident(name: str) -> str:
    """``name`` (as stored in the catalog) written so PostgreSQL reads it back unchanged."""
    if _PLAIN.match(name) and name not in KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def is_identifier(text: str) -> bool:
    """True when ``text`` is a bare name (any case) rather than an expression or a quoted name."""
    return bool(re.fullmatch(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*", text))


def folded(name: str, *, quoted: bool) -> str:
    """The catalog name an identifier written as ``name`` refers to: unquoted names fold to
    lower case."""
    return name if quoted else name.lower()
