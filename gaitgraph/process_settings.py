"""Process-wide settings: the malloc setting of training and benchmark processes, and the death signal of
pool workers (both through libc; no effect off Linux/glibc)."""

from __future__ import annotations

import ctypes
import os
import signal
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


_PR_SET_PDEATHSIG = 1  # prctl option, from linux/prctl.h


def die_with_parent(parent_pid: int) -> bool:
    """Worker initializer: have the kernel kill this process (SIGKILL) when its parent dies.

    A pool's workers otherwise outlive a parent killed with ``kill -9`` and keep reading the input.
    The signal follows the death of the thread that started the worker, so start pools from the main
    thread. ``parent_pid``: the parent as it started the worker; if it is already gone (it died
    before ``prctl`` ran), exit now. Returns whether the kernel took the request (Linux only).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent_pid:
        os._exit(1)
    return ok
