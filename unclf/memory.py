"""Memory that the process has freed, given back to the system.

glibc's allocator keeps the blocks that NumPy and Python free for later use, and its heap
shrinks only from the top: after the features of the 460 UPR and CUAD documents were built,
the training process held 280-350 MB that it had freed, and the fits then grew on top of
them. ``malloc_trim`` returns such memory (as Dask's workers do); elsewhere than glibc this
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

__all__ = ["release_free_memory"]


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc
        return None


def release_free_memory() -> None:
    """Return the freed memory of this process to the system, where the C library can."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
