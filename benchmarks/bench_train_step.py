"""Training-step throughput of the ResGCN backbone: the original graph-conv formulation vs ours.

One step = forward + backward + AdamW step on a random batch, fp32, CPU, ``torch.set_num_threads``.
(a) ``original``: the same network with the original ResGCNv1 spatial graph conv, kept only here as
    the baseline: 1x1 conv C_in -> K*C_out, view (N, K, C, T, V), einsum('nkctv,kvw->nctw', x, A*edge).
(b) ``ours``: gaitgraph.models.resgcn as it is: GraphConv (joints aggregated first, then one strided
    conv) and ``Pointwise`` 1x1 convolutions as batched matmuls instead of oneDNN convolutions.
Both start from the same weights; the script asserts the outputs and gradients agree.

    nice -n 10 python benchmarks/bench_train_step.py            # both settings of issue 3
    python benchmarks/bench_train_step.py --setting casia --steps 5
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time

import torch
from torch import nn

from gaitgraph.models import create_model
from gaitgraph.models.resgcn import GraphConv, Pointwise
from gaitgraph.runtime import keep_freed_memory

SETTINGS = {  # name: (model, skeleton, frames, joints, original seq/s measured on this machine)
    "casia": ("resgcn-n21-r8", "coco17", 60, 17, 59.0),
    "oumvlp": ("resgcn-n51-r4", "openpose18", 30, 18, 74.5),
}


class OriginalGraphConv(nn.Module):
    """The original formulation, same parameter (``gcn``)."""

    def __init__(self, ours: GraphConv):
        super().__init__()
        self.k, self.gcn = ours.k, ours.gcn

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        x = self.gcn(x)  # (N, K*C, T, V)
        n, kc, t, v = x.shape
        x = x.view(n, self.k, kc // self.k, t, v)
        return torch.einsum("nkctv,kvw->nctw", x, A[: self.k])


def plain_conv(ours: Pointwise) -> nn.Conv2d:
    """The original ``nn.Conv2d`` 1x1 convolution, holding the same parameters."""
    conv = nn.Conv2d(ours.in_channels, ours.out_channels, 1, stride=ours.stride)
    conv.weight, conv.bias = ours.weight, ours.bias
    return conv


def to_original(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` computed as the original: einsum graph convs, oneDNN 1x1 convs."""
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if isinstance(child, GraphConv):
                setattr(parent, name, OriginalGraphConv(child))
            elif isinstance(child, Pointwise):
                setattr(parent, name, plain_conv(child))
    return model


def randomise(model: nn.Module, seed: int = 0) -> None:
    """Non-trivial weights everywhere (the init zeroes bn_up gammas, which would hide differences)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)


def step_times(models: dict[str, nn.Module], x: torch.Tensor, warmup: int, steps: int) -> dict[str, float]:
    """Median seconds per training step of each model; the models take turns step by step, so a
    change in the machine's load hits all of them alike."""
    opts = {k: torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=1e-5) for k, m in models.items()}
    times: dict[str, list[float]] = {k: [] for k in models}
    for i in range(warmup + steps):
        for k, m in models.items():
            t0 = time.perf_counter()
            opts[k].zero_grad(set_to_none=True)
            m(x).square().mean().backward()
            opts[k].step()
            if i >= warmup:
                times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(t) for k, t in times.items()}


def check_same(a: nn.Module, b: nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """Max abs difference of the outputs, and relative L2 difference of all gradients, after one
    forward + backward in train mode (BatchNorm with batch statistics)."""
    outs, grads = [], []
    for m in (a, b):
        m.zero_grad(set_to_none=True)
        y = m(x)
        y.square().mean().backward()
        outs.append(y.detach())
        grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
    return (outs[0] - outs[1]).abs().max().item(), ((grads[0] - grads[1]).norm() / grads[0].norm()).item()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setting", choices=[*SETTINGS, "all"], default="all")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    malloc = "kept (as the training CLI)" if keep_freed_memory() else "glibc default"
    print(f"freed memory: {malloc}")
    print(f"torch {torch.__version__}, threads {args.threads}, load average {os.getloadavg()}")
    for name in SETTINGS if args.setting == "all" else [args.setting]:
        backbone, skeleton, frames, joints, published = SETTINGS[name]
        torch.manual_seed(0)
        ours = create_model(backbone, skeleton=skeleton, num_branches=3, in_channels=5)
        randomise(ours)
        original = to_original(ours)
        x = torch.randn(args.batch, 3, 5, frames, joints)
        out_diff, grad_diff = check_same(original, ours, x[:16])
        assert out_diff < 1e-4 and grad_diff < 1e-3, (out_diff, grad_diff)  # fp32 sums in another order
        t = step_times({"original": original, "ours": ours}, x, args.warmup, args.steps)
        t_orig, t_ours = t["original"], t["ours"]
        print(
            f"{name}: {backbone} {skeleton} batch {args.batch} x {frames} frames | "
            f"original {args.batch / t_orig:6.1f} seq/s ({t_orig:.3f} s/step) | "
            f"ours {args.batch / t_ours:6.1f} seq/s ({t_ours:.3f} s/step) | speed-up {t_orig / t_ours:.2f}x | "
            f"vs the original's {published} seq/s: {args.batch / t_ours / published:.2f}x | "
            f"max |out diff| {out_diff:.2e}, rel grad diff {grad_diff:.2e}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
