"""Training-step throughput of the ResGCN backbone: the original formulation vs ours, in one process.

One step = forward + backward + AdamW step on a random batch, fp32, CPU, ``torch.set_num_threads``.
(a) ``original``: the same network computed as the original ResGCNv1 code computes it, kept only here as
    the baseline: the spatial graph conv as a 1x1 conv C_in -> K*C_out, view (N, K, C, T, V),
    einsum('nkctv,kvw->nctw', x, A*edge); 1x1 and 9x1 convolutions as ``nn.Conv2d`` (oneDNN);
    ``nn.BatchNorm2d``.
(b) ``ours``: gaitgraph.models.resgcn as it is (``docs/model.md``, ``docs/benchmarks.md``): GraphConv
    (joints aggregated first, then one batched matmul over channels and partitions), ``Pointwise`` 1x1
    convolutions as batched matmuls, ``TemporalConv`` (the 64-channel 9x1 convolutions through the DFT
    when training on CPU), ``BatchNorm2d`` (float32 batch statistics) and ``conv_then_bn`` (a
    convolution's bias handed to the batch norm after it, whose running mean is all it changes).
Both start from the same weights and see the same batch; the script asserts that the outputs agree
within 1e-5 and the gradients within 1e-3 (relative L2), and prints only ratios measured here: the two
models take turns step by step, so a change in the machine's load hits both alike.

    python benchmarks/bench_train_step.py                       # both settings of issue 3, 2 threads
    python benchmarks/bench_train_step.py --setting casia --steps 5
    python benchmarks/bench_train_step.py --profile             # + forward/backward split, top ops
    python benchmarks/bench_train_step.py --layers              # + each layer shape alone: ours vs original
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
from gaitgraph.models.batchnorm import BatchNorm2d
from gaitgraph.models.resgcn import GraphConv, Pointwise
from gaitgraph.models.temporal_conv import TemporalConv
from gaitgraph.process_settings import keep_freed_memory

from common import machine_line

SETTINGS = {  # name: (model, skeleton, frames, joints)
    "casia": ("resgcn-n21-r8", "coco17", 60, 17),
    "oumvlp": ("resgcn-n51-r4", "openpose18", 30, 18),
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


def plain_conv(ours: Pointwise | TemporalConv) -> nn.Conv2d:
    """The original ``nn.Conv2d`` (1x1, or 9x1 over time), holding the same parameters."""
    conv = nn.Conv2d(ours.in_channels, ours.out_channels, ours.kernel_size, stride=ours.stride, padding=ours.padding)
    conv.weight, conv.bias = ours.weight, ours.bias
    return conv


def plain_bn(ours: BatchNorm2d) -> nn.BatchNorm2d:
    """The original ``nn.BatchNorm2d``, holding the same parameters and buffers."""
    bn = nn.BatchNorm2d(ours.num_features, ours.eps, ours.momentum)
    bn.load_state_dict(ours.state_dict())
    return bn


def to_original(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` computed as the original: einsum graph convs, oneDNN 1x1 convs, PyTorch's
    batch norm."""
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if isinstance(child, GraphConv):
                setattr(parent, name, OriginalGraphConv(child))
            elif isinstance(child, (Pointwise, TemporalConv)):
                setattr(parent, name, plain_conv(child))
            elif isinstance(child, BatchNorm2d):
                setattr(parent, name, plain_bn(child))
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


