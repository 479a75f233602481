"""Rank-1 evaluation: protocols (CASIA-B, OUMVLP-Pose, both conventions each), tables, checkpoint runs."""

from gaitgraph.evaluation.protocols import evaluate, evaluate_casia_b, evaluate_oumvlp
from gaitgraph.evaluation.run import evaluate_checkpoint

__all__ = ["evaluate", "evaluate_casia_b", "evaluate_oumvlp", "evaluate_checkpoint"]
