"""``TemporalConv``: the (K x 1) temporal convolution of ResGCN / ST-GCN, with a faster CPU training path.

The 9 x 1 convolutions of the 64-channel initial blocks are the largest part of a ResGCN training step
on CPU (``docs/benchmarks.md``: a third of the step). oneDNN runs them near the core's peak, so the
gain has to come from doing fewer operations: a convolution over time is a product in the frequency
domain. With the real DFT of length ``L = T + K // 2`` (long enough that the circular correlation
of the zero-extended sequence equals the zero-padded one at every output frame), the forward is

    X = D x        (T -> L // 2 + 1 complex bins; D real, (2F, T): one GEMM over all N * C * V columns)
    Y_f = W_f X_f  (per bin, a complex C_in -> C_out matrix from the 9 taps: one batched GEMM)
    y = D' Y + b   (back to the T output frames: one GEMM)

about half the multiply-adds of the direct convolution for 64 channels at T = 60 or 30, in three large
matrix products that MKL runs at full speed, and autograd differentiates it as it stands. Same
function and parameters as ``nn.Conv2d``; the numbers differ by float rounding (about 1e-6 relative,
``tests/test_fast_layers.py``). It is used only where it pays off: training mode, CPU, float32, stride 1,
at least ``MIN_CHANNELS`` input and output channels. Everywhere else (evaluation, CUDA, autocast, the
strided and narrow convolutions) this is ``nn.Conv2d`` itself, so evaluation numbers are unchanged.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

MIN_CHANNELS = 64  # narrower convolutions spend more on the transforms than they save


@lru_cache(maxsize=16)
def _transforms(frames: int, kernel: int, device: torch.device, dtype: torch.dtype):
    """(D (2F, T), D' (T, 2F), E (F, 2, K)) for ``frames`` frames: forward DFT rows (re, im per bin),
    the inverse restricted to the T output frames, and the bins of each kernel tap (correlation)."""
    pad = kernel // 2
    length = frames + pad  # reads t + j for |j| <= pad: wrap-arounds land on the zero extension only
    bins = length // 2 + 1
    t = torch.arange(frames, dtype=torch.float64)
    f = torch.arange(bins, dtype=torch.float64)
    ang = 2 * math.pi * f[:, None] * t[None, :] / length  # (F, T)
    fwd = torch.stack([torch.cos(ang), -torch.sin(ang)], 1).reshape(2 * bins, frames)
    weight = torch.full((bins,), 2.0, dtype=torch.float64)  # the real inverse counts the mirrored bins twice
    weight[0] = 1.0
    if length % 2 == 0:
        weight[-1] = 1.0
    inv = (torch.stack([torch.cos(ang), -torch.sin(ang)], 1) * weight[:, None, None]).reshape(2 * bins, frames).t()
    taps = 2 * math.pi * f[:, None] * (torch.arange(kernel, dtype=torch.float64) - pad)[None, :] / length
    tap_bins = torch.stack([torch.cos(taps), torch.sin(taps)], 1)  # (F, 2, K): W_f = sum_k w_k e^{+i taps}
    return tuple(a.to(device=device, dtype=dtype) for a in (fwd, inv / length, tap_bins))


class _FramesFirst(torch.autograd.Function):
    """(N, C, T, V) -> contiguous (T, C, N, V), and the gradient back as a contiguous (N, C, T, V): a
    permuted gradient would send the batch norm and ReLU backward before this layer down slow strided paths."""

    @staticmethod
    def forward(ctx, x):
        return x.permute(2, 1, 0, 3).contiguous()

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(2, 1, 0, 3).contiguous()


class _FramesLast(torch.autograd.Function):
    """(T, O, N, V) + bias (O,) -> contiguous (N, O, T, V) in one pass, gradients contiguous as well."""

    @staticmethod
    def forward(ctx, y, bias):
        t, o, n, v = y.shape
        out = y.new_empty((n, o, t, v))
        if bias is None:
            out.copy_(y.permute(2, 1, 0, 3))
        else:
            torch.add(y.permute(2, 1, 0, 3), bias[:, None, None], out=out)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_bias = grad.sum((0, 2, 3)) if ctx.needs_input_grad[1] else None
        return grad.permute(2, 1, 0, 3).contiguous(), grad_bias


def dft_temporal_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.conv2d(x, weight, bias, padding=(K // 2, 0))`` for x (N, C, T, V), weight (O, C, K, 1), via the DFT."""
    n, c, t, v = x.shape
    o, kernel = weight.shape[0], weight.shape[2]
    fwd, inv, tap_bins = _transforms(t, kernel, x.device, x.dtype)
    bins = tap_bins.shape[0]
    cols = n * v
    spec = (fwd @ _FramesFirst.apply(x).view(t, c * cols)).view(bins, 2 * c, cols)  # (F, [re C; im C], N * V)
    w = torch.einsum("fak,ock->faoc", tap_bins, weight[..., 0])  # (F, 2, O, C): re, im of W_f
    real, imag = w[:, 0], w[:, 1]
    block = torch.cat([torch.cat([real, -imag], 2), torch.cat([imag, real], 2)], 1)  # (F, 2O, 2C) complex product
    y = inv @ torch.bmm(block, spec).view(2 * bins, o * cols)  # (T, O * N * V)
    return _FramesLast.apply(y.view(t, o, n, v), bias)


class TemporalConv(nn.Conv2d):
    """``nn.Conv2d(c_in, c_out, (K, 1), stride=(s, 1), padding=(K // 2, 0))`` (same parameters and names)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1):
        super().__init__(in_channels, out_channels, (kernel, 1), stride=(stride, 1), padding=(kernel // 2, 0))

    def forward(self, x: torch.Tensor, bias: bool = True) -> torch.Tensor:
        """The convolution; ``bias=False`` leaves the bias out (``resgcn.conv_then_bn`` hands it to the batch norm)."""
        b = self.bias if bias else None
        if (
            self.training and x.device.type == "cpu" and x.dtype == torch.float32 and self.stride == (1, 1)
            and min(self.in_channels, self.out_channels) >= MIN_CHANNELS and self.groups == 1
            and not torch.is_autocast_enabled("cpu")
        ):
            return dft_temporal_conv(x, self.weight, b)
        return self._conv_forward(x, self.weight, b)
