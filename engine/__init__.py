"""AIShell's engine: drivers, pool, cache, analyzer and memory behind one Session facade.

Nothing in this package imports Textual; every front end (TUI, CLI, scripts, tests) uses it the
same way through :class:`engine.session.Session`.
"""

__version__ = "0.1.0"
