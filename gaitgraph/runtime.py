"""Process-wide settings of the training and benchmark processes."""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of handing it back to the kernel.

    Every training batch allocates tens of MB of input features and activations. By default glibc
    serves blocks that large with fresh ``mmap`` pages and unmaps them when they are freed, so every
    batch pays the page faults and the kernel's zeroing again (``build_input`` on 768 x 60 x 17 poses:
    27 ms -> 9 ms on one core with this setting). The effect is that of
    ``GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=...``, set at run time.
    The price: the process keeps its peak heap. Returns whether it took effect (False off glibc, or
    with ``GAITGRAPH_KEEP_FREED_MEMORY=0``).
    """
    if os.environ.get("GAITGRAPH_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False
