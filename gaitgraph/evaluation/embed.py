"""One embedding path: a checkpoint of any registered method + raw pose sequences -> embeddings.

:func:`load_embedder` recognises the checkpoint's method (``gaitgraph.methods.method_of``, or the name
given), loads it with the method's own reader, and returns an :class:`Embedder` whose ``embed`` runs the
method's reference test pipeline (GaitGraph2: the original pipeline and TTA, ``gaitgraph.inference``;
GaitTR, GaitMixer, GPGait: theirs). ``gaitgraph.embed``, ``gaitgraph evaluate``, ``gaitgraph match`` and
the ablation rows all embed through here.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gaitgraph.methods import MethodSpec, get_method, method_of


@dataclass
class Embedder:
    """A loaded checkpoint and its method: ``embed`` gives the method's test-time embeddings."""

    method: MethodSpec
    model: Any  # what the method's load_checkpoint returned
    ckpt: dict | None  # the checkpoint as loaded (configuration hash, training environment); None for a dict given
    source: str  # the file it came from

    @property
    def skeleton(self) -> str:
        return self.model.skeleton

    @property
    def backbone(self) -> str:
        spec = getattr(self.model, "spec", None)
        return getattr(spec, "backbone", self.method.name)

    @property
    def sequence_length(self) -> int | None:
        """The model's test window (frames), where it has one (GaitGraph: 60 / 30)."""
        return getattr(getattr(self.model, "spec", None), "sequence_length", None)

    def resolve_tta(self, tta: bool | None) -> bool | None:
        """The test-time augmentation an embedding with ``tta`` applies: ``tta`` itself, the method's default
        for None (GaitGraph2: on; GaitGraph v1: off), None where the method has no switch (a fixed protocol)."""
        switch = inspect.signature(self.method.test_side().embed).parameters.get("tta")
        if switch is None:
            return None
        return bool(switch.default) if tta is None else tta

    def embed(self, sequences: Sequence, *, tta: bool | None = None, batch_size: int | None = None, device=None,
              progress: bool = False) -> np.ndarray:
        """Embeddings of raw (T, V, 3) pixel x, y, confidence sequences; rows of NaN where the method's
        protocol drops a sequence (``gaitgraph.methods.common.dropped_rows``). ``tta``: the method's own
        default when None (GaitGraph2: on; GaitGraph v1: off; the peers: their fixed protocol)."""
        embed = self.method.test_side().embed
        accepted = inspect.signature(embed).parameters
        options = {"tta": tta, "batch_size": batch_size, "device": device, "progress": progress}
        options = {k: v for k, v in options.items() if k in accepted and v is not None}
        if tta is not None and "tta" not in accepted:
            raise ValueError(f"{self.method.title} has no switchable test-time augmentation (its protocol is fixed)")
        return np.asarray(embed(self.model, sequences, **options))


def load_embedder(checkpoint: str | os.PathLike | dict, method: str | None = None, *, map_location="cpu") -> Embedder:
    """Read ``checkpoint`` (a file or a loaded dict) and recognise its method (or check the one given)."""
    from gaitgraph.checkpoints import CheckpointError, read_checkpoint

    ckpt, name = read_checkpoint(checkpoint, map_location)
    if method is None:
        try:
            spec = method_of(ckpt, name)
        except ValueError as e:
            raise CheckpointError(str(e)) from None
    else:
        spec = get_method(method)
        if not spec.test_side().is_checkpoint(ckpt):
            raise CheckpointError(f"{name}: not a {spec.title} checkpoint")
    # the file, not the dict: the method's reader names it in its messages (a checkpoint is read twice, it is small)
    model = spec.test_side().load_checkpoint(checkpoint, map_location=map_location)
    return Embedder(method=spec, model=model, ckpt=ckpt if not isinstance(checkpoint, dict) else None,
                    source=str(checkpoint) if isinstance(checkpoint, (str, Path)) else name)


def embedder_of(model) -> Embedder:
    """An :class:`Embedder` around a model already loaded by ``gaitgraph.checkpoints.load_model``."""
    method = "gaitgraph1" if model.spec.l2_normalize or model.spec.source_format == "gaitgraph1" else "gaitgraph2"
    return Embedder(method=get_method(method), model=model, ckpt=None, source="<loaded model>")


def embed(checkpoint, sequences: Sequence, *, method: str | None = None, tta: bool | None = None,
          batch_size: int | None = None, device=None, progress: bool = False) -> np.ndarray:
    """Embeddings of raw (T, V, 3) sequences with ``checkpoint`` (a path, a loaded dict or an
    :class:`Embedder`); ``method`` may be omitted where the checkpoint identifies it."""
    from gaitgraph.checkpoints import LoadedModel

    if isinstance(checkpoint, Embedder):
        embedder = checkpoint
    elif isinstance(checkpoint, LoadedModel):
        embedder = embedder_of(checkpoint)
    else:
        embedder = load_embedder(checkpoint, method)
    return embedder.embed(sequences, tta=tta, batch_size=batch_size, device=device, progress=progress)
