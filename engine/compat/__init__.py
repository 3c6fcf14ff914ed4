"""Other libraries' private internals, each touched in one small module with a version check and
a public fallback, so an upgrade changes behaviour in one place and says so: :mod:`.asyncpg`
(one-round-trip execute, the pool's fast acquire) and :mod:`.aiosqlite` (work run on the
connection's own thread). Nothing else in the engine names a private attribute of a library.
"""
