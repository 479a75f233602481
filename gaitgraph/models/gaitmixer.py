"""GaitMixer (Pinyoanuntapong et al., ICASSP 2023, arXiv 2210.15491) as its authors implement it
(exitudio/GaitMixer ``src/models/SpatialTransformerTemporalConv.py``, class ``SpatialTransformerTemporalConv``
with ``train.py``'s defaults; ``docs/methods.md``).

* **Spatial mixer**, per frame: every joint's (x, y) -> Linear(2, 32) + a learned joint position embedding
  -> 4 pre-norm transformer blocks among the V joints (8 heads of 4 channels, qkv with bias, MLP 32 -> 64
  -> 32 with GELU, LayerNorm eps 1e-6) -> LayerNorm. Result ``(N, 32, T, V)``.
* **Temporal mixer**: 4 blocks (32 -> 32 -> 64 -> 128 -> 256 channels). Each: dropout 0.01 -> 30 frames
  of reflection padding *before the start only* (a causal convolution) -> depthwise (31 x 1) conv ->
  pointwise 1x1 conv -> GELU -> BN (eps 1e-3), plus a skip that is the input, or Linear -> GELU -> BN
  (eps 1e-3) over channels where the width changes.
* Mean over all frames and joints (the reference's ``AvgPool2d((num_frames, V))``, which works only for
  exactly ``num_frames`` frames: anything else is an error here) -> LayerNorm(256) -> Linear(256, 128)
  -> L2 normalisation.

State-dict names and shapes equal the reference's (a plain state dict, 166,304 parameters for CASIA-B:
2 input channels, COCO-17); PyTorch's default initialisation as the reference (position embedding zeros).
The reference's optional stochastic depth and attention/MLP dropout (all 0 in ``train.py``) are left out.

Input: ``(N, 1, C, T, V)`` (the registry's layout; the reference's ``(N, T, V, C)`` is
``x.permute(0, 3, 1, 2).unsqueeze(1)``) -> ``(N, embedding_dim)`` unit vectors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gaitgraph.skeleton import Skeleton, get_skeleton

TEMPORAL_CHANNELS = (32, 64, 128, 256)


class Attention(nn.Module):
    """Multi-head self-attention over tokens (B, L, D) with one qkv Linear (timm ViT layout)."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"GaitMixer: spatial width {dim} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, L, d / heads), scale (d / heads) ** -0.5
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x))."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DepthwiseSeparableConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_frames: int):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, (kernel_frames, 1), groups=in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class ConvBlock(nn.Module):
    """Causal large-kernel temporal block on (N, C, T, V) (the reference's ``ConvBlock``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_frames: int = 31):
        super().__init__()
        self.pad = kernel_frames - 1  # reflected frames before the first one; none after the last
        self.dropout = nn.Dropout(0.01)
        self.conv = DepthwiseSeparableConv(in_channels, out_channels, kernel_frames)
        self.act = nn.GELU()
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        if in_channels != out_channels:
            self.linear = nn.Linear(in_channels, out_channels)  # channel projection of the skip
            self.linear_act = nn.GELU()
            self.bn_skip = nn.BatchNorm2d(out_channels, eps=0.001)
        else:
            self.linear = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.linear is None:
            skip = x
        else:
            skip = self.bn_skip(self.linear_act(self.linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)))
        if x.shape[2] <= self.pad:
            raise ValueError(f"GaitMixer: reflection padding of {self.pad} frames needs more than {self.pad} frames, "
                             f"got {x.shape[2]}")
        y = F.pad(self.dropout(x), (0, 0, self.pad, 0), mode="reflect")  # (N, C, pad + T, V)
        return self.bn(self.act(self.conv(y))) + skip


class GaitMixer(nn.Module):
    """GaitMixer embedding network: (N, 1, C, num_frames, V) -> (N, embedding_dim), L2-normalised."""

    def __init__(
        self, skeleton: str | Skeleton = "coco17", num_branches: int = 1, in_channels: int = 2,
        embedding_dim: int = 128, num_frames: int = 60, spatial_dim: int = 32, depth: int = 4,
        num_heads: int = 8, mlp_ratio: float = 2.0, kernel_frames: int = 31,
        temporal_channels: tuple[int, ...] = TEMPORAL_CHANNELS,
    ):
        super().__init__()
        if num_branches != 1:
            raise ValueError(f"GaitMixer takes one input stream of (x, y[, conf]) per joint, got num_branches={num_branches}")
        if in_channels < 1 or embedding_dim < 1 or num_frames < kernel_frames or len(temporal_channels) < 1:
            raise ValueError(
                f"GaitMixer: need in_channels >= 1 ({in_channels}), embedding_dim >= 1 ({embedding_dim}), "
                f"num_frames >= kernel_frames ({num_frames} < {kernel_frames}) and temporal channels ({temporal_channels})"
            )
        self.skeleton = get_skeleton(skeleton)
        self.num_branches, self.in_channels, self.num_frames = 1, in_channels, num_frames
        v = self.skeleton.num_joints
        self.num_features = temporal_channels[-1]
        self.spatial_joint_to_embedding = nn.Linear(in_channels, spatial_dim)
        self.spatial_pos_embed = nn.Parameter(torch.zeros(1, v, spatial_dim))
        self.spatial_blocks = nn.ModuleList(Block(spatial_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.spatial_norm = nn.LayerNorm(spatial_dim, eps=1e-6)
        widths = (spatial_dim, *temporal_channels)
        for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
            self.add_module(f"conv{i}", ConvBlock(c_in, c_out, kernel_frames))
        self.num_conv = len(temporal_channels)
        self.head = nn.Sequential(nn.LayerNorm(temporal_channels[-1]), nn.Linear(temporal_channels[-1], embedding_dim))

    def _check(self, x: torch.Tensor) -> None:
        v = self.skeleton.num_joints
        if x.dim() != 5 or x.shape[1] != 1 or x.shape[2] != self.in_channels or x.shape[4] != v:
            raise ValueError(f"GaitMixer expects (N, 1, {self.in_channels}, {self.num_frames}, {v}), got {tuple(x.shape)}")
        if x.shape[3] != self.num_frames:
            raise ValueError(f"GaitMixer takes exactly {self.num_frames} frames (its temporal pooling is fixed), "
                             f"got {x.shape[3]}")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, C, T, V) -> the temporal mixer's map (N, 256, T, V) before pooling."""
        self._check(x)
        n, _, c, t, v = x.shape
        tokens = x[:, 0].permute(0, 2, 3, 1).reshape(n * t, v, c)  # one token per joint and frame
        tokens = self.spatial_joint_to_embedding(tokens) + self.spatial_pos_embed
        for block in self.spatial_blocks:
            tokens = block(tokens)
        y = self.spatial_norm(tokens).reshape(n, t, v, -1).permute(0, 3, 1, 2)  # (N, 32, T, V)
        for i in range(1, self.num_conv + 1):
            y = getattr(self, f"conv{i}")(y)
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.forward_features(x).mean(dim=(2, 3))  # (N, 256)
        return F.normalize(self.head(pooled), dim=1, p=2)
