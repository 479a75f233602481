"""Skeleton animations: any sequence of a converted dataset as a GIF (``gaitgraph-data show``).

The frame drawing here is shared with the activation GIFs (``gaitgraph.viz.activation``): joints
centred per frame on the mean of the confident joints, y pointing down (image coordinates), fixed
axis limits for the whole sequence, bones (joint -> parent, plus hip-hip) in grey where both joints
have confidence >= ``MIN_CONFIDENCE``. Frames are drawn by updating the artists of one figure and
written with matplotlib's ``PillowWriter``; every frame's title carries its frame number, so no two
consecutive GIF frames are identical (Pillow would merge those) and the GIF has exactly one frame per
pose frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from gaitgraph.data.errors import DataError
from gaitgraph.skeleton import Skeleton, get_skeleton
from gaitgraph.outputs import atomic_write
from gaitgraph.viz.style import ACTIVATION_CMAP, color, new_figure

MIN_CONFIDENCE = 0.025  # the original's threshold for drawing a bone
BONE_COLOR = (0.1, 0.1, 0.1)
BONE_ALPHA = 0.5
BONE_WIDTH = 3.0
MAX_MARKER = 160.0  # marker area (pt^2) at activation 1


def skeleton_bones(skeleton: str | Skeleton) -> list[tuple[int, int]]:
    """Bones as drawn: every joint to its parent (roots skipped) plus the hip-hip edge."""
    skel = get_skeleton(skeleton)
    bones = [(j, p) for j, p in enumerate(skel.parents) if j != p]
    try:
        hips = (skel.index("left_hip"), skel.index("right_hip"))
        if hips not in bones and hips[::-1] not in bones:
            bones.append(hips)
    except ValueError:
        pass
    return bones


def centre_poses(poses: np.ndarray, min_confidence: float = MIN_CONFIDENCE) -> tuple[np.ndarray, np.ndarray, float]:
    """(T, V, 3) -> (centred xy (T, V, 2), valid (T, V), half-width of the fixed square axis limits).

    Each frame is centred on the mean of its joints with confidence >= ``min_confidence`` (all joints
    when none are), so a walk across the image stays in the middle of the animation.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[-1] != 3:
        raise ValueError(f"expected poses (T, V, 3), got {poses.shape}")
    xy, conf = poses[..., :2], poses[..., 2]
    valid = (conf >= min_confidence) & np.isfinite(xy).all(-1)
    weight = np.where(valid.any(1, keepdims=True), valid, np.isfinite(xy).all(-1)).astype(np.float64)
    centre = (np.nan_to_num(xy) * weight[..., None]).sum(1) / np.maximum(weight.sum(1), 1)[:, None]
    centred = xy - centre[:, None, :]
    extent = np.abs(centred[valid]).max() if valid.any() else 1.0
    half = float(extent * 1.12) if np.isfinite(extent) and extent > 0 else 1.0
    return centred, valid, half


@dataclass
class _Frame:
    """The artists of one figure, updated per frame."""

    fig: object
    ax: object
    bones: LineCollection
    dots: object
    joints: object
    title: object


def _make_figure(half: float, values: bool, joint_colors) -> _Frame:
    fig = new_figure(5.6 if values else 4.8, 5.0)
    ax = fig.add_subplot()
    ax.set_xlim(-half, half)
    ax.set_ylim(half, -half)  # image coordinates: y grows downwards
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(True)
        ax.spines[side].set_color("0.8")
    bones = LineCollection([], colors=[BONE_COLOR], linewidths=BONE_WIDTH, alpha=BONE_ALPHA, capstyle="round",
                           zorder=1)
    ax.add_collection(bones)
    dots = ax.scatter([], [], s=6, c="0.35", zorder=2, linewidths=0)  # where every confident joint is
    if values:
        joints = ax.scatter([], [], s=[], c=[], cmap=ACTIVATION_CMAP, vmin=0.0, vmax=1.0, zorder=3,
                            edgecolors="white", linewidths=0.4)
        cbar = fig.colorbar(joints, ax=ax, shrink=0.8, pad=0.02)
        cbar.set_label("activation (0 = none, 1 = sample maximum)")
    else:
        n = len(joint_colors)
        joints = ax.scatter(np.zeros(n), np.zeros(n), s=np.zeros(n), c=joint_colors, zorder=3, edgecolors="white",
                            linewidths=0.5)
        handles = [Line2D([], [], ls="", marker="o", color=color(0), label="left joints"),
                   Line2D([], [], ls="", marker="o", color=color(1), label="right joints")]
        ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=7)
    title = ax.set_title("", fontsize=9)
    return _Frame(fig, ax, bones, dots, joints, title)


