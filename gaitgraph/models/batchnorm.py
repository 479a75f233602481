"""``BatchNorm2d``: ``torch.nn.BatchNorm2d`` with a faster training forward on CPU (issue 14, ``docs/benchmarks.md``).

PyTorch's CPU kernel collects the batch statistics of a float32 NCHW tensor with double-precision
accumulators, which makes the training forward about 6x slower than one pass over the tensor (20 ms
of 23 ms for a (128, 64, 60, 17) batch on one core; the profile of the ResGCN training step puts
batch norm at a fifth of the step). Here the statistics are computed in two float32 passes (a
cascade sum for the mean, then the 2-norm of the centred rows for the biased variance), the output
with PyTorch's own normalisation (its eval-mode kernel fed with those statistics), and the backward
is PyTorch's ``native_batch_norm_backward``. Same function, same parameters, buffers and running
statistics (momentum, unbiased running variance); outputs differ from the double-precision
statistics by float rounding only (``tests/test_fast_layers.py``). Everything else (evaluation, CUDA,
other dtypes, non-contiguous input, ``momentum=None``) is ``nn.BatchNorm2d`` itself.

``forward(x, shift)`` normalises ``x + shift[:, None, None]`` for a per-channel constant ``shift`` without
adding it: the bias of the convolution before the batch norm (``resgcn.conv_then_bn``). A training-mode
batch norm subtracts the batch mean, so a per-channel constant changes only the running mean, and its
gradient is exactly zero (returned as zeros, so that optimizers treat the bias as the original's
training does; the original computes that zero as rounding noise). In the fast path the constant goes into
the running mean alone; everywhere else it is added to ``x`` first.
"""

from __future__ import annotations

import torch
from torch import nn


class _TrainBatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, shift, running_mean, running_var, momentum: float, eps: float):
        n, c = x.shape[:2]
        count = x.numel() // c
        rows = x.view(n, c, -1)
        mean = rows.sum(2).sum(0).div_(count)  # (C,)
        centred = x - mean[:, None, None]
        var = torch.linalg.vector_norm(centred.view(n, c, -1), dim=2).square_().sum(0).div_(count)  # biased
        del centred
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(mean if shift is None else mean + shift, alpha=momentum)
            running_var.mul_(1 - momentum).add_(var, alpha=momentum * count / max(count - 1, 1))
        out = torch.native_batch_norm(x, weight, bias, mean, var, False, 0.0, eps)[0]
        invstd = (var + eps).rsqrt_()
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, mean, invstd = ctx.saved_tensors
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2]]
        gx, gw, gb = torch.ops.aten.native_batch_norm_backward(
            grad.contiguous(), x, weight, None, None, mean, invstd, True, ctx.eps, mask)
        g_shift = torch.zeros_like(weight) if ctx.needs_input_grad[3] else None  # exactly 0: the mean removes it
        return gx, gw, gb, g_shift, None, None, None, None


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` (same arguments, state-dict names and results) with the fast CPU training path."""

    def fast_training(self, x: torch.Tensor) -> bool:
        """Whether the fast path applies to an input on ``x``'s device and dtype (given a contiguous 4-d layout)."""
        return (
            self.training and x.device.type == "cpu" and x.dtype == torch.float32 and self.affine
            and self.track_running_stats and self.momentum is not None and not torch.is_autocast_enabled("cpu")
        )

    def forward(self, x: torch.Tensor, shift: torch.Tensor | None = None) -> torch.Tensor:
        fast = self.fast_training(x) and x.dim() == 4 and x.is_contiguous() and x.numel() > x.shape[1]
        if not fast:
            return super().forward(x if shift is None else x + shift[:, None, None])
        self._check_input_dim(x)
        self.num_batches_tracked.add_(1)
        return _TrainBatchNorm.apply(x, self.weight, self.bias, shift, self.running_mean, self.running_var,
                                     float(self.momentum), self.eps)
