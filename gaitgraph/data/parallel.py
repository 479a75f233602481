"""Read many sequence folders in order, in worker processes when the tree is big enough to pay off.

Shared by the readers of per-frame file trees (OUMVLP-Pose JSON, Gait3D and GREW text files).
Spawning workers costs ~0.7 s, and one process reads ~15,000 small files per second, so trees with
fewer than ``POOL_MIN_SEQUENCES`` folders are read in this process.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from gaitgraph.process_settings import die_with_parent

POOL_MIN_SEQUENCES = 1000


def map_folders(read, folders: list, workers: int | None, progress: bool, desc: str = "read"):
    """Yield ``read(folder)`` for every folder, in order.

    ``read`` must be picklable (a module-level function or a ``functools.partial`` of one) when
    ``workers`` > 1 (default: CPU count, at most 8). A progress bar counts folders on a terminal.
    """
    from tqdm import tqdm

    workers = min(os.cpu_count() or 1, 8) if workers is None else workers
    bar = tqdm(total=len(folders), desc=desc, unit="seq", file=sys.stderr, disable=not progress or not sys.stderr.isatty(),
               leave=False)
    with bar:
        if workers <= 1 or len(folders) < POOL_MIN_SEQUENCES:
            for folder in folders:
                yield read(folder)
                bar.update()
            return
        # spawn, not fork: the parent may hold torch threads; the reader modules are light to import.
        # Workers die with this process (kill -9 included): they must not read on for nobody.
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                   initializer=die_with_parent, initargs=(os.getpid(),))
        try:
            for res in pool.map(read, folders, chunksize=16):
                yield res
                bar.update()
        finally:  # on an error (e.g. --strict) do not wait for the rest of the tree
            pool.shutdown(wait=True, cancel_futures=True)
