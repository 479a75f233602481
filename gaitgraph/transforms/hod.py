"""GPGait's input: Human-Oriented Transformation and Descriptors (Fu et al., ICCV 2023, §3.1-3.2), as
FastPoseGait computes them (``data/transform.py``: ``Affine``, ``RescaleCenter``, ``HOD_MultiInput``).

Everything is per frame, so one call handles any leading shape ``(..., V, 3)``: a sequence (T, V, 3), a
batch (N, T, V, 3) or all frames of many sequences concatenated. Arithmetic runs in the input's float
dtype, in the reference's order of operations (it runs numpy on the stored float32 poses):

* :func:`spine_vertical` (``Affine``): rotate each frame about the neck so that neck -> hip points straight
  down. ``mode="reference"`` computes the new y from the already rotated x, as the reference does;
  ``mode="corrected"`` uses the original x (a true rotation).
* :func:`rescale_center` (``RescaleCenter``): scale x and y so that the frame's y extent is 225, then move
  the neck (mean of the shoulders) to the origin. Missing (0, 0) joints take part in the extent, as in the
  reference; a frame whose joints all share one y (e.g. no detection at all) becomes NaN there.
* :func:`hod_features` (``HOD_MultiInput``): 6 channels per joint: x, y, bone x, bone y (joint minus its
  connected joint), the joint's angle (law of cosines, in [0, pi]), 0. Confidence is dropped; NaN -> 0.
* :func:`gpgait_input`: raw pixel (..., T, V, 3) -> the network's (..., 6, T, V) float32 input
  (:func:`hod_input` for poses already rescaled).
"""

from __future__ import annotations

import math

import numpy as np
import torch

NECK, HIP = (5, 6), (11, 12)  # shoulders, hips: the "neck" and "hip" points are their means
CENTERS = {"neck": NECK, "head": (1, 2), "hip": HIP}  # RescaleCenter's centre options (eyes for "head")
AFFINE_MODES = ("reference", "corrected")
# bone of each COCO-17 joint = joint - BONE_TO[joint] (the reference's connect_joint; the nose's goes to the left shoulder)
BONE_TO = (5, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 5, 6, 11, 12, 13, 14)
# angle of each joint: (centre, left, right) -> the inner angle at the centre; (centre, left) -> the angle
# at the centre between the limb and the vertical through the centre
ANGLES = (
    (0, 1, 2), (1, 0, 3), (2, 4, 0), (3, 1), (4, 2), (5, 7, 11), (6, 8, 12), (7, 5, 9), (8, 10, 6),
    (9, 7), (10, 8), (11, 5, 13), (12, 6, 14), (13, 11, 15), (14, 12, 16), (15, 13), (16, 14),
)


def as_float(x) -> torch.Tensor:
    """A float tensor copy: float64 stays float64, anything else becomes float32 (the reference's dtype)."""
    x = torch.as_tensor(x)
    return x.clone() if x.dtype == torch.float64 else x.to(torch.float32, copy=True)


def _sqrt(x: torch.Tensor) -> torch.Tensor:
    # correctly rounded, as numpy's: torch's vectorised float32 sqrt is off by 1 ulp for some inputs, which
    # the law of cosines amplifies near straight angles; through float64 the result is exact
    return x.double().sqrt().to(x.dtype)


def _trig(name: str, x: torch.Tensor) -> torch.Tensor:
    # numpy's float32 arctan/cos/sin/arccos differ from torch's in the last bit for a few % of inputs, and the
    # law of cosines turns such a bit into ~1e-3 near straight angles; on CPU we call numpy, as the reference
    if x.device.type == "cpu":
        return torch.from_numpy(getattr(np, name)(x.numpy()))
    return getattr(torch, name)(x)


def _mid(x: torch.Tensor, pair: tuple[int, int]) -> torch.Tensor:
    return (x[..., pair[0], :] + x[..., pair[1], :]) / 2  # (..., C)