def _side_colors(skel: Skeleton) -> list:
    """Left joints in palette colour 0, right joints in colour 1, the rest grey."""
    out = []
    for name in skel.joints:
        out.append(color(0) if name.startswith("left") else color(1) if name.startswith("right") else (0.4, 0.4, 0.4))
    return out


def write_skeleton_gif(
    poses: np.ndarray,
    skeleton: str | Skeleton,
    out: str | os.PathLike,
    titles: list[str],
    *,
    values: np.ndarray | None = None,
    fps: float = 1000 / 150,
    png_dir: str | os.PathLike | None = None,
) -> Path:
    """Animate (T, V, 3) poses into ``out`` (GIF, one frame per pose frame); return its path.

    ``values`` (T, V) in [0, 1] colours the joints (plasma, colorbar) and scales their markers;
    without it joints are coloured by body side. ``titles`` has one title per frame. With ``png_dir``
    every frame is also written as ``{stem}-{t:03d}.png`` there. Folders are created; the GIF is
    written to a temporary file and renamed into place.
    """
    skel = get_skeleton(skeleton)
    poses = np.asarray(poses, dtype=np.float64)
    t_len, v = poses.shape[:2]
    if v != skel.num_joints:
        raise ValueError(f"skeleton {skel.name} has {skel.num_joints} joints, poses have {v}")
    if t_len == 0:
        raise ValueError("poses have no frames")
    if len(titles) != t_len:
        raise ValueError(f"{len(titles)} titles for {t_len} frames")
    if values is not None:
        values = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
        if values.shape != (t_len, v):
            raise ValueError(f"values must be (T, V) = {(t_len, v)}, got {values.shape}")
    xy, valid, half = centre_poses(poses)
    bones = np.asarray(skeleton_bones(skel), dtype=np.int64)
    frame = _make_figure(half, values is not None, _side_colors(skel))

    out = Path(out)
    if png_dir is not None:
        png_dir = Path(png_dir)
        png_dir.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        # Pillow picks the format by extension: write under .gif whatever out is called
        gif = tmp if tmp.suffix.lower() == ".gif" else tmp.with_name(tmp.name + ".gif")
        writer = PillowWriter(fps=fps)
        writer.setup(frame.fig, gif, dpi=100)
        for t in range(t_len):
            ok = valid[t]
            both = ok[bones[:, 0]] & ok[bones[:, 1]]
            frame.bones.set_segments([xy[t, [a, b]] for a, b in bones[both]])
            frame.dots.set_offsets(xy[t, ok] if ok.any() else np.empty((0, 2)))
            if values is not None:
                frame.joints.set_offsets(xy[t, ok] if ok.any() else np.empty((0, 2)))
                frame.joints.set_array(values[t, ok])
                frame.joints.set_sizes(MAX_MARKER * values[t, ok])
            else:
                shown = np.where(ok, 36.0, 0.0)
                frame.joints.set_offsets(np.nan_to_num(xy[t]))
                frame.joints.set_sizes(shown)
            frame.title.set_text(titles[t])
            writer.grab_frame()
            if png_dir is not None:
                frame.fig.savefig(png_dir / f"{out.stem}-{t:03d}.png", dpi=100)
            if t == 0:
                # the layout does not change between frames: freeze it after the first one (speed)
                frame.fig.set_layout_engine("none")
        writer.finish()
        if gif != tmp:
            os.replace(gif, tmp)

    return atomic_write(out, write)


