"""Keypoint normalization as its own step: converted dataset in, new converted dataset out.

Modes (recorded in ``meta["normalization"]`` with their parameters):

``none``
    The original's input: raw pixels, every skeleton left exactly as converted (``poses.npy`` is
    copied byte for byte). Missing joints keep their zeros, as the original trains on them; the
    original fills them only in its OUMVLP-Pose validation/test transform (``NormalizeEmpty``), and
    so does this package, on every path that embeds (``gaitgraph.inference``, the DataModule's
    evaluation loaders; ``docs/fidelity.md``).

    ``fill_missing_joints=True`` (``--fill-missing-joints``; the workflow's
    ``datasets/<dataset>/fill_before_training``) is our variant, not the original's: the same fill
    (:func:`gaitgraph.transforms.sequence.fill_missing_joints`) applied here, so that training sees
    filled joints too. It is recorded in the meta and labelled in the tables.

``center-scale``
    Per frame, subtract the body centre and divide by the sequence's body size:

    * centre = mean of the visible hips; without hips, the neck (or shoulder centre) shifted by the
      sequence's median neck->hip vector; without either, the mean of the visible joints;
    * scale = the median over the sequence of the torso length (neck or shoulder centre to hip
      centre), so that the size does not jitter from frame to frame; a sequence without any torso
      uses the median height of the visible joints' bounding box divided by ``HEIGHT_PER_TORSO``.

    Missing joints (confidence 0 or x == 0) take no part in centre or scale and are written as
    (0, 0, 0), i.e. still marked missing by their zero confidence.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from gaitgraph.data.errors import DataError

MODES = ("none", "center-scale")
# A standing person's bounding-box height is about 3 torso lengths (shoulders to hips).
HEIGHT_PER_TORSO = 3.0
_MIN_SCALE = 1e-3  # pixels; anything smaller means the joints collapsed onto one point

# (hips, shoulders, neck or None) per skeleton layout
_BODY = {"coco17": ((11, 12), (5, 6), None), "openpose18": ((8, 11), (2, 5), 1)}
_FORMAT_KEYS = ("format", "version", "joints", "num_sequences", "num_frames")
MISSING_AT_EVALUATION = (
    "kept as converted (zeros) for training; for openpose18 (OUMVLP-Pose) filled at validation/test time by "
    "the original NormalizeEmpty (gaitgraph.transforms.sequence.fill_missing_joints)"
)


def normalize_dataset(
    input_dir: str | os.PathLike, output_dir: str | os.PathLike, mode: str = "none", *, progress: bool = True,
    fill_missing_joints: bool = False, **params
) -> Path:
    """Write a normalized copy of a converted dataset; returns ``output_dir``.

    ``fill_missing_joints`` (mode ``none`` only): fill missing joints before training, our variant
    (see the module docstring). ``params`` are recorded in the output meta; ``center-scale`` takes none
    besides the defaults documented above (unknown parameters are an error, so that a typo does not go
    unnoticed).
    """
    from gaitgraph.data.format import load_dataset, write_dataset
    from gaitgraph.outputs import check_folder_output

    check_folder_output(output_dir, inputs=[input_dir])  # before the work
    if mode not in MODES:
        raise ValueError(f"unknown normalization mode {mode!r}; choose one of {', '.join(MODES)}")
    if params:
        raise ValueError(f"mode {mode!r} takes no parameters, got {', '.join(sorted(params))}")
    if fill_missing_joints and mode != "none":
        raise ValueError(f"filling missing joints before training applies to mode 'none' only, not {mode!r} "
                         "(center-scale writes missing joints as (0, 0, 0))")
    ds = load_dataset(input_dir)
    if ds.meta.get("normalization"):
        raise DataError(
            f"{ds.path}: already normalized (mode {ds.meta['normalization'].get('mode')!r}); normalize the converted dataset instead"
        )
    skeleton = ds.meta["skeleton"]
    frames = ds.path / "frames.npy"
    if mode == "none" and not fill_missing_joints:
        poses = ds.path / "poses.npy"  # copied byte for byte: the raw input the original trains on
        record = {"mode": "none", "fill_missing_joints": False,
                  "poses": "unchanged (a byte copy of the converted poses.npy)",
                  "missing_joints": MISSING_AT_EVALUATION}
    elif mode == "none":
        from gaitgraph.transforms.sequence import fill_missing_joints as fill

        poses = fill(np.asarray(ds.poses))  # per frame, so the whole array at once
        record = {"mode": "none", "fill_missing_joints": True,
                  "poses": "missing joints (x == 0) filled before training, the original NormalizeEmpty "
                           "(our variant: the original fills at validation/test time only)",
                  "missing_joints": "filled here, for every split"}
    else:
        if skeleton not in _BODY:
            raise DataError(f"{ds.path}: center-scale does not know the body joints of skeleton {skeleton!r}")
        poses, stats = center_scale_dataset(ds, progress=progress)
        record = {
            "mode": "center-scale",
            "center": "mean of visible hips; else neck/shoulder centre + median neck->hip vector of the sequence; else mean of visible joints",
            "scale": "median over the sequence of the torso length (neck/shoulder centre to hip centre)",
            "scale_fallback": f"median bounding-box height of visible joints / {HEIGHT_PER_TORSO}",
            "missing": "confidence 0 or x == 0; written as (0, 0, 0)",
            "height_per_torso": HEIGHT_PER_TORSO,
            "stats": stats,
        }
    meta = {k: v for k, v in ds.meta.items() if k not in _FORMAT_KEYS}
    meta["normalization"] = record
    meta["normalized_from"] = str(ds.path)
    return write_dataset(output_dir, poses, frames, ds.sequences, meta, kind="normalized dataset", inputs=[input_dir])


def missing_joints(poses: np.ndarray) -> np.ndarray:
    """Boolean (..., V): joints that were not detected (confidence 0 or x == 0)."""
    return (poses[..., 2] <= 0) | (poses[..., 0] == 0)


def center_scale_dataset(ds, progress: bool = True) -> tuple[np.ndarray, dict]:
    """Apply :func:`center_scale_sequence` to every sequence; returns poses and fallback counts."""
    from tqdm import tqdm

    out = np.zeros(ds.poses.shape, dtype=np.float32)
    totals = {"frames_center_fallback_neck": 0, "frames_center_fallback_mean": 0, "frames_empty": 0, "sequences_scale_fallback": 0}
    offsets, lengths = ds.sequences["offset"].to_numpy(), ds.sequences["length"].to_numpy()
    bar = tqdm(zip(offsets, lengths), total=len(offsets), desc="center-scale", unit="seq", file=sys.stderr,
               disable=not progress or not sys.stderr.isatty(), leave=False)
    for o, n in bar:
        out[o : o + n], stats = center_scale_sequence(np.asarray(ds.poses[o : o + n]), ds.meta["skeleton"])
        for k in totals:
            totals[k] += stats[k]
    return out, totals


def center_scale_sequence(seq: np.ndarray, skeleton: str) -> tuple[np.ndarray, dict]:
    """Centre every frame of one (T, V, 3) sequence on the body and divide by its median torso length."""
    hips, shoulders, neck = _BODY[skeleton]
    seq = np.asarray(seq, dtype=np.float32)
    miss = missing_joints(seq)  # (T, V)
    xy = np.where(miss[..., None], np.nan, seq[..., :2]).astype(np.float64)  # NaN = missing, ignored by nanmean

    with np.errstate(invalid="ignore"), _quiet_nan_warnings():
        hip = np.nanmean(xy[:, hips], axis=1)  # (T, 2), NaN where no hip is visible
        upper = xy[:, neck] if neck is not None else np.full_like(hip, np.nan)
        upper = np.where(np.isnan(upper), np.nanmean(xy[:, shoulders], axis=1), upper)  # neck, else shoulder centre
        torso_vec = hip - upper  # (T, 2)
        torso = np.linalg.norm(torso_vec, axis=1)  # NaN where either end is missing
        mean_all = np.nanmean(xy, axis=1)

    stats = {"frames_center_fallback_neck": 0, "frames_center_fallback_mean": 0, "frames_empty": 0, "sequences_scale_fallback": 0}
    # centre: hips, else the upper body shifted by the typical torso vector, else all visible joints
    centre = hip.copy()
    no_hip = np.isnan(hip).any(axis=1)
    if no_hip.any():
        have_torso = ~np.isnan(torso_vec).any(axis=1)
        shift = np.median(torso_vec[have_torso], axis=0) if have_torso.any() else np.zeros(2)
        use_upper = no_hip & ~np.isnan(upper).any(axis=1)
        centre[use_upper] = upper[use_upper] + shift
        use_mean = no_hip & ~use_upper
        centre[use_mean] = mean_all[use_mean]
        stats["frames_center_fallback_neck"] = int(use_upper.sum())
        stats["frames_center_fallback_mean"] = int((use_mean & ~np.isnan(mean_all).any(axis=1)).sum())

    # scale: median torso length; fallback: median bounding-box height / HEIGHT_PER_TORSO
    valid_torso = torso[np.isfinite(torso) & (torso > _MIN_SCALE)]
    if len(valid_torso):
        scale = float(np.median(valid_torso))
    else:
        stats["sequences_scale_fallback"] = 1
        with np.errstate(invalid="ignore"), _quiet_nan_warnings():
            height = np.nanmax(xy[..., 1], axis=1) - np.nanmin(xy[..., 1], axis=1)
        height = height[np.isfinite(height) & (height > _MIN_SCALE)]
        scale = float(np.median(height)) / HEIGHT_PER_TORSO if len(height) else 1.0

    out = np.zeros_like(seq)
    empty = np.isnan(centre).any(axis=1)  # frames with no visible joint at all stay (0, 0, 0)
    stats["frames_empty"] = int(empty.sum())
    out[..., :2] = ((seq[..., :2] - np.nan_to_num(centre)[:, None, :]) / scale).astype(np.float32)
    out[..., 2] = seq[..., 2]
    out[miss] = 0.0
    out[empty] = 0.0
    return out, stats


class _quiet_nan_warnings:
    """Silence numpy's 'mean of empty slice' warnings: all-NaN rows are expected and handled."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
