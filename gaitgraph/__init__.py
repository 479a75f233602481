"""gaitgraph: a reproducible benchmark pipeline for skeleton-based gait recognition (GaitGraph2, GaitGraph)."""

__version__ = "0.1.0"


def embed(checkpoint, sequences, tta=True, **kwargs):
    """Embed raw (T, V, 3) pose sequences with a checkpoint; see :func:`gaitgraph.inference.embed`."""
    from gaitgraph.inference import embed as _embed

    return _embed(checkpoint, sequences, tta=tta, **kwargs)


__all__ = ["embed", "__version__"]
