"""Deterministic, non-trivial weights for parity fixtures, from the state-dict names and shapes alone.

The fixture made with the original GaitGraph2 code (``fixtures/README.md``) stores only sequences and
embeddings; both sides rebuild the same weights with :func:`synthetic_weights` from their own
state-dict names (equal by design), so no 3 MB checkpoint is committed. ``numpy.random.RandomState``
is used because its streams are frozen across numpy versions; every tensor gets its own stream, seeded
by its name, so the result does not depend on the order of the keys.
"""

from __future__ import annotations

import zlib

import numpy as np


def synthetic_weights(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, np.ndarray]:
    """float32 values for every parameter and BatchNorm statistic named in ``shapes``.

    Graph buffers (``A``) and ``num_batches_tracked`` are left out: the network's own are kept.
    Convolutions/linear layers: N(0, 2 / fan_in) / N(0, 1 / fan_in); BN gamma 1 + N(0, 0.2^2); biases
    N(0, 0.1^2); edge importance 1 + N(0, 0.1^2); running means N(0, 0.1^2) and variances U(0.5, 1.5),
    except the input BatchNorms, which see raw pixels: means N(0, 200^2), variances 10^U(0, 5).
    """
    out = {}
    for name, shape in shapes.items():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("A", "num_batches_tracked"):
            continue
        rng = np.random.RandomState((seed * 1_000_003 + zlib.crc32(name.encode())) % 2**32)
        pixels = name.startswith("input_branches.") and name.split(".")[2] == "bn" or name.startswith("data_bn.")
        if leaf == "running_mean":
            value = rng.normal(0, 200.0 if pixels else 0.1, shape)
        elif leaf == "running_var":
            value = 10 ** rng.uniform(0, 5, shape) if pixels else rng.uniform(0.5, 1.5, shape)
        elif leaf == "edge":
            value = 1 + rng.normal(0, 0.1, shape)
        elif leaf == "bias":
            value = rng.normal(0, 0.1, shape)
        elif len(shape) == 1:  # BatchNorm gamma
            value = 1 + rng.normal(0, 0.2, shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            value = rng.normal(0, np.sqrt((2.0 if len(shape) == 4 else 1.0) / fan_in), shape)
        out[name] = value.astype(np.float32)
    return out
