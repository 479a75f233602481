"""GaitTR (Zhang et al., arXiv 2204.03873) as FastPoseGait implements it (``modeling/models/gaittr.py``,
``components/blocks.py:TCN_ST``, ``components/units/unit_{conv2d,st}.py``; ``docs/methods.md``).

Tensors are ``(N, C, T, V)`` inside. One block (``TCNST``, the reference's ``TCN_ST``)::

    x0 = tcn(x) + x                        # 9x1 temporal conv -> Mish -> BN, dropout 0.1 before the conv
    y  = st(x0) + residual_s(x0)           # spatial transformer; residual_s = 1x1 conv + BN when C changes
    y  = y + (x if C_in == C_out else down(x))   # down = 1x1 conv -> Mish -> BN

The spatial transformer (``SpatialTransformer``, the reference's ``STModule``) normalises its input with a
BatchNorm1d over (C, V) channels, runs 8-head self-attention among the joints of every frame (q, k of
``dk = out / 4`` channels, v of ``out`` channels, all from one 1x1 conv, q scaled by ``(dk / 8) ** -0.5``),
mixes the heads with a 1x1 conv and applies Mish -> BN. The reference builds a distance-partitioned graph
but **never uses it** (the attention runs over all joint pairs): this network therefore has no graph at all
(``docs/fidelity.md``, GaitTR). Network: BatchNorm1d over the input's (V, C) channels -> blocks with
channels (C_in ->) 64, 64, 128, 256 -> mean over joints and frames -> 1x1 Conv1d ``fcn`` to the embedding.

State-dict names and shapes equal the reference's ``checkpoint['model']`` (512,010 parameters for
CASIA-B: 10 input channels, COCO-17). Initialisation as the reference's ``BaseModel.init_parameters``:
Xavier-uniform convolutions with zero bias, BatchNorm2d weight 1 / bias 0.

Input: ``(N, 1, C, T, V)`` (the registry's layout; the reference's ``(N, C, T, V, M)`` with M = 1 is
``x.permute(0, 4, 1, 2, 3)``) -> ``(N, embedding_dim)``, not normalised. GaitTR's test pipeline returns it as
``(N, embedding_dim, 1)`` (``gaitgraph.methods.gaittr``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gaitgraph.skeleton import Skeleton, get_skeleton

CHANNELS = (64, 64, 128, 256)  # the CASIA-B config's in_channels after the input's 10


class TemporalUnit(nn.Module):
    """Dropout -> (k x 1) conv -> Mish -> BN (the reference's ``UnitConv2D``; BN after the activation)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 9, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.conv = nn.Conv2d(in_channels, out_channels, (kernel_size, 1), padding=((kernel_size - 1) // 2, 0))
        self.relu = nn.Mish()  # named as in the reference (no parameters)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.relu(self.conv(self.dropout(x))))


class SpatialAttention(nn.Module):
    """Multi-head self-attention among the V joints of every frame; (N, C_in, T, V) -> (N, C_out, T, V)."""

    def __init__(self, in_channels: int, out_channels: int, num_heads: int = 8, dk_factor: float = 0.25):
        super().__init__()
        self.dk, self.dv, self.num_heads = int(dk_factor * out_channels), out_channels, num_heads
        if self.dk % num_heads or self.dv % num_heads:
            raise ValueError(
                f"GaitTR attention: {out_channels} output channels give dk={self.dk}, dv={self.dv}; "
                f"both must be divisible by num_heads={num_heads}"
            )
        self.qkv_conv = nn.Conv2d(in_channels, 2 * self.dk + self.dv, 1)
        self.attn_out = nn.Conv2d(self.dv, self.dv, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        h = self.num_heads
        q, k, val = self.qkv_conv(x).split([self.dk, self.dk, self.dv], dim=1)

        def heads(y: torch.Tensor) -> torch.Tensor:  # (N, h*c, T, V) -> (N*T, h, V, c); head-major channels
            return y.reshape(n, h, -1, t, v).permute(0, 3, 1, 4, 2).reshape(n * t, h, v, -1)

        out = F.scaled_dot_product_attention(heads(q), heads(k), heads(val), scale=(self.dk // h) ** -0.5)
        out = out.reshape(n, t, h, v, -1).permute(0, 2, 4, 1, 3).reshape(n, self.dv, t, v)  # heads combined
        return self.attn_out(out)


class SpatialTransformer(nn.Module):
    """BatchNorm1d over (C, V) -> spatial attention -> Mish -> BN (the reference's ``STModule``)."""

    def __init__(self, in_channels: int, out_channels: int, num_joints: int, num_heads: int = 8):
        super().__init__()
        self.relu = nn.Mish()
        self.bn = nn.BatchNorm2d(out_channels)
        self.data_bn = nn.BatchNorm1d(in_channels * num_joints)
        self.attention_conv = SpatialAttention(in_channels, out_channels, num_heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        x = self.data_bn(x.transpose(2, 3).reshape(n, c * v, t))  # channel index c * V + v
        x = x.reshape(n, c, v, t).transpose(2, 3)
        return self.bn(self.relu(self.attention_conv(x)))


class TCNST(nn.Module):
    """One GaitTR block (the reference's ``TCN_ST``): temporal unit, spatial transformer, two residuals."""

    def __init__(self, in_channels: int, out_channels: int, num_joints: int, num_heads: int = 8,
                 kernel_size: int = 9, dropout: float = 0.1):
        super().__init__()
        self.tcn = TemporalUnit(in_channels, in_channels, kernel_size, dropout)
        self.st = SpatialTransformer(in_channels, out_channels, num_joints, num_heads)
        if in_channels != out_channels:
            self.residual_s = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
            self.down = TemporalUnit(in_channels, out_channels, kernel_size=1, dropout=0.0)
        else:
            self.residual_s = nn.Identity()
            self.down = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = self.tcn(x) + x
        y = self.st(x0) + self.residual_s(x0)
        return y + (x if self.down is None else self.down(x))


class GaitTR(nn.Module):
    """GaitTR embedding network: (N, 1, C, T, V) -> (N, embedding_dim)."""

    def __init__(
        self, skeleton: str | Skeleton = "coco17", num_branches: int = 1, in_channels: int = 10,
        embedding_dim: int = 128, channels: tuple[int, ...] = CHANNELS, num_heads: int = 8,
        kernel_size: int = 9, dropout: float = 0.1,
    ):
        super().__init__()
        if num_branches != 1:
            raise ValueError(
                f"GaitTR takes one input stream (its features are stacked as channels), got num_branches={num_branches}"
            )
        if in_channels < 1 or embedding_dim < 1 or not channels:
            raise ValueError(f"GaitTR: in_channels ({in_channels}), embedding_dim ({embedding_dim}) and channels "
                             f"({channels}) must be positive / non-empty")
        self.skeleton = get_skeleton(skeleton)
        self.num_branches, self.in_channels = 1, in_channels
        v = self.skeleton.num_joints
        self.num_features = channels[-1]
        self.data_bn = nn.BatchNorm1d(in_channels * v)
        widths = (in_channels, *channels)
        self.backbone = nn.ModuleList(
            TCNST(c_in, c_out, v, num_heads, kernel_size, dropout) for c_in, c_out in zip(widths[:-1], widths[1:])
        )
        self.fcn = nn.Conv1d(channels[-1], embedding_dim, 1)
        for m in self.modules():  # BaseModel.init_parameters
            if isinstance(m, (nn.Conv1d, nn.Conv2d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _check(self, x: torch.Tensor) -> None:
        v = self.skeleton.num_joints
        if x.dim() != 5 or x.shape[1] != 1 or x.shape[2] != self.in_channels or x.shape[4] != v:
            raise ValueError(f"GaitTR expects (N, 1, {self.in_channels}, T, {v}), got {tuple(x.shape)}")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, C, T, V) -> the last block's map (N, 256, T, V)."""
        self._check(x)
        n, _, c, t, v = x.shape
        # the reference's input BN runs over (M, V, C) channels: index v * C + c
        x = self.data_bn(x.permute(0, 1, 4, 2, 3).reshape(n, v * c, t))
        x = x.reshape(n, v, c, t).permute(0, 2, 3, 1)  # (N, C, T, V)
        for block in self.backbone:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.forward_features(x).mean(dim=(2, 3))  # (N, 256): joints then frames, as the reference
        return self.fcn(pooled.unsqueeze(-1)).squeeze(-1)  # (N, embedding_dim)
