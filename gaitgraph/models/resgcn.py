"""ResGCN, the GaitGraph / GaitGraph2 backbone (Song et al. 2020 ResGCNv1; ``gaitgraph2.md`` §4).

Layout, top to bottom: the spatial graph convolution -> spatial and temporal blocks (basic and
bottleneck) -> one ResGCN module (spatial block, then temporal block) -> an input branch -> the
network. Module and parameter names equal the original's, so an original state dict (minus its
``backbone.`` prefix) loads with ``load_state_dict(strict=True)``.

Tensors inside the network are ``(N, C, T, V)``: batch, channels, frames, joints. ReLUs and residual
adds work in place on BatchNorm / convolution outputs, which autograd does not keep (fewer fresh
buffers per training step on CPU).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gaitgraph.models.batchnorm import BatchNorm2d
from gaitgraph.models.graph import distance_partitions
from gaitgraph.models.temporal_conv import TemporalConv
from gaitgraph.skeleton import Skeleton, get_skeleton

TEMPORAL_KERNEL = 9  # frames seen by every temporal convolution (padding 4 keeps T)
GRAPH_KERNEL = 3  # partitions the graph conv uses: hop distance 0, 1, 2 (A[3] is built but unused)


class GraphConv(nn.Module):
    """Spatial graph convolution ``out[n,c,t,w] = sum_k sum_v conv_k(x)[n,c,t,v] * A[k,v,w]``.

    The parameter is the original 1x1 convolution ``gcn`` (C_in -> K * C_out, index ``k * C_out + c``).
    The original applies it first and then contracts the (N, K, C_out, T, V) result with A in an
    einsum, which permutes a K * C_out channel tensor forward and backward. Both steps are linear,
    so here the joints are aggregated first, on the C_in channels (C_in <= C_out in every ResGCN
    layer): one matmul over the joints for all partitions, the result laid out partition-major
    (N, K * C_in, T * W), then one batched matmul that mixes channels and partitions together (the
    same form as ``Pointwise``). Same numbers up to float rounding (benchmarks/bench_train_step.py).
    """

    def __init__(self, in_channels: int, out_channels: int, k: int = GRAPH_KERNEL):
        super().__init__()
        self.k = k
        self.gcn = nn.Conv2d(in_channels, out_channels * k, kernel_size=1)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        n, c_in, t, v = x.shape
        k = self.k
        a = A[:k]  # (K, V, W)
        w = a.shape[-1]
        # (N, C_in, T, V) @ (V, K*W) -> (N, C_in, T, K, W) -> partition-major (N, K * C_in, T * W)
        y = torch.matmul(x, a.transpose(0, 1).reshape(v, k * w)).view(n, c_in, t, k, w)
        y = y.permute(0, 3, 1, 2, 4).reshape(n, k * c_in, t * w)
        c_out = self.gcn.out_channels // k
        weight = self.gcn.weight.view(k, c_out, c_in).transpose(0, 1).reshape(c_out, k * c_in)
        # the 1x1 conv's bias goes through the aggregation too: sum_k b[k, c] * sum_v A[k, v, w]
        bias = self.gcn.bias.view(k, -1).t() @ a.sum(1)  # (C_out, W)
        out = torch.bmm(weight.expand(n, -1, -1), y)  # (N, C_out, T * W)
        return out.view(n, c_out, t, w).add_(bias[:, None, :])


class Pointwise(nn.Conv2d):
    """A 1x1 convolution (optionally strided in time) computed as one batched matmul.

    Same parameters and names as ``nn.Conv2d(c_in, c_out, 1)``. On CPU, oneDNN runs these
    small-channel 1x1 convolutions (and above all their backward) far below matmul speed, with
    layout reorders around every call; as ``W @ x`` over the (T*V) positions no reorder happens.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__(in_channels, out_channels, kernel_size=1, stride=(stride, 1))

    def forward(self, x: torch.Tensor, bias: bool = True) -> torch.Tensor:
        """The convolution; ``bias=False`` leaves the bias out (``conv_then_bn`` hands it to the batch norm)."""
        if self.stride[0] != 1:
            x = x[:, :, :: self.stride[0]]
        n, c, t, v = x.shape
        weight, x = self.weight.flatten(1).expand(n, -1, -1), x.reshape(n, c, t * v)
        # (C_out, 1) + (N, C_out, C_in) @ (N, C_in, T*V) -> (N, C_out, T*V)
        y = torch.baddbmm(self.bias[:, None], weight, x) if bias else torch.bmm(weight, x)
        return y.view(n, -1, t, v)


