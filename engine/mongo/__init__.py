"""MongoDB support that needs no server and no PyMongo.

- :mod:`.shell` — mongosh-syntax parser (``parse``, ``parse_script`` → :class:`ShellQuery`;
  QueryError with a 1-based ``position``, nothing sent), ``format_value``/``format_query``,
  ``redact_secrets`` for history and memory.
- :mod:`.values` — ObjectId/NumberLong/Timestamp/... values the parser produces.
- :mod:`.flatten` — documents into grid rows (``Flattener``: dotted columns, arrays summarized,
  one column set for every page).
- :mod:`.schema` — sample-based schema inference (``infer_fields`` → ``FieldInfo``).
- What a statement is and how it must run lives in :mod:`engine.statements.mongo`; its
  fingerprint (literals stripped) in :mod:`engine.statements.fingerprint`.

Reading explain output and index advice are analysis: :mod:`engine.analyzer.mongo`.
The driver, :mod:`engine.drivers.mongo`, is the only module that imports PyMongo.
"""
