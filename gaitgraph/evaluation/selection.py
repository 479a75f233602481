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
    "all": "every test sequence (GaitGraph2's protocol); the method's test side handles the short ones "
           "(GaitGraph2 reflection-pads them, GaitMixer drops T <= 60: num_dropped_by_method)",
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


def selection(name: str, sequence_length: int | None, method_default: str | None = None) -> Selection:
    """``all``, ``gaitgraph1`` (keep sequences of more than ``sequence_length`` frames) or ``auto`` = the
    method's own protocol (``method_default``: its ``MethodSpec.test_set``)."""
    if name == "auto":
        if method_default is None:
            raise ValueError("test set 'auto' needs the method to pick its own protocol")
        name = method_default
    if name not in SELECTIONS:
        raise ValueError(f"unknown test set {name!r}; choose one of {', '.join(CHOICES)}")
    if name != "all" and sequence_length is None:
        raise ValueError(f"test set {name!r} leaves out sequences up to the model's window, but this model has none")
    return Selection(name, 1 if name == "all" else int(sequence_length) + 1)


def label(record: dict | None) -> str:
    """Short label of a ``metrics.json`` ``test_set`` record for the tables (no record: every sequence)."""
    if not record or record.get("name", "all") == "all":
        return "all"
    return f"> {int(record['min_length']) - 1} frames"
