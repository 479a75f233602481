"""Which test sequences an evaluation keeps: every one (GaitGraph2), or GaitGraph v1's.

GaitGraph v1 drops every sequence with at most ``sequence_length`` (60) frames when it builds a
dataset (``src/datasets/gait.py``: ``len(sequence) < sequence_length + 1``), and its ``src/evaluate.py``
builds the test set the same way, so its published numbers are measured without the short gallery
and probe sequences. GaitGraph2 keeps every test sequence and reflection-pads the short ones
(``gaitgraph2.md`` §3). Both are named here; ``auto`` picks each method's own.

Imports nothing heavy: the paper tables use :func:`label` in the plotting environment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SELECTIONS = ("all", "gaitgraph1")
CHOICES = ("auto", *SELECTIONS)
DESCRIPTIONS = {
    "all": "every test sequence (GaitGraph2's protocol: short sequences reflection-padded)",
    "gaitgraph1": "GaitGraph v1's protocol: sequences with at most sequence_length frames left out of gallery "
                  "and probes (src/datasets/gait.py, src/evaluate.py)",
}


@dataclass(frozen=True)
class Selection:
    """A named test-sequence selection: sequences shorter than ``min_length`` frames are left out."""

    name: str
    min_length: int

    def keep(self, lengths) -> np.ndarray:
        """Boolean mask of the sequences (by their frame counts) that are evaluated."""
        return np.asarray(lengths) >= self.min_length

    def record(self, num_total: int, num_kept: int) -> dict:
        """What ``metrics.json`` stores under ``test_set``."""
        return {"name": self.name, "min_length": self.min_length, "description": DESCRIPTIONS[self.name],
                "num_sequences_total": int(num_total), "num_left_out": int(num_total - num_kept)}


def method_default(spec) -> str:
    """Each method's own protocol: ``gaitgraph1`` for GaitGraph v1 models (L2-normalised in the model,
    or an original v1 file), ``all`` otherwise."""
    return "gaitgraph1" if spec.l2_normalize or spec.source_format == "gaitgraph1" else "all"


def selection(name: str, sequence_length: int, spec=None) -> Selection:
    """``all``, ``gaitgraph1`` (keep sequences of more than ``sequence_length`` frames) or ``auto``
    (``method_default(spec)``)."""
    if name == "auto":
        if spec is None:
            raise ValueError("test set 'auto' needs the model's spec to pick the method's own protocol")
        name = method_default(spec)
    if name not in SELECTIONS:
        raise ValueError(f"unknown test set {name!r}; choose one of {', '.join(CHOICES)}")
    return Selection(name, 1 if name == "all" else int(sequence_length) + 1)


def label(record: dict | None) -> str:
    """Short label of a ``metrics.json`` ``test_set`` record for the tables (no record: every sequence)."""
    if not record or record.get("name", "all") == "all":
        return "all"
    return f"> {int(record['min_length']) - 1} frames"
