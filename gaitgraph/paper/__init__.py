"""Tables over runs: our results beside the published numbers (``tables``; published numbers live in the
dataset modules, ``gaitgraph.datasets``).

The names are imported on first use, so that ``python -m gaitgraph.paper.tables`` does not find its
own module already imported (runpy's warning on stderr).
"""

import importlib

__all__ = ["build_paper_tables"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module 'gaitgraph.paper' has no attribute {name!r}")
    return getattr(importlib.import_module("gaitgraph.paper.tables"), name)
