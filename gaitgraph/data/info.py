"""Summary of a converted dataset: counts per split/condition/view, lengths, missing joints."""

from __future__ import annotations

import os

import numpy as np


def dataset_info(path: str | os.PathLike) -> dict:
    """Facts about a converted dataset as a JSON-serialisable dict."""
    from gaitgraph.data.format import load_dataset
    from gaitgraph.data.normalize import missing_joints

    ds = load_dataset(path)
    t = ds.sequences
    lengths = t["length"].to_numpy()
    # missing joints counted in chunks so that a memory-mapped dataset is not read in at once
    missing = 0
    for start in range(0, len(ds.poses), 1 << 18):
        missing += int(missing_joints(np.asarray(ds.poses[start : start + (1 << 18)])).sum())
    total_joints = int(ds.poses.shape[0] * ds.poses.shape[1]) or 1

    def counts(col):
        g = t.groupby(col, observed=True)
        return {str(k): {"sequences": int(len(v)), "frames": int(v["length"].sum())} for k, v in g}

    return {
        "path": str(ds.path),
        "dataset": ds.meta.get("dataset"),
        "skeleton": ds.meta.get("skeleton"),
        "keypoints": ds.meta.get("keypoints"),
        "synthetic": ds.meta.get("synthetic", False),
        "sequences": int(len(t)),
        "frames": int(len(ds.poses)),
        # subject ids below 0 are withheld identities (format.UNKNOWN_SUBJECT), counted apart
        "subjects": {s: int(t.loc[(t.split == s) & (t.subject >= 0), "subject"].nunique()) for s in sorted(t.split.unique())},
        "unknown_subject_sequences": int((t["subject"] < 0).sum()),
        "split": counts("split"),
        "condition": counts("condition"),
        "view": {k: v for k, v in sorted(counts("view").items(), key=lambda kv: int(kv[0]))},
        # split/role of the sequences with a fixed protocol role (format version 2: Gait3D, GREW)
        "role": counts((t["split"] + "/" + t["role"])[t["role"] != ""]) if "role" in t else {},
        "length": {
            "min": int(lengths.min()) if len(lengths) else 0,
            "median": float(np.median(lengths)) if len(lengths) else 0.0,
            "mean": round(float(lengths.mean()), 2) if len(lengths) else 0.0,
            "max": int(lengths.max()) if len(lengths) else 0,
        },
        "missing_joints_percent": round(100.0 * missing / total_joints, 3),
        "normalization": ds.meta.get("normalization"),
        "stats": ds.meta.get("stats", {}),
    }


def format_info(info: dict) -> str:
    """Human-readable text of :func:`dataset_info`."""
    lines = [
        f"{info['path']}: {info['dataset']} ({info['keypoints']}, {info['skeleton']})" + (" [synthetic]" if info["synthetic"] else ""),
        f"  {info['sequences']} sequences, {info['frames']} frames; subjects: "
        + ", ".join(f"{k} {v}" for k, v in info["subjects"].items())
        + (f"; {info['unknown_subject_sequences']} sequences of withheld subjects" if info["unknown_subject_sequences"] else ""),
    ]
    for key in ("split", "condition", "view", "role"):
        if not info[key]:
            continue
        lines.append(f"  per {key}: " + ", ".join(f"{k} {v['sequences']} seq/{v['frames']} fr" for k, v in info[key].items()))
    ln = info["length"]
    lines.append(f"  length: min {ln['min']}, median {ln['median']:g}, mean {ln['mean']:g}, max {ln['max']}")
    lines.append(f"  missing joints: {info['missing_joints_percent']:g} %")
    norm = info["normalization"]
    fill = " (missing joints filled before training)" if norm and norm.get("fill_missing_joints") else ""
    lines.append(f"  normalization: {norm['mode'] + fill if norm else 'none applied (converted data, raw pixels)'}")
    stats = info["stats"]
    lines.append("  conversion stats: " + (", ".join(f"{k}: {v}" for k, v in stats.items()) if stats else "nothing skipped"))
    return "\n".join(lines)