def conv_then_bn(conv: nn.Conv2d, bn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``bn(conv(x))``, where in BatchNorm2d's fast CPU training path the convolution's bias is not added.

    A training-mode batch norm removes each channel's mean, so a per-channel bias before it changes only
    the running mean: the batch norm takes it as ``shift`` for that (``batchnorm.py``), and the
    convolution skips writing it over its whole output and the backward skips summing the output's
    gradient for it (about a tenth of an OUMVLP-Pose network's CPU step, ``docs/benchmarks.md``). Same
    outputs, input and weight gradients and running statistics within float rounding; the bias gradient
    is exactly zero, as it is in exact arithmetic (``tests/test_fast_layers.py``). Anywhere else
    (evaluation, CUDA, the plain ``nn`` layers of the benchmark's original form) this is ``bn(conv(x))``.
    """
    if isinstance(bn, BatchNorm2d) and isinstance(conv, (Pointwise, TemporalConv)) and bn.fast_training(x):
        return bn(conv(x, bias=False), shift=conv.bias)
    return bn(conv(x))


class ConvBN(nn.Sequential):
    """1x1 convolution (strided in time) + BN: the projection on residual paths (``conv_then_bn``);
    parameters named ``0.*`` and ``1.*`` as the original's ``nn.Sequential``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv_then_bn(self[0], self[1], x)


def conv_bn(in_channels: int, out_channels: int, stride: int = 1) -> ConvBN:
    """The residual projection: ``Pointwise`` + ``BatchNorm2d``."""
    return ConvBN(Pointwise(in_channels, out_channels, stride), BatchNorm2d(out_channels))


def temporal_conv(in_channels: int, out_channels: int, stride: int) -> TemporalConv:
    """The 9x1 convolution over time (padding 4 keeps T); an ``nn.Conv2d`` with a faster CPU training path."""
    return TemporalConv(in_channels, out_channels, TEMPORAL_KERNEL, stride)


class SpatialBasic(nn.Module):
    """graph conv -> BN -> ReLU (basic blocks carry no block residual in ResGCN)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = GraphConv(in_channels, out_channels)
        self.bn = BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        return F.relu_(self.bn(self.conv(x, A)))


class TemporalBasic(nn.Module):
    """9x1 conv (stride s) -> BN -> ReLU, after adding the module residual if there is one."""

    def __init__(self, channels: int, stride: int):
        super().__init__()
        self.conv = temporal_conv(channels, channels, stride)
        self.bn = BatchNorm2d(channels)

    def forward(self, x: torch.Tensor, res_module: torch.Tensor | None) -> torch.Tensor:
        x = conv_then_bn(self.conv, self.bn, x)
        return F.relu_(x if res_module is None else x.add_(res_module))


class SpatialBottleneck(nn.Module):
    """1x1 down -> graph conv -> 1x1 up, BN + ReLU between, plus the block residual."""

    def __init__(self, in_channels: int, out_channels: int, reduction: int):
        super().__init__()
        inner = out_channels // reduction
        self.residual = nn.Identity() if in_channels == out_channels else conv_bn(in_channels, out_channels)
        self.conv_down = Pointwise(in_channels, inner)
        self.bn_down = BatchNorm2d(inner)
        self.conv = GraphConv(inner, inner)
        self.bn = BatchNorm2d(inner)
        self.conv_up = Pointwise(inner, out_channels)
        self.bn_up = BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        res = self.residual(x)
        x = F.relu_(conv_then_bn(self.conv_down, self.bn_down, x))
        x = F.relu_(self.bn(self.conv(x, A)))
        x = conv_then_bn(self.conv_up, self.bn_up, x)
        return F.relu_(x.add_(res))


class TemporalBottleneck(nn.Module):
    """1x1 down -> 9x1 conv (stride s) -> 1x1 up, BN + ReLU between, plus the block residual."""

    def __init__(self, channels: int, stride: int, reduction: int):
        super().__init__()
        inner = channels // reduction
        self.residual = nn.Identity() if stride == 1 else conv_bn(channels, channels, stride)
        self.conv_down = Pointwise(channels, inner)
        self.bn_down = BatchNorm2d(inner)
        self.conv = temporal_conv(inner, inner, stride)
        self.bn = BatchNorm2d(inner)
        self.conv_up = Pointwise(inner, channels)
        self.bn_up = BatchNorm2d(channels)

    def forward(self, x: torch.Tensor, res_module: torch.Tensor | None) -> torch.Tensor:
        res = self.residual(x)
        x = F.relu_(conv_then_bn(self.conv_down, self.bn_down, x))
        x = F.relu_(conv_then_bn(self.conv, self.bn, x))
        x = conv_then_bn(self.conv_up, self.bn_up, x).add_(res)
        return F.relu_(x if res_module is None else x.add_(res_module))


class ResGCNModule(nn.Module):
    """Spatial block then temporal block, with its own learnable edge importance (P, V, V).

    ``initial`` modules (the first of each branch) are basic blocks without residuals; other basic
    modules have a module residual; bottleneck modules have block residuals only.
    """

    def __init__(
        self, in_channels: int, out_channels: int, num_partitions: int, num_joints: int,
        block: str = "bottleneck", stride: int = 1, reduction: int = 4, initial: bool = False,
    ):
        super().__init__()
        if initial:
            block = "basic"
        self.edge = nn.Parameter(torch.ones(num_partitions, num_joints, num_joints))
        if initial or block == "bottleneck":
            self.residual = None
        elif stride == 1 and in_channels == out_channels:
            self.residual = nn.Identity()
        else:
            self.residual = conv_bn(in_channels, out_channels, stride)
        if block == "basic":
            self.scn = SpatialBasic(in_channels, out_channels)
            self.tcn = TemporalBasic(out_channels, stride)
        elif block == "bottleneck":
            self.scn = SpatialBottleneck(in_channels, out_channels, reduction)
            self.tcn = TemporalBottleneck(out_channels, stride, reduction)
        else:
            raise ValueError(f"unknown ResGCN block {block!r}; known: basic, bottleneck")

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        res = None if self.residual is None else self.residual(x)
        return self.tcn(self.scn(x, A * self.edge), res)


class InputBranch(nn.Module):
    """BN over the branch's input channels, then modules up to 32 output channels."""

    def __init__(self, A: torch.Tensor, in_channels: int, structure: tuple[int, ...], block: str, reduction: int):
        super().__init__()
        self.register_buffer("A", A.clone())
        p, v, _ = A.shape
        module = lambda c_in, c_out, **kw: ResGCNModule(c_in, c_out, p, v, block, reduction=reduction, **kw)  # noqa: E731
        self.bn = BatchNorm2d(in_channels)
        layers = [module(in_channels, 64, initial=True)]
        layers += [module(64, 64, initial=True) for _ in range(structure[0] - 1)]
        layers += [module(64, 64) for _ in range(structure[1] - 1)]
        layers += [module(64, 32)]
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, T, V) -> (N, 32, T, V)
        x = self.bn(x)
        for layer in self.layers:
            x = layer(x, self.A)
        return x


class ResGCN(nn.Module):
    """Multi-branch ResGCN embedding network: (N, I, C, T, V) -> (N, embedding_dim)."""

    num_features = 256

    def __init__(
        self, structure: tuple[int, ...], block: str = "bottleneck", reduction: int = 4,
        skeleton: str | Skeleton = "coco17", num_branches: int = 3, in_channels: int = 5,
        embedding_dim: int = 128, l2_normalize: bool = False,
    ):
        super().__init__()
        self.skeleton = get_skeleton(skeleton)
        self.num_branches, self.in_channels = num_branches, in_channels
        self.l2_normalize = l2_normalize
        A = distance_partitions(self.skeleton)  # (4, V, V)
        self.register_buffer("A", A)
        p, v, _ = A.shape
        module = lambda c_in, c_out, **kw: ResGCNModule(c_in, c_out, p, v, block, reduction=reduction, **kw)  # noqa: E731
        self.input_branches = nn.ModuleList(
            InputBranch(A, in_channels, structure, block, reduction) for _ in range(num_branches)
        )
        main = [module(32 * num_branches, 128, stride=2)]
        main += [module(128, 128) for _ in range(structure[2] - 1)]
        main += [module(128, 256, stride=2)]
        main += [module(256, 256) for _ in range(structure[3] - 1)]
        self.main_stream = nn.ModuleList(main)
        self.fcn = nn.Linear(256, embedding_dim)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.001)
                nn.init.zeros_(m.bias)
        # every residual bottleneck starts as its shortcut: last BN of each bottleneck gets gamma = 0
        for m in self.modules():
            if isinstance(m, (SpatialBottleneck, TemporalBottleneck)):
                nn.init.zeros_(m.bn_up.weight)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, I, C, T, V) -> main-stream map (N, 256, T/4, V) before pooling."""
        if x.dim() != 5 or x.shape[1] != self.num_branches or x.shape[2] != self.in_channels:
            raise ValueError(
                f"expected input (N, {self.num_branches}, {self.in_channels}, T, V), got {tuple(x.shape)}"
            )
        x = torch.cat([branch(x[:, i]) for i, branch in enumerate(self.input_branches)], dim=1)
        for layer in self.main_stream:
            x = layer(x, self.A)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x).mean(dim=(2, 3))  # global average pool over (T', V): (N, 256)
        x = self.fcn(x)
        return F.normalize(x, dim=1) if self.l2_normalize else x
