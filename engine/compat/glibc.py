"""glibc's allocator, set up for a process that frees large arrays over and over (a memory import).

glibc serves an allocation of 128 KB or more with its own ``mmap``, returned to the system on
free, but raises that threshold to the size of each such block freed (up to 32 MB): after the
first batch's arrays are freed, the next batches' come from the heap, whose freed pages mostly
stay in the process. Each thread that allocates may also get an arena of its own. A fixed
threshold and two arenas kept an import of 100,000 statements at 424 MB peak RSS instead of 492.

``mallopt`` is glibc's public interface; on another C library (musl) nothing changes.

>>> isinstance(return_large_blocks(), bool)
True
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def return_large_blocks(threshold: int = 1 << 20, arenas: int = 2) -> bool:
    """Serve blocks of ``threshold`` bytes or more by ``mmap`` (given back when freed) and use
    at most ``arenas`` heaps, for the rest of this process. True when glibc took both."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(mallopt(M_ARENA_MAX, arenas))
