"""Paper tables: published numbers as data (``published``) and our runs beside them (``tables``).

The names are imported on first use, so that ``python -m gaitgraph.paper.tables`` does not find its
own module already imported (runpy's warning on stderr).
"""

import importlib

__all__ = ["PUBLISHED", "Published", "build_paper_tables"]  # the function `published`: from gaitgraph.paper.published
_HOME = {"PUBLISHED": "published", "Published": "published", "build_paper_tables": "tables"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'gaitgraph.paper' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gaitgraph.paper.{_HOME[name]}"), name)