def sequence_label(row) -> str:
    """``subject 001, nm-01, view 90°`` for a sequence-table row (a Series or an ``itertuples`` row)."""
    r = row.to_dict() if hasattr(row, "to_dict") else row._asdict()  # Series.view is a method: use the dict
    return f"subject {int(r['subject']):03d}, {r['condition']}-{int(r['sequence']):02d}, view {int(r['view'])}°"


def select_sequence(dataset, *, subject=None, condition=None, sequence=None, view=None, index=None) -> int:
    """Table position of the one sequence matching the selection; ``DataError`` listing what exists."""
    table = dataset.sequences
    if index is not None:
        if not 0 <= int(index) < len(table):
            raise DataError(f"{dataset.path}: --index {index} out of range; the dataset has {len(table)} sequences "
                             f"(0..{len(table) - 1})")
        return int(index)
    mask = np.ones(len(table), dtype=bool)
    asked = []
    for col, want in (("subject", subject), ("condition", condition), ("sequence", sequence), ("view", view)):
        if want is None:
            continue
        asked.append(f"{col}={want}")
        if col == "condition":
            mask &= table[col].astype(str).str.lower().to_numpy() == str(want).lower()
        else:
            mask &= table[col].to_numpy(np.int64) == int(want)
    hits = np.flatnonzero(mask)
    if len(hits) == 1 or (len(hits) > 1 and not asked):
        return int(hits[0])
    if len(hits) == 0:
        raise DataError(f"{dataset.path}: no sequence with {', '.join(asked)}; it has {_summary(table)}")
    sub = table.iloc[hits]
    listing = "; ".join(f"[{i}] {sequence_label(r)}" for i, r in zip(hits[:10], sub.head(10).itertuples()))
    more = f" (and {len(hits) - 10} more)" if len(hits) > 10 else ""
    raise DataError(
        f"{dataset.path}: {len(hits)} sequences match {', '.join(asked)}: {listing}{more}; "
        "narrow the selection (--subject/--condition/--sequence/--view) or pass --index"
    )


def _summary(table) -> str:
    def values(col):
        u = sorted(table[col].unique().tolist(), key=lambda x: (str(type(x)), x))
        shown = ", ".join(str(x) for x in u[:20])
        return f"{col} {{{shown}{', ...' if len(u) > 20 else ''}}}"

    return f"{len(table)} sequences with " + "; ".join(values(c) for c in ("subject", "condition", "sequence", "view"))


def show(
    data_dir: str | os.PathLike,
    output: str | os.PathLike,
    *,
    subject: int | None = None,
    condition: str | None = None,
    sequence: int | None = None,
    view: int | None = None,
    index: int | None = None,
    fps: float = 10,
) -> Path:
    """Animate one sequence of a converted dataset into ``output`` (GIF); return its path.

    Select the sequence by ``subject``/``condition``/``sequence``/``view`` (all given parts must
    match exactly one sequence) or by its table position ``index``. The GIF has one frame per pose
    frame; titles show the sequence and the original frame number.
    """
    from gaitgraph.data.format import load_dataset

    ds = load_dataset(data_dir)
    i = select_sequence(ds, subject=subject, condition=condition, sequence=sequence, view=view, index=index)
    row = ds.sequences.iloc[i]
    poses = np.asarray(ds.sequence(i))
    start = int(row["offset"])
    frames = np.asarray(ds.frames[start : start + int(row["length"])])
    label = sequence_label(row)
    synthetic = " (synthetic)" if ds.meta.get("synthetic") else ""
    titles = [f"{label}{synthetic}\nframe {t + 1}/{len(poses)} (#{int(f)})" for t, f in enumerate(frames)]
    output = Path(output)
    if output.suffix.lower() != ".gif":
        raise DataError(f"{output}: only GIF output is supported (use a .gif file name)")
    return write_skeleton_gif(poses, ds.skeleton, output, titles, fps=fps)
