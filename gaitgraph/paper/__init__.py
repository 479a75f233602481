"""Paper tables: published numbers as data (``published``) and our runs beside them (``tables``)."""

from gaitgraph.paper.published import PUBLISHED, Published, published
from gaitgraph.paper.tables import build_paper_tables

__all__ = ["PUBLISHED", "Published", "published", "build_paper_tables"]
