"""Distance partitioning of a skeleton graph (ST-GCN "distance" strategy, ``gaitgraph2.md`` §4).

``A[k][i, j]`` holds the column-normalised adjacency restricted to joint pairs exactly ``k`` bones
apart: every joint ``j`` spreads its signal evenly over all joints within ``max_hop`` bones,
and the partition ``k`` keeps the share that travels ``k`` hops.
"""

from __future__ import annotations

import numpy as np
import torch

from gaitgraph.skeleton import Skeleton, get_skeleton


def distance_partitions(skeleton: str | Skeleton, max_hop: int = 3) -> torch.Tensor:
    """``(max_hop + 1, V, V)`` float32 adjacency partitions of a skeleton (``A[k]`` = k hops)."""
    hop = get_skeleton(skeleton).hop_distance  # (V, V), inf where unreachable
    reach = (hop <= max_hop).astype(np.float64)  # R: pairs within max_hop, self loops included
    col_sum = reach.sum(axis=0)
    norm = reach / np.where(col_sum > 0, col_sum, 1.0)  # R[i, j] / sum_k R[k, j]
    parts = np.stack([np.where(hop == k, norm, 0.0) for k in range(max_hop + 1)])
    return torch.from_numpy(parts).float()
