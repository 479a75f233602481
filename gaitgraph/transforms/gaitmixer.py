"""GaitMixer's test windows, input scaling and training augmentations (exitudio/GaitMixer
``src/datasets/augmentation.py``, ``src/datasets/gait.py``, ``src/train.py``, ``src/evaluate.py``), batched.

**Input** (``network_input``): confidence dropped (``rm_conf``, the default), x and y divided by 320
(``normalize_width``) -> ``(N, 1, 2, 60, V)``.

**Test** (``three_window_index``, the reference's ``ThreeCenterSequenceTransform`` with 60 frames): the
centre window ``start = int(T / 2 - 30)``, one 20 frames earlier (clamped at 0) and one 20 frames later
(clamped at the end); ``gaitgraph.methods.gaitmixer`` adds the time-reversed copies and averages the six
embeddings. The reference's dataset keeps only sequences of more than 60 frames (``len < 60 + 1`` dropped).

**Training** (``train.py`` defaults), per sample in the reference, batched here:

1. ``MirrorPoses(0.5)``: x -> 2 m - x with m the frame's mean x over all joints (labels not swapped);
2. ``FlipSequence(0.5)``: time reversal; 3. ``RandomSelectSequence(60)``: ``start ~ U{0..T-61}`` (a window
   never ends on the last frame; T = 60 is taken whole);
4. ``PointNoise(0.05)``: Gaussian, every frame, joint and channel; 5. ``JointNoise``: one Gaussian (x, y)
   offset per joint, constant in time, std **0.25** (the reference ignores its ``--joint_noise_std 0.1``);
6. ``network_input``.

Mirroring is per frame, so it commutes with the frame choice: here the frames are chosen first
(``train_frame_index``, one gather) and the values augmented after (``GaitMixerAugment``). Every random
value is drawn first (``draw``) and applied after (``apply``), so a per-sample oracle can replay them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SCALE = 320.0  # normalize_width: pixels / 320 (CASIA-B frames are 320 x 240)
NUM_FRAMES = 60
WINDOW_GAP = NUM_FRAMES // 3  # 20 frames between the three test windows


def network_input(x: torch.Tensor, keep_conf: bool = False) -> torch.Tensor:
    """(N, T, V, 3) pixel poses -> (N, 1, C, T, V): x, y / 320 (C = 2), confidence kept raw if ``keep_conf``."""
    if x.dim() != 4 or x.shape[3] < 2:
        raise ValueError(f"expected (N, T, V, 3) poses, got {tuple(x.shape)}")
    xy = x[..., :2] / SCALE
    feats = torch.cat([xy, x[..., 2:3]], dim=3) if keep_conf else xy
    return feats.permute(0, 3, 1, 2).unsqueeze(1)


def three_window_index(lengths: torch.Tensor, length: int = NUM_FRAMES) -> torch.Tensor:
    """(N, 3, L) frame index of the three test windows (earlier, centre, later) of sequences with T >= L."""
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.dim() != 1 or (len(lengths) and int(lengths.min()) < length):
        raise ValueError(f"three test windows need sequences of at least {length} frames")
    gap = length // 3
    start = torch.div(lengths - length, 2, rounding_mode="floor")  # int(T/2 - L/2), T >= L
    left = (start - gap).clamp(min=0)
    right = torch.minimum(start + length + gap, lengths) - length
    starts = torch.stack([left, start, right], dim=1)  # (N, 3)
    return starts[..., None] + torch.arange(length, device=lengths.device)


def train_frame_index(lengths: torch.Tensor, length: int = NUM_FRAMES, flip_p: float = 0.5,
                      draws: dict | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """(N, L) training frames: FlipSequence(flip_p) then RandomSelectSequence(L), as an index into each raw sequence.

    ``draws`` = ``{"flip_u": (N,), "start_u": (N,)}`` uniform [0, 1) values (drawn when not given): flip
    where ``flip_u <= flip_p``; ``start = floor(start_u * (T - L))`` on the (possibly reversed) sequence.
    """
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.dim() != 1 or (len(lengths) and int(lengths.min()) < length):
        raise ValueError(f"GaitMixer trains on sequences of at least {length} frames (its dataset keeps > {length})")
    if draws is None:
        draws = {k: torch.rand(len(lengths), generator=generator, device=lengths.device) for k in ("flip_u", "start_u")}
    span = (lengths - length).clamp(min=1)
    start = torch.where(lengths > length, torch.minimum((draws["start_u"].double() * span).long(), span - 1), 0)
    idx = start[:, None] + torch.arange(length, device=lengths.device)  # frames of the (reversed) sequence
    flip = (draws["flip_u"] <= flip_p)[:, None]
    return torch.where(flip, lengths[:, None] - 1 - idx, idx)


@dataclass
class GaitMixerAugment:
    """GaitMixer's value augmentations on gathered (N, L, V, 3) pixel frames, on their device.

    ``joint_noise_std=0.25`` is what the reference applies (its option of 0.1 is ignored, ``docs/fidelity.md``).
    """

    mirror_p: float = 0.5
    point_noise_std: float = 0.05
    joint_noise_std: float = 0.25

    def draw(self, shape, generator: torch.Generator | None = None, device=None, dtype=torch.float32) -> dict:
        """Every random value one call uses: ``mirror_u`` (N,), ``point`` (N, L, V, C), ``joint`` (N, V, 2)."""
        n, t, v, c = shape
        kw = dict(generator=generator, device=device, dtype=dtype)
        return {
            "mirror_u": torch.rand(n, **kw),
            "point": torch.randn((n, t, v, c), **kw) * self.point_noise_std,
            "joint": torch.randn((n, v, 2), **kw) * self.joint_noise_std,
        }

    def apply(self, x: torch.Tensor, draws: dict) -> torch.Tensor:
        out = x.clone()
        mirror = draws["mirror_u"] <= self.mirror_p
        centre = x[..., 0].mean(dim=2, keepdim=True)  # (N, L, 1): the frame's mean x
        out[..., 0] = torch.where(mirror[:, None, None], (centre - x[..., 0]) + centre, x[..., 0])
        out = out + draws["point"]
        out[..., :2] += draws["joint"][:, None]
        return out

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if x.dim() != 4 or x.shape[3] < 2:
            raise ValueError(f"expected (N, L, V, 3) poses, got {tuple(x.shape)}")
        return self.apply(x, self.draw(x.shape, generator, x.device, x.dtype))
