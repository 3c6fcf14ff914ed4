"""Settings that cannot be used are refused in one line naming where, which setting and the value;
what can be used is taken as written. The error is the error root's ConfigurationError."""

from __future__ import annotations

from pathlib import Path

import pytest

from aishell.engine.config import ConfigError, Settings
from aishell.engine.errors import AishellError, ConfigurationError


def load(tmp_path: Path, toml: str | None = None, **env: str) -> Settings:
    if toml is not None:
        (tmp_path / "config").mkdir(exist_ok=True)
        (tmp_path / "config" / "config.toml").write_text(toml)
    return Settings.load(env={"AISHELL_HOME": str(tmp_path), **env})


@pytest.mark.parametrize(
    "toml, env, message",
    [
        (None, {"AISHELL_POOL__MAX_SIZE": "abc"}, "AISHELL_POOL__MAX_SIZE: pool.max_size = 'abc': not an integer"),
        (None, {"AISHELL_POOL__MAX_SIZE": "0"}, "AISHELL_POOL__MAX_SIZE: pool.max_size = '0': must be at least 1"),
        (None, {"AISHELL_POOL__ACQUIRE_TIMEOUT": "-2"}, "pool.acquire_timeout = '-2': must be at least 0"),
        (None, {"AISHELL_POOL__ACQUIRE_TIMEOUT": "inf"}, "pool.acquire_timeout = 'inf': not a finite number"),
        (None, {"AISHELL_MEMORY__HALF_LIFE_DAYS": "0"}, "memory.half_life_days = '0': must be greater than 0"),
        (None, {"AISHELL_CACHE__ENABLED": "maybe"}, "cache.enabled = 'maybe': not a boolean"),
        (None, {"AISHELL_READ_ONLY": "2"}, "AISHELL_READ_ONLY: read_only = '2': not a boolean"),
        (None, {"AISHELL_POOL__MAXSIZE": "3"}, "AISHELL_POOL__MAXSIZE: unknown setting pool.maxsize (did you mean pool.max_size?)"),
        (None, {"AISHELL_NOSUCH__X": "3"}, "AISHELL_NOSUCH__X: unknown setting nosuch (known: pool, cache,"),
        (None, {"AISHELL_POOL": "3"}, "AISHELL_POOL: pool = '3': must be a section ([pool])"),
        ("[pool]\nmin_size = 4\n", {"AISHELL_POOL__MAX_SIZE": "2"}, "settings: pool.min_size = 4 is above pool.max_size = 2"),
        ("[cache]\nmin_ttl = 60\nmax_ttl = 30\n", {}, "settings: cache.min_ttl = 60.0 is above cache.max_ttl = 30.0"),
        ("[pool]\nmax_size = 'many'\n", {}, "config.toml: pool.max_size = 'many': not an integer"),
        ("[pool]\nmax_size = 2.5\n", {}, "config.toml: pool.max_size = 2.5: not an integer"),
        ("[pool]\nmax_size = true\n", {}, "config.toml: pool.max_size = True: not an integer"),
        ("[cache]\nenabled = 1\n", {}, "config.toml: cache.enabled = 1: not a boolean"),
        ("[ui]\ntheme = 5\n", {}, "config.toml: ui.theme = 5: not a string"),
        ("[memory]\nsynchronous = 'off'\n", {}, "memory.synchronous = 'off': not one of normal, full"),
        ("[cache]\nmax_bytes = -1\n", {}, "config.toml: cache.max_bytes = -1: must be at least 1"),
        ("[pools]\nmax_size = 3\n", {}, "config.toml: unknown setting pools (did you mean pool?)"),
        ("[pool]\nmax_sise = 3\n", {}, "config.toml: unknown setting pool.max_sise (did you mean pool.max_size?)"),
        ("pool = 3\n", {}, "config.toml: pool = 3: must be a section ([pool])"),
        ("[keys]\n'main.run' = 9\n", {}, "config.toml: keys.main.run = 9: not a string"),
        ("[pool]\nmax_size = 4\n[pool]\n", {}, "config.toml: not valid TOML: Cannot declare ('pool',) twice (at line 3, column 6)"),
        ("[pool\n", {}, "(at line 1, column 6)"),
    ],
)
def test_refused_in_one_line(tmp_path, toml, env, message):
    with pytest.raises(ConfigurationError) as caught:
        load(tmp_path, toml, **env)
    text = str(caught.value)
    assert message in text and "\n" not in text
    if toml is not None and not text.startswith("settings:"):
        assert text.startswith(str(tmp_path / "config" / "config.toml"))


def test_unreadable_file_is_refused(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_bytes(b"[pool]\nmax_size = 3 # \xff\n")
    with pytest.raises(ConfigurationError, match="config.toml: not UTF-8 text"):
        load(tmp_path)
    (tmp_path / "config" / "config.toml").unlink()
    (tmp_path / "config" / "config.toml").mkdir()
    with pytest.raises(ConfigurationError, match="config.toml: cannot read: Is a directory"):
        load(tmp_path)


def test_usable_values_are_taken(tmp_path):
    s = load(
        tmp_path,
        "[pool]\nacquire_timeout = 3\nmax_size = '12'\n[keys]\nmain.run = 'f9'\n'app.quit' = 'ctrl+x'\n",
        AISHELL_CACHE__ENABLED=" Off ",
        AISHELL_POOL__MIN_SIZE="0",
        AISHELL_TPCH_DIR="/somewhere",  # not a setting: scripts keep their own variables under the prefix
        AISHELL_TEST_PG_URL="postgresql://x",
    )
    assert s.pool.acquire_timeout == 3.0 and isinstance(s.pool.acquire_timeout, float)
    assert s.pool.max_size == 12 and s.pool.min_size == 0 and not s.cache.enabled
    assert s.keys == {"main.run": "f9", "app.quit": "ctrl+x"}


def test_one_error_class_in_the_root():
    assert ConfigError is ConfigurationError and issubclass(ConfigError, AishellError)
