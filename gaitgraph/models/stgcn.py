"""ST-GCN embedding backbone, the GaitGraph2 ablation baseline (Yan et al. 2018; ``gaitgraph2.md`` §4).

Input BN over (V * C) -> 10 ST-GCN layers (64, 64, 64, 64, 128/2, 128, 128, 256/2, 256, 256), each
a graph conv over all 4 distance partitions with its own edge importance, then BN, ReLU, a 9x1
temporal conv, BN, plus a residual -> global average pool -> Linear(256, embedding_dim).
Parameter names are ours (no original ST-GCN checkpoint is supported).

Initialisation (``init``): ``"pytorch"`` (default) is the original's: its ST-GCN sets nothing itself, so
every convolution and the linear layer keep PyTorch's default (Kaiming-uniform with a = sqrt(5), biases
U(+-1/sqrt(fan_in))), BatchNorms gamma 1 / beta 0, edge importances 1. The layers are built in the
original's order (data BN; per layer graph conv, temporal BN-ReLU-conv-BN, residual projection; edge
importances; linear), so one seed gives the original's weights. ``"kaiming"`` is the ResGCN scheme this
backbone used before (Kaiming-normal fan-out convolutions, zero biases, N(0, 0.001) linear weights).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from gaitgraph.models.graph import distance_partitions
from gaitgraph.models.resgcn import GraphConv, conv_bn, temporal_conv
from gaitgraph.skeleton import Skeleton, get_skeleton

# (out_channels, stride) of the ten layers
LAYERS = ((64, 1), (64, 1), (64, 1), (64, 1), (128, 2), (128, 1), (128, 1), (256, 2), (256, 1), (256, 1))
INITS = ("pytorch", "kaiming")  # the original's (PyTorch defaults), and the ResGCN-style scheme


class STGCNLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_partitions: int, stride: int, residual: bool):
        super().__init__()
        self.gcn = GraphConv(in_channels, out_channels, k=num_partitions)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            temporal_conv(out_channels, out_channels, stride),
            nn.BatchNorm2d(out_channels),
        )
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = conv_bn(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        out = self.tcn(self.gcn(x, A))
        return F.relu(out if self.residual is None else out + self.residual(x))


class STGCN(nn.Module):
    """(N, I, C, T, V) -> (N, embedding_dim); the I branches are stacked as I * C channels."""

    num_features = 256

    def __init__(
        self, skeleton: str | Skeleton = "coco17", num_branches: int = 1, in_channels: int = 3,
        embedding_dim: int = 128, l2_normalize: bool = False, init: Literal["pytorch", "kaiming"] = "pytorch",
    ):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"unknown ST-GCN initialisation {init!r}; choose one of {', '.join(INITS)}")
        self.skeleton = get_skeleton(skeleton)
        self.num_branches, self.in_channels = num_branches, in_channels
        self.l2_normalize = l2_normalize
        A = distance_partitions(self.skeleton)  # (4, V, V); ST-GCN uses all four partitions
        self.register_buffer("A", A)
        p, v, _ = A.shape
        channels = num_branches * in_channels
        self.data_bn = nn.BatchNorm1d(channels * v)
        layers, c_in = [], channels
        for i, (c_out, stride) in enumerate(LAYERS):
            layers.append(STGCNLayer(c_in, c_out, p, stride, residual=i > 0))
            c_in = c_out
        self.layers = nn.ModuleList(layers)
        self.edge_importance = nn.ParameterList(nn.Parameter(torch.ones_like(A)) for _ in layers)
        self.fcn = nn.Linear(256, embedding_dim)
        if init == "kaiming":
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=0.001)
                    nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, I, C, T, V) -> (N, 256, T/4, V)."""
        n, i, c, t, v = x.shape
        x = x.reshape(n, i * c, t, v)
        # BN1d over (joint, channel) pairs, as ST-GCN's data_bn: channel index v * C + c
        x = x.permute(0, 3, 1, 2).reshape(n, v * i * c, t)
        x = self.data_bn(x).view(n, v, i * c, t).permute(0, 2, 3, 1).contiguous()  # (N, C, T, V)
        for layer, edge in zip(self.layers, self.edge_importance):
            x = layer(x, self.A * edge)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fcn(self.forward_features(x).mean(dim=(2, 3)))
        return F.normalize(x, dim=1) if self.l2_normalize else x
