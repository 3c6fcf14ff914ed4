"""Settings: one model of nested sections, read from a TOML file, ``AISHELL_*`` env and CLI flags.

Precedence (lowest to highest): defaults, ``config.toml`` in the config dir, environment
variables (``AISHELL_POOL__MAX_SIZE=20`` sets ``pool.max_size``), explicit overrides. The model
is passed explicitly into engine constructors; nothing deep inside reads globals.

>>> s = Settings.load(env={"AISHELL_POOL__MAX_SIZE": "20"}, home=None, read_file=False)
>>> s.pool.max_size
20

A value that cannot be used stops loading with one line that names the setting, the value and
where it came from (unknown names too: a typo is never silently ignored):

>>> Settings.load(env={"AISHELL_POOL__MAX_SIZE": "abc"}, home=None, read_file=False)
Traceback (most recent call last):
...
aishell.engine.errors.ConfigurationError: AISHELL_POOL__MAX_SIZE: pool.max_size = 'abc': not an integer
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from aishell.engine.errors import ConfigurationError
from aishell.engine.profiles import Profile, parse_profiles

ENV_PREFIX = "AISHELL_"
APP_NAME = "aishell"


@dataclass(slots=True)
class PoolSettings:
    """Connection pool sizing, recycling and fault handling."""

    enabled: bool = True
    """Use the pool for every statement (off: one plain connection)."""
    min_size: int = 1
    """Connections kept open even when idle."""
    max_size: int = 10
    """Upper bound on open connections; demand beyond it waits."""
    acquire_timeout: float = 10.0
    """Seconds a caller waits for a free connection before a PoolTimeout."""
    max_lifetime: float = 3600.0
    """Seconds after which a connection is closed and replaced on release."""
    max_uses: int = 50_000
    """Statements after which a connection is recycled."""
    idle_timeout: float = 300.0
    """Seconds an idle connection above min_size is kept."""
    statement_timeout: float = 0.0
    """Server-side statement timeout in seconds (0: none)."""
    health_check_interval: float = 30.0
    """Seconds between cheap checks of idle connections."""
    breaker_threshold: int = 5
    """Consecutive connection failures that open the circuit breaker."""
    breaker_backoff: float = 1.0
    """Seconds the breaker stays open before letting one attempt through."""
    latency_window: int = 1024
    """Acquisitions kept for the latency percentiles."""


@dataclass(slots=True)
class CacheSettings:
    """Query-result cache bounds and time to live."""

    enabled: bool = True
    """Serve repeated read-only statements from the cache."""
    max_entries: int = 1024
    """Entries kept before the least recently used is evicted."""
    max_bytes: int = 64 * 1024 * 1024
    """Approximate bytes of cached rows before eviction."""
    default_ttl: float = 30.0
    """Seconds an entry lives by default."""
    min_ttl: float = 5.0
    """Lower bound for the adaptive TTL."""
    max_ttl: float = 600.0
    """Upper bound for the adaptive TTL (slow, rarely invalidated queries)."""
    max_rows: int = 10_000
    """Results with more rows than this are not cached."""
    schema_poll_interval: float = 2.0
    """Seconds between cheap checks for schema changes made by other clients (0: never)."""
    prefetch: bool = False
    """Prefetch: after a read, run the statement that usually follows it on this database (learned
    from memory) in the background into this cache, and at connect warm it with the most repeated
    reads. Only deterministic reads without parameters, planned under ``prefetch_max_cost``, on a
    read-only connection of its own; never inside an open transaction. A result waits
    ``default_ttl`` seconds at most and is served once; a write of this session to a table it
    read drops it. PostgreSQL and SQLite files (WAL) only."""
    prefetch_max_cost: float = 10_000.0
    """Most a statement may cost to be prefetched, in PostgreSQL's cost units (EXPLAIN's total
    cost; about a sequential scan of 400,000 rows). On SQLite the rows its plan reads count
    0.025 each (full scans times each loop's rows)."""
    prefetch_timeout: float = 2.0
    """Seconds a prefetched statement may run before the server stops it."""
    prefetch_warm: int = 5
    """Most repeated cheap reads run at connect to warm the cache (0: none)."""


@dataclass(slots=True)
class AnalyzerSettings:
    """Query analysis and index advice."""

    large_table_rows: int = 10_000
    """Row estimate above which a table counts as large."""
    deep_offset: int = 1_000
    """OFFSET from which pagination is reported as deep."""
    min_cost_reduction: float = 0.5
    """Share of plan cost an index must save to be advised (Dexter's default)."""
    cache_size: int = 4096
    """Analyses kept, keyed by normalized fingerprint."""
    disabled_rules: str = ""
    """Rule codes not to report, comma-separated (e.g. ``"AS001,AS008"``); AS000 always is.
    A ``-- noqa`` / ``-- noqa: AS004`` comment silences findings on its own line."""
    regression_factor: float = 3.0
    """A run this many times slower than its statement shape's median raises a regression alert
    in the Suggestions pane (0 turns the alerts off)."""
    regression_min_gap_ms: float = 50.0
    """…and at least this many milliseconds slower: a 2 ms query taking 8 ms is noise."""
    regression_min_runs: int = 3
    """Earlier runs of the shape needed before its median counts as usual."""
    regression_plan_ms: float = 20.0
    """Runs at least this long have their plan read (EXPLAIN, not ANALYZE) and kept (the last
    fast and last slow plan of each shape, in ``plans.db`` beside memory, across restarts), so a
    regression alert shows the plan of the last fast run beside this one's."""


@dataclass(slots=True)
class MemorySettings:
    """The record of every statement run, and how it is searched."""

    enabled: bool = True
    """Record statements executed through the Session."""
    ignore_space: bool = True
    """Statements starting with a space are not recorded (like HISTCONTROL=ignorespace)."""
    embedder: str = "hashing"
    """Embedder: 'hashing' (instant, no model) or 'minilm' (needs the minilm extra)."""
    ivf_threshold: int = 50_000
    """Entries from which an IVF index is trained and swapped in."""
    max_entries: int = 1_000_000
    """Entries kept before pruning the least important."""
    prune_interval: float = 600.0
    """Seconds between background pruning/consolidation passes."""
    half_life_days: float = 30.0
    """Age at which an entry's recency weight halves."""
    weight_vector: float = 0.45
    """Weight of vector similarity in the ranking."""
    weight_text: float = 0.30
    """Weight of FTS5 BM25 text match."""
    weight_recency: float = 0.10
    """Weight of recency."""
    weight_frequency: float = 0.08
    """Weight of how often the statement's shape ran."""
    weight_success: float = 0.04
    """Weight of the shape's success rate."""
    weight_same_db: float = 0.03
    """Boost for entries from the current database."""
    max_runs_per_statement: int = 100
    """Runs kept per distinct statement; older ones fold into its counters when consolidating."""
    synchronous: str = "normal"
    """SQLite synchronous mode for the memory file: 'normal' (survives a crash of aishell) or
    'full' (also survives power loss, at an fsync a statement)."""


@dataclass(slots=True)
class UISettings:
    """The workbench."""

    theme: str = "aishell-dark"
    """Theme name (built-in or a file in the config dir's themes/)."""
    page_size: int = 500
    """Rows fetched a page from a result stream."""
    analyze_debounce: float = 0.25
    """Seconds after the last keystroke before the suggestions update."""
    metrics_interval: float = 0.5
    """Seconds between metrics refreshes."""
    cursor_rest: float = 10.0
    """Seconds without a key or click after which the text cursor stops blinking (it blinks
    again at the next one): an idle workbench writes nothing to its terminal. 0: never blinks."""
    confirm_destructive: bool = True
    """Ask before DROP, TRUNCATE, DELETE/UPDATE without WHERE."""
    release_result_after: float = 30.0
    """Seconds a result may wait, partly read, for the grid to ask for more rows before its
    cursor is closed and its transaction released (the rows already loaded stay; more need a
    re-run). An open cursor holds a snapshot on the server, which keeps vacuum from removing
    old rows. 0: never release."""
    run_all: str = "statements"
    """How Run all (F6) and ``\\i`` run several statements: ``statements`` one by one, stopping
    at the first error (psql's ON_ERROR_STOP), or ``transaction``, all in one that is rolled back
    on error (psql's ``--single-transaction``). Shift-F6 switches it for the session."""


@dataclass(slots=True)
class SSHSettings:
    """SSH tunnels (``--ssh``, a profile's ``ssh``): where OpenSSH's files are."""

    config_file: str = "~/.ssh/config"
    """OpenSSH client configuration read for Host aliases, User, Port, IdentityFile, ProxyJump
    ("" reads none)."""
    known_hosts: str = "~/.ssh/known_hosts"
    """Host keys trusted; a key that changed is refused, an unknown one asked about (the TUI)
    or refused (the CLI) unless ``accept_new_host_keys``; an accepted key is added here."""
    accept_new_host_keys: bool = False
    """Trust a host seen for the first time without asking (OpenSSH's accept-new)."""
    connect_timeout: float = 10.0
    """Seconds to reach the SSH server (each hop)."""
    keepalive_interval: float = 15.0
    """Seconds between keepalives, so a dead tunnel is noticed (0: none)."""


@dataclass(slots=True)
class Settings:
    """Everything configurable; sections mirror the engine's parts."""

    pool: PoolSettings = field(default_factory=PoolSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    ui: UISettings = field(default_factory=UISettings)
    ssh: SSHSettings = field(default_factory=SSHSettings)
    connections: dict[str, Profile] = field(default_factory=dict)
    """Saved connections by name, ``[connections.NAME]`` (see :mod:`aishell.engine.profiles`)."""
    keys: dict[str, str] = field(default_factory=dict)
    """Key remapping by binding id, e.g. ``{"run_statement": "f9"}``."""
    read_only: bool = False
    """Open sessions read-only (enforced by the server session)."""
    data_dir: Path = field(default_factory=lambda: data_dir())
    """Where the demo database and memory live."""
    config_dir: Path = field(default_factory=lambda: config_dir())
    """Where config.toml and user themes live."""

    @classmethod
    def load(
        cls,
        *,
        env: Mapping[str, str] | None = None,
        home: str | None | object = ...,
        read_file: bool = True,
        overrides: Mapping[str, Any] | None = None,
    ) -> "Settings":
        """Build settings from defaults, the TOML file, the environment and overrides.

        Raises ConfigurationError (one line: where, which setting, what is wrong) for a file that
        cannot be read or is not TOML, an unknown section or key, a value of the wrong type and
        a number out of range.
        """
        env = os.environ if env is None else env
        if home is ...:
            home = env.get("AISHELL_HOME")
        settings = cls()
        if home:
            settings.data_dir = Path(home).expanduser() / "data"
            settings.config_dir = Path(home).expanduser() / "config"
        if read_file:
            path = settings.config_dir / "config.toml"
            if path.exists():
                _apply(settings, _read_toml(path), str(path))
        for variable, values in _from_env(env):
            _apply(settings, values, variable)
        if overrides:
            _apply(settings, overrides, "command line")
        _check_pairs(settings)
        return settings

    @property
    def demo_db_path(self) -> Path:
        return self.data_dir / "demo.db"

    @property
    def memory_path(self) -> Path:
        return self.data_dir / "memory.db"


ConfigError = ConfigurationError
"""The settings' error is the error root's ConfigurationError (same class, older name)."""


def data_dir() -> Path:
    home = os.environ.get("AISHELL_HOME")
    if home:
        return Path(home).expanduser() / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    home = os.environ.get("AISHELL_HOME")
    if home:
        return Path(home).expanduser() / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def private_dirs() -> None:
    """Narrow AISHELL_HOME (when set), the data dir and the config dir to 0700 where they exist:
    every file AIShell writes lives under one of them (writers create missing ones 0700)."""
    from aishell.engine.files import private_dir

    home = os.environ.get("AISHELL_HOME")
    for path in ([Path(home).expanduser()] if home else []) + [data_dir(), config_dir()]:
        if path.is_dir():
            private_dir(path)


_AT_LEAST: dict[str, float] = {
    "pool.max_size": 1,
    "pool.max_uses": 1,
    "pool.breaker_threshold": 1,
    "pool.latency_window": 1,
    "cache.max_entries": 1,
    "cache.max_bytes": 1,
    "analyzer.cache_size": 1,
    "memory.max_entries": 1,
    "memory.max_runs_per_statement": 1,
    "ui.page_size": 1,
}
"""Lowest usable value of the numbers that need one; every other number only has to be >= 0."""

_ABOVE_ZERO = frozenset({"memory.half_life_days", "cache.prefetch_timeout"})
"""Numbers that must be greater than zero (a zero would divide)."""

_CHOICES: dict[str, tuple[str, ...]] = {"memory.synchronous": ("normal", "full"), "ui.run_all": ("statements", "transaction")}

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


_ORDERED = (("pool.min_size", "pool.max_size"), ("cache.min_ttl", "cache.max_ttl"))
"""Pairs whose first value must not exceed the second, whichever layers set them."""


def _check_pairs(settings: Settings) -> None:
    for low, high in _ORDERED:
        low_value, high_value = (_lookup(settings, name) for name in (low, high))
        if low_value > high_value:
            raise ConfigurationError(f"settings: {low} = {low_value!r} is above {high} = {high_value!r}")


def _lookup(settings: Settings, name: str) -> Any:
    section, key = name.split(".")
    return getattr(getattr(settings, section), key)


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; ConfigurationError for one that cannot be read or is not TOML (with the line
    and column tomllib reports)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None


def _from_env(env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """``(variable, values)`` for each ``AISHELL_*`` variable that names a setting, each applied
    on its own so an error names the variable. A name with ``__`` is a section's setting
    (``AISHELL_POOL__MAX_SIZE``); other single names are settings only when the model has them
    (``AISHELL_READ_ONLY``), so scripts can keep variables of their own under the prefix."""
    top = {f.name for f in dataclasses.fields(Settings)}
    found = []
    for key, value in sorted(env.items()):
        if not key.startswith(ENV_PREFIX) or key == "AISHELL_HOME" or key.startswith("AISHELL_TEST_"):
            continue
        parts = key[len(ENV_PREFIX):].lower().split("__")
        if len(parts) == 1 and parts[0] not in top:
            continue
        values: Any = value
        for part in reversed(parts):
            values = {part: values}
        found.append((key, values))
    return found


def _apply(target: Any, values: Mapping[str, Any], source: str, prefix: str = "") -> None:
    hints = typing.get_type_hints(type(target))
    names = [f.name for f in dataclasses.fields(target)]
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key not in names:
            import difflib  # only for the message

            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else f" (known: {', '.join(prefix + n for n in names)})"
            raise ConfigurationError(f"{source}: unknown setting {name}{hint}")
        current = getattr(target, key)
        if name == "connections":
            current.update(parse_profiles(value, source))
        elif dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise ConfigurationError(f"{source}: {name} = {value!r}: must be a section ([{name}])")
            _apply(current, value, source, f"{name}.")
        elif isinstance(current, dict):
            if not isinstance(value, Mapping):
                raise ConfigurationError(f"{source}: {name} = {value!r}: must be a table ([{name}])")
            current.update(_flat_strings(value, name, source))
        else:
            setattr(target, key, _coerce(value, hints[key], name, source))


def _flat_strings(table: Mapping[str, Any], name: str, source: str, prefix: str = "") -> dict[str, str]:
    """A table of strings, nested tables joined with dots (``main.run = "f9"`` in TOML is a
    nested table: the binding id ``main.run``)."""
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flat_strings(value, name, source, f"{prefix}{key}."))
        elif isinstance(value, str):
            flat[f"{prefix}{key}"] = value
        else:
            raise ConfigurationError(f"{source}: {name}.{prefix}{key} = {value!r}: not a string")
    return flat


def _coerce(value: Any, hint: Any, name: str, source: str) -> Any:
    """``value`` as the field's type, within its bounds; ConfigurationError naming it otherwise.

    Strings (environment) are parsed; TOML values must already have the right type, except that
    an integer is also a float. A bool is never taken for a number.
    """

    def refuse(problem: str) -> ConfigurationError:
        return ConfigurationError(f"{source}: {name} = {value!r}: {problem}")

    text = value.strip() if isinstance(value, str) else None
    if hint is bool:
        if isinstance(value, bool):
            return value
        if text is not None and text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise refuse("not a boolean (true or false)")
    if hint is str:
        if text is None:
            raise refuse("not a string")
        choices = _CHOICES.get(name)
        if choices and value not in choices:
            raise refuse(f"not one of {', '.join(choices)}")
        return value
    if hint is Path:
        if not text:
            raise refuse("not a path")
        return Path(value).expanduser()
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            number: Any = value
        else:
            try:
                number = int(text) if text is not None else None
            except ValueError:
                number = None
            if number is None:
                raise refuse("not an integer")
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(text) if text is not None else None
            except ValueError:
                number = None
            if number is None:
                raise refuse("not a number")
        if not math.isfinite(number):
            raise refuse("not a finite number")
    else:
        return value
    if name in _ABOVE_ZERO and number <= 0:
        raise refuse("must be greater than 0")
    least = _AT_LEAST.get(name, 0)
    if number < least:
        raise refuse(f"must be at least {least:g}")
    return number