def profile_steps(model: nn.Module, x: torch.Tensor, warmup: int, steps: int, top: int) -> str:
    """Median forward / backward / optimizer seconds per step, and the ``top`` operators by self CPU time
    (torch.profiler over ``steps`` steps), as text."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-5)
    parts: list[tuple[float, float, float]] = []

    def step() -> None:
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(x).square().mean()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        parts.append((t1 - t0, t2 - t1, time.perf_counter() - t2))

    for _ in range(warmup):
        step()
    parts.clear()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    fwd, bwd, opt_s = (statistics.median(p[i] for p in parts) for i in range(3))
    total = fwd + bwd + opt_s
    lines = [f"  forward {fwd:.3f} s ({fwd / total:.0%}), backward {bwd:.3f} s ({bwd / total:.0%}), "
             f"optimizer {opt_s:.3f} s ({opt_s / total:.0%}) per step (median of {steps}, under the profiler)"]
    ops = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    ops.sort(key=lambda e: -e.self_cpu_time_total)
    all_self = sum(e.self_cpu_time_total for e in ops)
    for e in ops[:top]:
        lines.append(f"  {e.key:34s} {e.self_cpu_time_total / 1e3 / steps:8.1f} ms/step  "
                     f"{e.self_cpu_time_total / all_self:5.1%}  ({e.count // steps} calls/step)")
    return "\n".join(lines)


def layer_times(ours: nn.Module, x: torch.Tensor, steps: int) -> str:
    """Forward + backward of every distinct layer of ``ours`` (type and input shape, as the step's forward meets
    them) alone, ours against its original form, taking turns; per shape and summed over the network, as text."""
    seen: dict[tuple, list] = {}

    def record(module, inputs, _output):
        key = (type(module).__name__, tuple(inputs[0].shape), module.extra_repr())
        seen.setdefault(key, [module, tuple(i.detach() for i in inputs[1:]), 0])[2] += 1

    kinds = (GraphConv, Pointwise, TemporalConv, BatchNorm2d)
    hooks = [m.register_forward_hook(record) for m in ours.modules() if isinstance(m, kinds)]
    ours(x)
    for h in hooks:
        h.remove()
    lines, totals = [], {}
    for (kind, shape, _), (module, extra, count) in seen.items():
        pair = {"ours": module, "original": to_original(nn.Sequential(module))[0]}
        inp = torch.randn(shape, requires_grad=True)
        with torch.no_grad():
            grad = torch.randn_like(pair["original"](inp, *extra))
        times: dict[str, list[float]] = {k: [] for k in pair}
        for i in range(steps + 1):
            for k, layer in pair.items():
                t0 = time.perf_counter()
                layer(inp, *extra).backward(grad)
                if i:  # the first round warms up
                    times[k].append(time.perf_counter() - t0)
                inp.grad = None
        a, b = (statistics.median(times[k]) for k in ("ours", "original"))
        for k, v in (("ours", a), ("original", b), ("best of both", min(a, b))):
            totals[(kind, k)] = totals.get((kind, k), 0.0) + v * count
        lines.append(f"  {kind:12s} {str(shape):20s} x{count:<3d} ours {a * 1e3:7.1f} ms  original {b * 1e3:7.1f} ms"
                     f"  {b / a:5.2f}x")
    lines.append("  per step, summed over the layers (count x median):")
    for kind in dict.fromkeys(k for k, _ in totals):
        lines.append(f"  {kind:12s} ours {totals[(kind, 'ours')]:.3f} s  original {totals[(kind, 'original')]:.3f} s  "
                     f"best of both per shape {totals[(kind, 'best of both')]:.3f} s")
    whole = {w: sum(v for (_, k), v in totals.items() if k == w) for w in ("ours", "original", "best of both")}
    lines.append(f"  all layers   ours {whole['ours']:.3f} s  original {whole['original']:.3f} s  best of both per shape "
                 f"{whole['best of both']:.3f} s  ({whole['original'] / whole['ours']:.2f}x; best of both "
                 f"{whole['original'] / whole['best of both']:.2f}x)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setting", choices=[*SETTINGS, "all"], default="all")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=7)
    ap.add_argument("--profile", action="store_true", help="also profile each model (forward/backward, top ops)")
    ap.add_argument("--top", type=int, default=12, help="operators listed with --profile")
    ap.add_argument("--layers", action="store_true", help="also time every layer shape alone, ours vs original")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    malloc = "kept (as the training CLI)" if keep_freed_memory() else "glibc default"
    print(f"{machine_line()}; freed memory: {malloc}")
    for name in SETTINGS if args.setting == "all" else [args.setting]:
        backbone, skeleton, frames, joints = SETTINGS[name]
        torch.manual_seed(0)
        ours = create_model(backbone, skeleton=skeleton, num_branches=3, in_channels=5)
        randomise(ours)
        original = to_original(ours)
        x = torch.randn(args.batch, 3, 5, frames, joints)
        out_diff, grad_diff = check_same(original, ours, x[:16])
        assert out_diff < 1e-5 and grad_diff < 1e-3, (out_diff, grad_diff)  # fp32 sums in another order
        t = step_times({"original": original, "ours": ours}, x, args.warmup, args.steps)
        t_orig, t_ours = t["original"], t["ours"]
        print(
            f"{name}: {backbone} {skeleton} batch {args.batch} x {frames} frames | "
            f"original {args.batch / t_orig:6.1f} seq/s ({t_orig:.3f} s/step) | "
            f"ours {args.batch / t_ours:6.1f} seq/s ({t_ours:.3f} s/step) | speed-up {t_orig / t_ours:.2f}x "
            f"(median of {args.steps}, same process, same batch) | "
            f"max |out diff| {out_diff:.2e}, rel grad diff {grad_diff:.2e}", flush=True
        )
        if args.profile:
            for label, model in (("original", original), ("ours", ours)):
                print(f"{name} {label} profile:")
                print(profile_steps(model, x, 1, max(2, args.steps // 2), args.top), flush=True)
        if args.layers:
            print(f"{name} layers alone (forward + backward, median of {args.steps}):")
            print(layer_times(ours, x, args.steps), flush=True)
    print(f"load average after: {[round(v, 2) for v in os.getloadavg()]}")


if __name__ == "__main__":
    main()