def spine_vertical(x: torch.Tensor, mode: str = "reference") -> torch.Tensor:
    """(..., V, >=2) -> the same with every frame rotated about its neck so that the spine is vertical."""
    if mode not in AFFINE_MODES:
        raise ValueError(f"affine mode must be one of {', '.join(AFFINE_MODES)}, got {mode!r}")
    x = as_float(x)
    neck, hip = _mid(x, NECK), _mid(x, HIP)
    nx, ny = neck[..., 0:1], neck[..., 1:2]  # (..., 1)
    dx, dy = hip[..., 0:1] - nx, hip[..., 1:2] - ny
    flat = dy == 0  # neck and hip at one height: no rotation
    theta = torch.where(flat, torch.zeros_like(dx), _trig("arctan", dx / torch.where(flat, torch.ones_like(dy), dy)))
    c, s = _trig("cos", theta), _trig("sin", theta)
    px, py = x[..., 0], x[..., 1]
    new_x = c * px - s * py + (1 - c) * nx + s * ny
    src_x = new_x if mode == "reference" else px  # the reference's bug: y from the rotated x
    new_y = s * src_x + c * py + (1 - c) * ny - s * nx
    x[..., 0], x[..., 1] = new_x, new_y
    return x


def rescale_center(x: torch.Tensor, height: float = 225.0, center: str = "neck") -> torch.Tensor:
    """(..., V, >=2) -> per frame, y extent scaled to ``height`` and the ``center`` point moved to the origin."""
    if center not in CENTERS:
        raise ValueError(f"center must be one of {', '.join(CENTERS)}, got {center!r}")
    x = as_float(x)
    y = x[..., 1]
    # a true division (``height / tensor`` multiplies by the reciprocal: another rounding)
    scale = torch.div(y.new_tensor(height), y.amax(-1, keepdim=True) - y.amin(-1, keepdim=True))  # (..., 1)
    xy = x[..., :2] * scale[..., None]
    x[..., :2] = xy - _mid(xy, CENTERS[center])[..., None, :]
    return x


def _law_of_cosines(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Points (..., 2) -> pi minus the angle at ``c`` of the triangle (c, a, b); pi where a side is 0."""
    s1 = _sqrt((c[..., 0] - a[..., 0]).pow(2) + (c[..., 1] - a[..., 1]).pow(2))
    s2 = _sqrt((c[..., 0] - b[..., 0]).pow(2) + (c[..., 1] - b[..., 1]).pow(2))
    s3 = _sqrt((a[..., 0] - b[..., 0]).pow(2) + (a[..., 1] - b[..., 1]).pow(2))
    deno = s1 * s2
    degenerate = deno == 0
    cos = (s1 * s1 + s2 * s2 - s3 * s3) / (2 * torch.where(degenerate, torch.ones_like(deno), deno))
    angle = math.pi - _trig("arccos", cos.clamp(-1, 1))  # NaN stays NaN
    return torch.where(degenerate, torch.full_like(angle, math.pi), angle)


def hod_features(x: torch.Tensor) -> torch.Tensor:
    """(..., V=17, >=2) COCO-17 poses -> (..., V, 6): x, y, bone x, bone y, angle, 0 (NaN -> 0, inf kept)."""
    x = as_float(x)[..., :2]
    if x.shape[-2] != len(BONE_TO):
        raise ValueError(f"HOD features need COCO-17 poses (..., 17, C), got {tuple(x.shape)}")
    bone = x - x[..., list(BONE_TO), :]
    angle = torch.empty(x.shape[:-1], dtype=x.dtype, device=x.device)
    for j, (c, a, *b) in enumerate(ANGLES):
        if b:
            angle[..., j] = _law_of_cosines(x[..., c, :], x[..., a, :], x[..., b[0], :])
        else:  # the third point: straight above/below the centre, at the height of the limb's other end
            other = torch.stack([x[..., c, 0], x[..., a, 1]], dim=-1)
            angle[..., j] = _law_of_cosines(x[..., c, :], x[..., a, :], other)
    out = torch.cat([x, bone, angle[..., None], torch.zeros_like(angle[..., None])], dim=-1)
    return torch.nan_to_num(out, nan=0.0, posinf=math.inf, neginf=-math.inf)


def gpgait_input(poses, affine: str | None = None, height: float = 225.0) -> torch.Tensor:
    """Raw pixel poses (..., T, 17, 3) -> network input (..., 6, T, 17) float32: the reference's test transform.

    ``affine``: None (the CASIA-B, OUMVLP and SUSTech1K configs), ``"reference"`` (the GREW, Gait3D and CCPG
    configs, bug included) or ``"corrected"``. The Affine step comes first, as in those configs.
    """
    x = as_float(poses)
    if affine is not None:
        x = spine_vertical(x, affine)
    return hod_input(rescale_center(x, height))


def hod_input(x: torch.Tensor) -> torch.Tensor:
    """Rescaled poses (..., T, V, >=2) -> HOD features as the network's (..., 6, T, V) float32 input."""
    return hod_features(x).to(torch.float32).movedim(-1, -3)
