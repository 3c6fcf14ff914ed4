"""What would escape a read-only session, for the SQL family: the second of read-only's layers.

The first layer is the server's own (PostgreSQL's ``default_transaction_read_only``; SQLite's
read-only open and authorizer); it refuses writes. This one refuses, before anything is sent,
what that layer lets through or what could switch it off: a transaction made writable, the
settings behind read-only, ALTER SYSTEM, COPY to a program or a server file and COPY FROM,
large objects, backend signals, configuration reloads, dblink, maintenance commands,
procedural code (DO, CALL), ATTACH, VACUUM INTO and pragmas that lift SQLite's read-only mode.
A statement it cannot read is refused too. Rules read sqlglot's tree (function calls, COPY,
PRAGMA) and, where sqlglot keeps only a command's words (SET, RESET, BEGIN, EXPLAIN...), the
statement's tokens; never a regular expression over the text.

>>> from aishell.engine.statements.parsing import parse
>>> first_escape(parse("SELECT 1; BEGIN READ WRITE"), "", "postgres")
'BEGIN READ WRITE makes the transaction writable'
>>> first_escape(parse("SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false)"), "", "postgres")
"set_config('default_transaction_read_only') could make the session writable"
>>> first_escape(parse("SET search_path TO app; SELECT 1"), "", "postgres") is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from aishell.engine.statements.parsing import (
    STATEMENT_TYPES,
    TRANSACTION_HEADS,
    Parsed,
    is_transaction_statement,
    parse_tokens,
)

NOT_UNDERSTOOD = "statement not understood, so it cannot be checked"

GOVERNING_SETTINGS = frozenset({"default_transaction_read_only", "transaction_read_only"})
"""The settings that keep a PostgreSQL session read-only."""
ROLE_SETTINGS = frozenset({"role", "session_authorization"})
"""Changing these changes the privileges: a SELECT-only login role could be left behind."""

_FUNCTIONS = {
    "lo_create": "creates a large object",
    "lo_creat": "creates a large object",
    "lo_from_bytea": "creates a large object",
    "lo_import": "reads a server file into a new large object",
    "lo_export": "writes a large object to a file on the server",
    "lo_unlink": "deletes a large object",
    "lo_put": "writes into a large object",
    "lowrite": "writes into a large object",
    "lo_truncate": "truncates a large object",
    "lo_truncate64": "truncates a large object",
    "pg_terminate_backend": "ends another session",
    "pg_cancel_backend": "cancels another session's statement",
    "pg_reload_conf": "reloads the server's configuration",
    "pg_rotate_logfile": "rotates the server's log file",
    "pg_notify": "signals other sessions",
    "pg_promote": "promotes a standby server",
    "pg_switch_wal": "switches the server's write-ahead log file",
    "pg_create_restore_point": "writes a restore point into the write-ahead log",
    "pg_log_backend_memory_contexts": "writes into the server's log",
    "pg_backup_start": "starts a server backup",
    "pg_backup_stop": "stops a server backup",
    "pg_wal_replay_pause": "pauses replication",
    "pg_wal_replay_resume": "resumes replication",
    "pg_create_physical_replication_slot": "creates a replication slot",
    "pg_create_logical_replication_slot": "creates a replication slot",
    "pg_copy_physical_replication_slot": "creates a replication slot",
    "pg_copy_logical_replication_slot": "creates a replication slot",
    "pg_drop_replication_slot": "drops a replication slot",
    "pg_import_system_collations": "creates collations",
    "pg_file_write": "writes a file on the server",
    "pg_file_unlink": "deletes a file on the server",
    "pg_file_rename": "renames a file on the server",
    "pg_file_sync": "syncs a file on the server",
}
_FUNCTION_PREFIXES = (
    ("dblink", "runs statements over another connection, outside this read-only session"),
    ("pg_stat_reset", "resets the server's statistics"),
    ("pg_stat_statements_reset", "resets the server's statistics"),
    ("pg_replication_origin_", "changes replication state"),
)
_COMMANDS = {
    "DO": "DO runs procedural code that can change the session and commit",
    "CALL": "CALL runs a procedure that can change the session and commit",
    "VACUUM": "VACUUM rewrites tables",
    "ANALYZE": "ANALYZE rewrites the planner's statistics",
    "ANALYSE": "ANALYZE rewrites the planner's statistics",
    "REINDEX": "REINDEX rebuilds indexes",
    "CLUSTER": "CLUSTER rewrites tables",
    "CHECKPOINT": "CHECKPOINT forces a server checkpoint",
    "LOAD": "LOAD loads a library into the server process",
    "NOTIFY": "NOTIFY signals other sessions",
    "ATTACH": "ATTACH opens another database file, which it may create and write",
    "DETACH": "DETACH changes the databases this connection sees",
}
_SERVER_ENFORCED = frozenset({
    "SELECT", "VALUES", "TABLE", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "SHOW", "EXECUTE",
    "FETCH", "MOVE", "CLOSE", "LISTEN", "UNLISTEN", "DEALLOCATE", "LOCK", "GRANT", "REVOKE", "COMMENT", "CREATE",
    "DROP", "TRUNCATE", "ALTER", "REFRESH", "SECURITY", "IMPORT", "REASSIGN", "DISCARD",
})
"""Heads sqlglot may keep as a bare command whose writes the server's read-only session refuses
itself (their function calls are still checked, from the tokens)."""



def first_escape(statements: Iterable[Parsed], sql: str, dialect: str) -> str | None:
    """The reason the first statement that would escape read-only does so, or None."""
    for statement in statements:
        reason = escape(statement, sql, dialect)
        if reason is not None:
            return reason
    return None


def escape(statement: Parsed, sql: str, dialect: str) -> str | None:
    """Why this one statement would escape a read-only session, or None when it may be sent."""
    tree = statement.tree
    if not statement.tokens:
        return None
    if tree is not None and isinstance(tree, STATEMENT_TYPES) and not isinstance(tree, exp.Command):
        return _tree_escape(tree, statement)
    return _words_escape(statement, sql, dialect)


# -- statements sqlglot parsed ------------------------------------------------------------------


def _tree_escape(tree: exp.Expression, statement: Parsed) -> str | None:
    if isinstance(tree, (exp.Transaction, exp.Set)):
        return _transaction_mode(statement.words) or _setting(statement.words)
    if isinstance(tree, exp.Copy):
        reason = _copy(tree)
        if reason:
            return reason
    if isinstance(tree, exp.Pragma):
        return _pragma(tree)
    if isinstance(tree, exp.Attach):
        return _COMMANDS["ATTACH"]
    if isinstance(tree, exp.Detach):
        return _COMMANDS["DETACH"]
    if isinstance(tree, exp.Analyze):
        return _COMMANDS["ANALYZE"]
    for node in tree.walk():
        if isinstance(node, exp.Func):
            reason = _function(node)
            if reason:
                return reason
    return None


def _function(node: exp.Func) -> str | None:
    name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
    if name == "set_config":
        first = node.expressions[0] if isinstance(node, exp.Anonymous) and node.expressions else None
        setting = first.this if isinstance(first, exp.Literal) and first.is_string else None
        return _set_config(setting)
    return _function_reason(name)


def _function_reason(name: str) -> str | None:
    reason = _FUNCTIONS.get(name)
    if reason is None:
        reason = next((why for prefix, why in _FUNCTION_PREFIXES if name.startswith(prefix)), None)
    return f"{name}() {reason}" if reason else None


def _set_config(setting: str | None) -> str | None:
    if setting is None:
        return "set_config() with a computed setting name could make the session writable"
    name = setting.strip().lower()
    if name in GOVERNING_SETTINGS:
        return f"set_config('{name}') could make the session writable"
    if name in ROLE_SETTINGS:
        return f"set_config('{name}') changes the role the session runs as"
    return None


def _copy(tree: exp.Copy) -> str | None:
    files = tree.args.get("files") or []
    target = files[0] if files else None
    where = target.name.upper() if isinstance(target, exp.Identifier) and not target.quoted else ""
    if tree.args.get("kind"):  # COPY ... FROM
        if where == "PROGRAM":
            return "COPY … FROM PROGRAM runs a shell command on the server"
        return "COPY … FROM writes rows into a table"
    if where == "PROGRAM":
        return "COPY … TO PROGRAM runs a shell command on the server"
    if where == "STDOUT":
        return None
    return "COPY … TO a file writes a file on the server"


def _pragma(tree: exp.Pragma) -> str | None:
    target = tree.this
    if not isinstance(target, exp.EQ):
        return None  # reads the current value
    from aishell.engine.drivers.sqlite import READ_ONLY_PRAGMAS  # one list: the driver's authorizer uses it too

    name = target.this.name.lower()
    if name in READ_ONLY_PRAGMAS:
        return None
    if name == "query_only":
        return "PRAGMA query_only lifts the connection's read-only mode"
    return f"PRAGMA {name} with a value can lift read-only or write to the file"


# -- statements sqlglot kept as words -----------------------------------------------------------


def _words_escape(statement: Parsed, sql: str, dialect: str) -> str | None:
    tokens = statement.words
    head = statement.head
    words = _top_words(tokens)
    parsed = statement.tree is not None
    if head in ("COMMIT", "ROLLBACK") and "PREPARED" in words[1:3]:
        return f"{head} PREPARED finishes a transaction another session prepared"
    if head in ("BEGIN", "START", "SET"):
        reason = _transaction_mode(tokens)
        if reason:
            return reason
    if head == "SET":
        reason = _setting(tokens)
    elif head == "RESET":
        reason = _reset(tokens)
    elif head == "ALTER" and words[1:2] == ["SYSTEM"]:
        reason = "ALTER SYSTEM changes the server's configuration"
    elif head == "DISCARD" and "ALL" in words[1:]:
        reason = "DISCARD ALL resets the settings that keep the session read-only"
    elif head == "VACUUM" and "INTO" in words[1:]:
        reason = "VACUUM INTO writes a new database file"
    elif head == "COPY":
        reason = _copy_words(words, tokens)
    else:
        reason = _COMMANDS.get(head)
    if reason:
        return reason
    if head in TRANSACTION_HEADS:
        return None if parsed or is_transaction_statement(statement) else _not_understood(statement)
    if not parsed:
        return _not_understood(statement)
    if head == "EXPLAIN":
        return _inner(tokens, _explained(tokens), sql, dialect)
    if head == "PREPARE":
        return None if words[1:2] == ["TRANSACTION"] else _inner(tokens, _after(words, "AS"), sql, dialect)
    if head == "DECLARE":
        return _inner(tokens, _after(words, "FOR"), sql, dialect)
    if head in ("SET", "RESET") or head in _SERVER_ENFORCED:
        return _function_tokens(tokens)
    return _not_understood(statement)


def _top_words(tokens: Sequence[Token]) -> list[str]:
    """Upper-cased words, with those inside parentheses blanked (a subquery's FROM is not COPY's)."""
    words, depth = [], 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        words.append(token.text.upper() if depth == 0 and token.token_type != TokenType.STRING else "")
    return words


def _not_understood(statement: Parsed) -> str:
    if statement.error:
        return f"statement not understood {statement.error}, so it cannot be checked"
    return NOT_UNDERSTOOD


def _transaction_mode(tokens: Sequence[Token]) -> str | None:
    """BEGIN/START TRANSACTION/SET TRANSACTION/SET SESSION CHARACTERISTICS ... READ WRITE."""
    words = _top_words(tokens)
    if not any(words[i] == "READ" and words[i + 1] == "WRITE" for i in range(1, len(words) - 1)):
        return None
    if words[0] == "BEGIN":
        return "BEGIN READ WRITE makes the transaction writable"
    if words[0] == "START":
        return "START TRANSACTION READ WRITE makes the transaction writable"
    if "CHARACTERISTICS" in words:
        return "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE makes later transactions writable"
    if "TRANSACTION" in words:
        return "SET TRANSACTION READ WRITE makes the transaction writable"
    return None


def _setting(tokens: Sequence[Token]) -> str | None:
    """SET of a setting behind read-only (any case, quoted or not), SET ROLE, SET SESSION AUTHORIZATION."""
    words = [t.text.lower() for t in tokens if t.token_type != TokenType.STRING]
    for name in words[1:]:
        if name in GOVERNING_SETTINGS:
            return f"SET {name} could make the session writable"
    rest = [w for w in words[1:4] if w not in ("session", "local")]
    if rest[:1] == ["role"]:
        return "SET ROLE changes the role the session runs as"
    if rest[:1] == ["authorization"] or "session_authorization" in words:
        return "SET SESSION AUTHORIZATION changes the role the session runs as"
    return None


def _reset(tokens: Sequence[Token]) -> str | None:
    words = [t.text.lower() for t in tokens[1:3]]
    if words[:1] == ["all"] or words[:1] and words[0] in GOVERNING_SETTINGS:
        return f"RESET {words[0] if words[0] != 'all' else 'ALL'} could make the session writable"
    if words[:1] == ["role"] or words == ["session", "authorization"] or words[:1] == ["session_authorization"]:
        return "RESET ROLE changes the role the session runs as"
    return None


def _copy_words(words: list[str], tokens: Sequence[Token]) -> str | None:
    """COPY that sqlglot kept as words: the same verdicts as :func:`_copy`."""
    if "FROM" in words:
        return "COPY … FROM PROGRAM runs a shell command on the server" if "PROGRAM" in words else "COPY … FROM writes rows into a table"
    if "TO" in words:
        at = words.index("TO") + 1
        after = tokens[at] if at < len(tokens) else None
        if after is not None and after.text.upper() == "PROGRAM":
            return "COPY … TO PROGRAM runs a shell command on the server"
        if after is None or after.text.upper() != "STDOUT":
            return "COPY … TO a file writes a file on the server"
    return _function_tokens(tokens)


def _function_tokens(tokens: Sequence[Token]) -> str | None:
    """Function calls among a command's tokens: a name followed by ``(``."""
    for i in range(len(tokens) - 1):
        if tokens[i + 1].token_type != TokenType.L_PAREN:
            continue
        name = tokens[i].text.lower()
        if name == "set_config":
            first = tokens[i + 2] if i + 2 < len(tokens) else None
            reason = _set_config(first.text if first is not None and first.token_type == TokenType.STRING else None)
        else:
            reason = _function_reason(name)
        if reason:
            return reason
    return None


def _explained(tokens: Sequence[Token]) -> int:
    """Where the statement after EXPLAIN and its options starts."""
    i = 1
    while i < len(tokens):
        word = tokens[i].text.upper()
        if word in ("ANALYZE", "ANALYSE", "VERBOSE", "QUERY", "PLAN"):
            i += 1
        elif tokens[i].token_type == TokenType.L_PAREN:
            depth = 0
            while i < len(tokens):
                depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tokens[i].token_type, 0)
                i += 1
                if depth == 0:
                    break
        else:
            break
    return i


def _after(words: list[str], keyword: str) -> int:
    return words.index(keyword) + 1 if keyword in words else len(words)


def _inner(tokens: Sequence[Token], start: int, sql: str, dialect: str) -> str | None:
    """The verdict on the statement inside EXPLAIN, PREPARE or DECLARE (it runs, now or later)."""
    inner = tokens[start:]
    if not inner:
        return NOT_UNDERSTOOD
    return escape(parse_tokens(inner, sql, dialect), sql, dialect)


__all__ = ["first_escape", "escape", "NOT_UNDERSTOOD", "GOVERNING_SETTINGS", "ROLE_SETTINGS"]
