"""Import users' own pose-estimator output: AlphaPose / OpenPose / CSV -> per-person tracks -> converted dataset.

The readers (:mod:`gaitgraph.data.estimator_readers`) collect the people of every video in the target
skeleton (joints mapped by name, :mod:`gaitgraph.data.keypoint_layouts`); tracks come from the
estimator's track ids or from temporal continuity (:mod:`gaitgraph.data.tracking`); a labels table
(:mod:`gaitgraph.data.track_labels`) or CASIA-B-style folder names give each kept track its subject,
condition, sequence and view. See ``docs/own-data.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gaitgraph.data.errors import DataError, SkipCounter
from gaitgraph.data.estimator_readers import DetectionCollector, natural_key, read_alphapose, read_csv_poses, read_openpose
from gaitgraph.data.format import sequences_frame, write_dataset
from gaitgraph.data.keypoint_layouts import KIND_LAYOUTS, LAYOUTS
from gaitgraph.data.track_labels import label_for, read_labels
from gaitgraph.data.tracking import GATE, MAX_GAP, select_tracks, track_by_continuity, tracks_from_ids
from gaitgraph.outputs import check_folder_output
from gaitgraph.skeleton import get_skeleton

DEFAULT_SKELETON = {"alphapose": "coco17", "openpose": "openpose18", "csv": "coco17"}
MIN_LENGTH = 10


@dataclass
class ImportResult:
    """What an import wrote: the dataset's path, its meta and sequence table, and the skip counts."""

    path: Path
    meta: dict
    sequences: pd.DataFrame
    counter: SkipCounter

    def summary(self) -> str:
        s = self.meta["stats"]
        lines = [
            f"read {s['people_read']} people in {s['videos']} video(s); {s['tracks_found']} track(s) found "
            f"({s['tracking']}), {s['tracks_kept']} kept (>= {self.meta['import']['min_length']} frames)",
            self.counter.text("items") if self.counter or self.counter.fixed else "Nothing skipped.",
        ]
        for row in self.sequences.head(20).itertuples(index=False):
            label = f"subject {row.subject} {row.condition}-{row.sequence:02d} view {row.view}" if self.meta["labelled"] else f"track {row.subject}"
            lines.append(f"  {label}: {row.length} frames, {row.source}")
        if len(self.sequences) > 20:
            lines.append(f"  ... {len(self.sequences) - 20} more (see {self.path}/sequences.parquet)")
        return "\n".join(lines)


def import_poses(kind: str, input: str | os.PathLike, output: str | os.PathLike, *, skeleton: str | None = None,
                 layout: str = "auto", labels: str | os.PathLike | None = None, split: str = "test",
                 min_length: int = MIN_LENGTH, max_gap: int = MAX_GAP, gate: float = GATE, strict: bool = False,
                 progress: bool = False) -> ImportResult:
    """Read one pose-estimator output, split it into per-person tracks and write a converted dataset."""
    if kind not in KIND_LAYOUTS:
        raise ValueError(f"unknown input kind {kind!r}; known: {', '.join(KIND_LAYOUTS)}")
    if layout != "auto" and layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: auto, {', '.join(LAYOUTS)}")
    if min_length < 2:
        raise ValueError("min_length must be at least 2 (one-frame tracks are always dropped)")
    input, target = Path(input), get_skeleton(skeleton or DEFAULT_SKELETON[kind])
    if not input.exists():
        raise FileNotFoundError(f"{input}: no such file or folder")
    check_folder_output(output, inputs=[input, labels])  # before the work
    table = read_labels(Path(labels)) if labels is not None else None
    counter = SkipCounter(strict=strict)
    reader = DetectionCollector(kind, layout, target, counter)
    folder_labels = {}
    if kind == "alphapose":
        read_alphapose(input, reader)
    elif kind == "openpose":
        read_openpose(input, reader, progress)
    else:
        folder_labels = read_csv_poses(input, reader)
        if set(folder_labels) != set(reader.videos):  # labels from folder names only if every folder has them
            folder_labels = {}

    tracks, found, modes = [], 0, set()
    for video in sorted(reader.videos, key=natural_key):
        det = reader.videos[video]
        frames, poses = np.asarray(det.frames, dtype=np.int64), np.stack(det.poses)
        if all(i is not None for i in det.ids):
            labels_ = tracks_from_ids(det.ids)
            modes.add("track ids")
        else:
            if any(i is not None for i in det.ids):
                counter.fix("videos with track ids on only some people (ids ignored)")
            labels_ = track_by_continuity(frames, poses, max_gap=max_gap, gate=gate)
            modes.add("continuity")
        found += int(labels_.max()) + 1
        for idx in select_tracks(labels_, frames, np.asarray(det.scores), counter, min_length=min_length, where=video):
            given = det.ids[idx[0]]
            tracks.append((video, frames[idx], poses[idx], given))
    tracks.sort(key=lambda t: (natural_key(t[0]), int(t[1][0])))

    rows = {c: [] for c in ("subject", "condition", "sequence", "view", "split", "offset", "length", "source")}
    kept_poses, kept_frames, offset = [], [], 0
    labelled = table is not None or bool(folder_labels)
    for number, (video, frames, poses, given) in enumerate(tracks, start=1):
        source = f"{video} frames {frames[0]}-{frames[-1]}" + (f" id {given}" if given is not None else "") + f" (track {number})"
        label = label_for(table, number, video) if table is not None else folder_labels.get(video)
        if labelled and label is None:
            counter.skip("tracks without a row in the labels table", f"track {number} ({video})")
            continue
        label = label or {"subject": number}
        for col, default in (("condition", "nm"), ("sequence", 0), ("view", 0), ("split", split)):
            label.setdefault(col, default)
        for col in ("subject", "condition", "sequence", "view", "split"):
            rows[col].append(label[col])
        rows["offset"].append(offset)
        rows["length"].append(len(frames))
        rows["source"].append(source)
        kept_poses.append(poses)
        kept_frames.append(frames)
        offset += len(frames)

    if not kept_poses:
        why = counter.text("items") if counter else "nothing skipped"
        hint = ("check the labels table's track/source values against an import without --labels" if labelled and tracks
                else "lower --min-length if the recordings are short")
        raise DataError(f"{input}: nothing to write: {reader.people} people read, {len(tracks)} track(s) of at least "
                        f"{min_length} frames ({why}); {hint}")
    sequences = sequences_frame(rows)
    meta = {
        "dataset": "custom", "skeleton": target.name, "keypoints": kind, "synthetic": False, "labelled": labelled,
        "import": {"kind": kind, "input": str(input), "layout": "+".join(sorted(set().union(*(d.layouts for d in reader.videos.values())))),
                   "labels": str(labels) if labels is not None else None, "min_length": min_length,
                   "max_gap": max_gap, "gate": gate},
        "stats": {"people_read": reader.people, "videos": len(reader.videos), "tracking": " + ".join(sorted(modes)),
                  "tracks_found": found, "tracks_kept": len(sequences), **counter.summary()},
    }
    path = write_dataset(output, np.concatenate(kept_poses), np.concatenate(kept_frames), sequences, meta,
                         kind="imported dataset", inputs=[input, labels])
    return ImportResult(path, meta, sequences, counter)
