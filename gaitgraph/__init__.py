"""gaitgraph: a reproducible benchmark pipeline for skeleton-based gait recognition (GaitGraph2, GaitGraph,
GaitTR, GPGait, GaitMixer)."""

__version__ = "0.1.0"


def embed(checkpoint, sequences, tta=None, *, method=None, **kwargs):
    """Embed raw (T, V, 3) pose sequences (pixel x, y, confidence) with a checkpoint of any registered method,
    through the method's own test pipeline; ``method`` may be omitted where the checkpoint identifies it, ``tta``
    is the method's default when None (GaitGraph2: on). See :func:`gaitgraph.evaluation.embed.embed`."""
    from gaitgraph.evaluation.embed import embed as _embed

    return _embed(checkpoint, sequences, method=method, tta=tta, **kwargs)


__all__ = ["embed", "__version__"]
