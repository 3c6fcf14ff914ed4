"""Private files: every file AIShell writes is mode 0600 in a 0700 directory.

Files are created with their final mode (never created wide and narrowed later) and replaced
atomically, so a reader sees the old content or the new, and nobody else can read either:

>>> import tempfile, pathlib
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> write_private(home / "data" / "buffers.json", '{"buffers": []}')
>>> oct((home / "data").stat().st_mode & 0o777), oct((home / "data" / "buffers.json").stat().st_mode & 0o777)
('0o700', '0o600')
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a directory only its owner can enter: missing directories (parents included)
    are created 0700, and ``path`` itself is narrowed to 0700 when it is wider and ours."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it between our check and mkdir
            pass
    _narrow(path, DIR_MODE)
    return path


def private_file(path: str | os.PathLike[str]) -> Path:
    """``path`` exists as a 0600 file in a private directory (created empty when missing, narrowed
    when wider), so a library that opens it later (SQLite, logging) never creates it wide."""
    path = Path(path)
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    except FileExistsError:
        _narrow(path, FILE_MODE)
    return path


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open` that creates files 0600 (and narrows one that exists)."""
    fd = os.open(path, flags, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & ~FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except OSError:
        pass
    return fd


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str], mode: str = "w", **kwargs) -> Iterator[IO]:
    """Write ``path`` atomically: a private file beside it, flushed to disk, then renamed over it;
    on error the partial file is removed and ``path`` is untouched."""
    path = Path(path)
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with open(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_private(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace ``path`` with ``data`` atomically, as a 0600 file in a 0700 directory."""
    if isinstance(data, str):
        with replacing(path, "w", encoding="utf-8") as handle:
            handle.write(data)
    else:
        with replacing(path, "wb") as handle:
            handle.write(data)


def _narrow(path: Path, mode: int) -> None:
    """Take group and other bits off ``path`` if we own it (a shared dir we do not own is left)."""
    try:
        info = path.stat()
        if info.st_mode & 0o077 and info.st_uid == os.geteuid():
            os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    except OSError:
        pass


__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "private_opener", "replacing", "write_private"]
