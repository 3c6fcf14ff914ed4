"""Settings: one model of nested sections, read from a TOML file, ``AISHELL_*`` env and CLI flags.

Precedence (lowest to highest): defaults, ``config.toml`` in the config dir, environment
variables (``AISHELL_POOL__MAX_SIZE=20`` sets ``pool.max_size``), explicit overrides. The model
is passed explicitly into engine constructors; nothing deep inside reads globals.

>>> s = Settings.load(env={"AISHELL_POOL__MAX_SIZE": "20"}, home=None, read_file=False)
>>> s.pool.max_size
20
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

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
    confirm_destructive: bool = True
    """Ask before DROP, TRUNCATE, DELETE/UPDATE without WHERE."""


@dataclass(slots=True)
class Settings:
    """Everything configurable; sections mirror the engine's parts."""

    pool: PoolSettings = field(default_factory=PoolSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    ui: UISettings = field(default_factory=UISettings)
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

        Raises ConfigError for a malformed file or a value of the wrong type.
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
            if path.is_file():
                try:
                    _apply(settings, tomllib.loads(path.read_text()), str(path))
                except tomllib.TOMLDecodeError as exc:
                    raise ConfigError(f"{path}: {exc}") from None
        _apply(settings, _from_env(env), "environment")
        if overrides:
            _apply(settings, overrides, "command line")
        return settings

    @property
    def demo_db_path(self) -> Path:
        return self.data_dir / "demo.db"

    @property
    def memory_path(self) -> Path:
        return self.data_dir / "memory.db"


class ConfigError(ValueError):
    """A settings value could not be used."""


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


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key == "AISHELL_HOME" or key.startswith("AISHELL_TEST_"):
            continue
        parts = key[len(ENV_PREFIX):].lower().split("__")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return tree


def _apply(target: Any, values: Mapping[str, Any], source: str) -> None:
    hints = typing.get_type_hints(type(target))
    names = {f.name for f in dataclasses.fields(target)}
    for key, value in values.items():
        if key not in names:
            continue  # unknown keys are ignored so old config files keep working
        current = getattr(target, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: [{key}] must be a table, got {value!r}")
            _apply(current, value, source)
        elif isinstance(current, dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: {key} must be a table, got {value!r}")
            current.update({str(k): str(v) for k, v in value.items()})
        else:
            setattr(target, key, _coerce(value, hints[key], f"{source}: {key}"))


def _coerce(value: Any, hint: Any, where: str) -> Any:
    try:
        if hint is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if hint in (int, float, str):
            return hint(value)
        if hint is Path:
            return Path(value).expanduser()
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: cannot use {value!r} as {getattr(hint, '__name__', hint)}") from None
    return value
