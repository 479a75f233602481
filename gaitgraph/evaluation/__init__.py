"""Evaluation: the protocols the dataset modules declare (view-matrix rank-1, retrieval), tables, checkpoint runs.

Attributes are imported on first use, so that ``gaitgraph.evaluation.report`` and
``gaitgraph.evaluation.selection`` (used by the paper tables in the small plotting env) do not pull
in torch through ``evaluate_checkpoint``.
"""

import importlib

_EXPORTS = {
    "evaluate": "gaitgraph.evaluation.protocols",
    "evaluate_checkpoint": "gaitgraph.evaluation.evaluate_checkpoint",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gaitgraph.evaluation' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
