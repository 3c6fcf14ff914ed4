"""The version check the compat modules share: is the installed release one we tested?

>>> release("0.32.0"), release("0.22.1"), release("1.0.0rc1")
((0, 32), (0, 22), (1, 0))
>>> in_range("0.32.0", ((0, 30), (0, 33))), in_range("0.33.0", ((0, 30), (0, 33)))
(True, False)
"""

from __future__ import annotations

import logging

_warned: set[str] = set()


def release(text: str) -> tuple[int, int]:
    """The (major, minor) of a version string."""
    major, minor = (text.split(".") + ["0"])[:2]
    return int("".join(ch for ch in major if ch.isdigit()) or 0), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def in_range(version: str, tested: tuple[tuple[int, int], tuple[int, int]]) -> bool:
    """``version`` is within ``tested``: from the first (included) to the second (excluded)."""
    return tested[0] <= release(version) < tested[1]


def installed(distribution: str) -> str:
    """The installed version of ``distribution`` ('' when it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return ""


def usable(library: str, tested: tuple[tuple[int, int], tuple[int, int]], gone: list[str]) -> bool:
    """Whether ``library``'s internals may be used: its installed release is within ``tested``
    and none of the private names a shim needs is ``gone``. When not, one warning names the
    library, its version and why, and the shim takes the public API."""
    version = installed(library)
    if in_range(version, tested) and not gone:
        return True
    why = f"lacks {', '.join(gone)}" if gone else "is outside the tested range"
    (low_major, low_minor), (high_major, high_minor) = tested
    warn_once(library, f"{library} {version} {why} (tested: >={low_major}.{low_minor},<{high_major}.{high_minor}): using its public API, slower")
    return False


def warn_once(library: str, message: str) -> None:
    """Log ``message`` the first time ``library`` falls back to its public API, never again."""
    if library not in _warned:
        _warned.add(library)
        logging.getLogger("aishell.engine.compat").warning(message)
