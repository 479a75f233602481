"""Import users' own pose-estimator output: AlphaPose / OpenPose / CSV -> per-person tracks -> converted dataset.

Inputs (``docs/own-data.md``):

* ``alphapose``: AlphaPose's results list (``alphapose-results.json``): ``[{image_id, category_id?,
  keypoints[3K], score, idx?}, ...]``, several entries per image; ``idx`` = track id (``--pose_track``).
  K = 17 (COCO-17) or 26 (Halpe-26). The frame number is the last number in ``image_id``'s file name;
  images in different folders are different videos.
* ``openpose``: a ``*_keypoints.json`` file or a folder (searched recursively) of them, one per frame:
  ``{"people": [{"pose_keypoints_2d": [3K], "person_id": [...]}, ...]}``, K = 25 (BODY_25) or 18
  (COCO-18, the OUMVLP-Pose order). The frame number is the number before ``_keypoints.json``; files
  with another prefix or in another folder are different videos.
* ``csv``: the CASIA-B layout, header ``image_name`` + 51 columns ``{joint}_{x,y,conf}`` (COCO-17).
  Rows are grouped into videos by the folder of ``image_name``; a folder named like CASIA-B's
  (``001-nm-01-090``) also gives subject, condition, sequence and view.

Keypoints are mapped to the target layout (``coco17`` or ``openpose18``) BY JOINT NAME, never by
position: BODY_25's MidHip and feet are dropped, COCO-17 -> OpenPose-18 gets the neck as the midpoint
of the shoulders (confidence: the smaller of the two; (0, 0, 0) if a shoulder is missing).
A file whose value count is another known layout than the one declared (``--layout``) is an error.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gaitgraph.data.errors import CONFIDENCE_CLIPPED, DataError, SkipCounter, clip_confidences
from gaitgraph.data.format import sequences_frame, write_dataset
from gaitgraph.data.tracking import GATE, MAX_GAP, select_tracks, track_by_continuity, tracks_from_ids, visible
from gaitgraph.outputs import check_folder_output
from gaitgraph.skeleton import COCO17, OPENPOSE18, Skeleton, get_skeleton

# Source layouts: joint names in file order, with the names of gaitgraph.skeleton where they exist.
BODY25 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
    "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)
HALPE26 = COCO17.joints + (
    "head", "neck", "mid_hip", "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe",
    "left_heel", "right_heel",
)
LAYOUTS: dict[str, tuple[str, ...]] = {
    "coco17": COCO17.joints, "coco18": OPENPOSE18.joints, "body25": BODY25, "halpe26": HALPE26,
}
LAYOUT_TITLES = {"coco17": "COCO-17", "coco18": "COCO-18 (OpenPose-18)", "body25": "BODY_25", "halpe26": "Halpe-26"}
KIND_LAYOUTS = {"alphapose": ("coco17", "halpe26"), "openpose": ("body25", "coco18"), "csv": ("coco17",)}
DEFAULT_SKELETON = {"alphapose": "coco17", "openpose": "openpose18", "csv": "coco17"}
MIN_LENGTH = 10
LABEL_COLUMNS = ("track", "source", "subject", "condition", "sequence", "view", "split")

_NUMBER = re.compile(r"\d+")
_CASIA_FOLDER = re.compile(r"(\d{3})-(nm|bg|cl)-(\d{2})-(\d{3})$")


# ----------------------------------------------------------------------------------- joint mapping


def joint_mapping(layout: str, target: str | Skeleton) -> tuple[np.ndarray, bool]:
    """Source index of every target joint (-1: computed) and whether the neck is the shoulder midpoint."""
    return _joint_mapping(layout, get_skeleton(target).name)


@functools.lru_cache(maxsize=None)
def _joint_mapping(layout: str, target: str) -> tuple[np.ndarray, bool]:
    names, skel = LAYOUTS[layout], get_skeleton(target)
    idx = np.array([names.index(j) if j in names else -1 for j in skel.joints])
    missing = [j for j, i in zip(skel.joints, idx) if i < 0]
    if missing not in ([], ["neck"]):
        raise ValueError(f"{LAYOUT_TITLES[layout]} has no joints {missing} of {skel.name}")
    return idx, bool(missing)


def remap(poses: np.ndarray, layout: str, target: str | Skeleton) -> np.ndarray:
    """(N, K, 3) in a source layout -> (N, V, 3) in the target skeleton, by joint name."""
    idx, neck_from_shoulders = joint_mapping(layout, target)
    out = poses[:, np.maximum(idx, 0)].astype(np.float32)
    if neck_from_shoulders:
        names = LAYOUTS[layout]
        left, right = poses[:, names.index("left_shoulder")], poses[:, names.index("right_shoulder")]
        both = (visible(left[:, None]) & visible(right[:, None]))[:, 0]
        neck = np.zeros_like(left, dtype=np.float32)
        neck[both, :2] = 0.5 * (left[both, :2] + right[both, :2])
        neck[both, 2] = np.minimum(left[both, 2], right[both, 2])
        out[:, int(np.flatnonzero(idx < 0)[0])] = neck
    return out


def layout_of(num_values: int, kind: str, declared: str, where: str) -> str | None:
    """The layout of a person with ``num_values`` numbers; None = malformed (skip), DataError = wrong layout."""
    found = next((name for name, joints in LAYOUTS.items() if 3 * len(joints) == num_values), None)
    allowed = KIND_LAYOUTS[kind]
    if declared != "auto":
        if found == declared:
            return found
        if found is not None:
            raise DataError(
                f"{where}: {num_values} values per person = {LAYOUT_TITLES[found]}, but --layout {declared} expects "
                f"{3 * len(LAYOUTS[declared])} ({LAYOUT_TITLES[declared]}); reading it as {declared} would put joints "
                f"in the wrong places. Use --layout {found if found in allowed else 'auto'}."
            )
        return None
    if found in allowed:
        return found
    if found is not None:
        raise DataError(f"{where}: {num_values} values per person = {LAYOUT_TITLES[found]}, which {kind} does not write "
                        f"(expected {' or '.join(LAYOUT_TITLES[a] for a in allowed)})")
    return None


# ------------------------------------------------------------------------------------ detections


@dataclass
class Detections:
    """Every person read from one video, already in the target layout."""

    source: str  # video: JSON file, folder + prefix, or CSV folder
    frames: list[int] = field(default_factory=list)
    poses: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    ids: list = field(default_factory=list)  # track id or None
    layouts: set[str] = field(default_factory=set)


class _Reader:
    """Shared checks: value count vs layout, NaN, all-zero people; collects detections per video."""

    def __init__(self, kind: str, layout: str, target: Skeleton, counter: SkipCounter):
        self.kind, self.layout, self.target, self.counter = kind, layout, target, counter
        self.videos: dict[str, Detections] = {}
        self.people = 0

    def person(self, video: str, frame: int, values, score: float | None, track_id, where: str) -> None:
        self.people += 1
        try:
            arr = np.asarray(values, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            self.counter.skip("people with non-numeric keypoints", where)
            return
        layout = layout_of(len(arr), self.kind, self.layout, where)
        if layout is None:
            expected = " or ".join(str(3 * len(LAYOUTS[a])) for a in ((self.layout,) if self.layout != "auto" else KIND_LAYOUTS[self.kind]))
            self.counter.skip(f"people with a wrong number of keypoint values (expected {expected})", f"{where} ({len(arr)} values)")
            return
        if not np.isfinite(arr).all():
            self.counter.skip("people with NaN or infinite keypoints", where)
            return
        if not arr.any():
            self.counter.skip("people whose keypoints are all zero", where)
            return
        self.counter.repair(CONFIDENCE_CLIPPED, int(clip_confidences(arr.reshape(-1, 3)).sum()), [where])
        pose = remap(arr.reshape(1, -1, 3), layout, self.target)[0]
        if not visible(pose).any():
            self.counter.skip(f"people with no {self.target.name} joint detected", where)
            return
        det = self.videos.setdefault(video, Detections(video))
        det.frames.append(frame)
        det.poses.append(pose)
        det.scores.append(float(score) if score is not None else float(pose[:, 2].sum()))
        det.ids.append(track_id)
        det.layouts.add(layout)


def frame_number(name: str, fallback: int) -> int:
    """The last number in a file name's stem (``000123.jpg`` -> 123, ``img_12-3.png`` -> 3)."""
    numbers = _NUMBER.findall(Path(name).stem)
    return int(numbers[-1]) if numbers else fallback


def _track_id(value):
    """AlphaPose ``idx`` / OpenPose ``person_id``: a number or a list of one; -1 means untracked."""
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
        return None
    return int(value)


def read_alphapose(path: Path, reader: _Reader) -> None:
    try:
        data = json.loads(Path(path).read_bytes())  # UTF-8/16/32 as JSON allows
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not valid JSON ({_reason(e)}); give AlphaPose's alphapose-results.json") from None
    hint = ""
    if isinstance(data, dict):
        if "people" in data:
            hint = "; this looks like an OpenPose *_keypoints.json file: use `gaitgraph-data import openpose`"
        elif "bodies" in data:
            hint = "; this looks like AlphaPose's --format cmu output: run AlphaPose with its default format"
        else:
            hint = "; a dict keyed by image (PoseFlow output?) is not supported: use alphapose-results.json"
    elif isinstance(data, list) and data and not (isinstance(data[0], dict) and {"image_id", "keypoints"} <= set(data[0])):
        hint = f"; the first entry is {str(data[0])[:80]!r}"
    if hint or not isinstance(data, list):
        got = f"a {type(data).__name__}" + (f" with keys {', '.join(list(data)[:6])}" if isinstance(data, dict) else "")
        raise DataError(f"{path}: unknown JSON shape: expected AlphaPose's results list "
                        f"[{{\"image_id\", \"keypoints\", \"score\", \"idx\"?}}, ...], got {got}{hint}")
    names = sorted({str(e.get("image_id")) for e in data if isinstance(e, dict)}, key=_natural_key)
    image_info = {}  # image_id -> (video, frame number), once per image
    for i, name in enumerate(names):
        folder = Path(name).parent.as_posix()
        image_info[name] = (path.name if folder == "." else f"{path.name}:{folder}", frame_number(name, i))
    for i, entry in enumerate(data):
        where = f"{path} entry {i}"
        if not isinstance(entry, dict) or "keypoints" not in entry or "image_id" not in entry:
            reader.counter.skip("entries without image_id or keypoints", where)
            continue
        if entry.get("category_id", 1) != 1:
            reader.counter.skip("entries that are not people (category_id != 1)", where)
            continue
        image = str(entry["image_id"])
        video, frame = image_info[image]
        reader.person(video, frame, entry["keypoints"], entry.get("score"),
                      _track_id(entry.get("idx")), f"{where} (image {image})")


def read_openpose(path: Path, reader: _Reader, progress: bool = False) -> None:
    files = [path] if path.is_file() else sorted(path.rglob("*_keypoints.json"), key=lambda p: _natural_key(str(p)))
    if not files:
        raise DataError(f"{path}: no *_keypoints.json files (OpenPose --write_json output) in this folder")
    if progress and len(files) > 1:
        from tqdm import tqdm

        files = tqdm(files, desc="read", unit="file")
    for n, file in enumerate(files):
        try:
            data = json.loads(file.read_bytes())  # UTF-8/16/32 as JSON allows
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            reader.counter.skip("files that are not valid JSON", f"{file} ({_reason(e)})")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("people"), list):
            got = f"keys {', '.join(list(data)[:6])}" if isinstance(data, dict) else f"a {type(data).__name__}"
            hint = "; this looks like AlphaPose's results list: use `gaitgraph-data import alphapose`" if isinstance(data, list) else ""
            raise DataError(f"{file}: unknown JSON shape: expected OpenPose's {{\"people\": [{{\"pose_keypoints_2d\": "
                            f"[...]}}]}}, got {got}{hint}")
        stem = file.name[: -len("_keypoints.json")] if file.name.endswith("_keypoints.json") else file.stem
        numbers = list(_NUMBER.finditer(stem))
        frame = int(numbers[-1].group()) if numbers else n
        prefix = stem[: numbers[-1].start()].rstrip("_-") if numbers else stem
        rel = file.parent.relative_to(path) if path.is_dir() else Path(".")
        parts = (path.name if path.is_dir() else "", str(rel) if str(rel) != "." else "", prefix)
        video = "/".join(p for p in parts if p) or file.parent.name
        if not data["people"]:
            reader.counter.skip("frames with zero people", str(file))
            continue
        for k, person in enumerate(data["people"]):
            where = f"{file} person {k}"
            if not isinstance(person, dict) or "pose_keypoints_2d" not in person:
                reader.counter.skip("people without pose_keypoints_2d", where)
                continue
            reader.person(video, frame, person["pose_keypoints_2d"], None, _track_id(person.get("person_id")), where)


def read_csv_poses(path: Path, reader: _Reader) -> dict[str, dict]:
    """CASIA-B layout CSV; returns the labels found in CASIA-B-style folder names, per video."""
    expected = ["image_name"] + [f"{j}_{c}" for j in COCO17.joints for c in ("x", "y", "conf")]
    labels = {}
    try:
        return _read_csv_rows(path, reader, expected, labels)
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({_reason(e)}); save the CSV as UTF-8") from None


def _reason(e: ValueError) -> str:
    """The short reason of a JSON or text decoding error."""
    if isinstance(e, UnicodeDecodeError):
        return f"byte 0x{e.object[e.start]:02x} at offset {e.start} is not {e.encoding}"
    return str(e)


def _read_csv_rows(path: Path, reader: _Reader, expected: list[str], labels: dict) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        header = [c.strip().lstrip("\ufeff") for c in next(rows, [])]
        if header != expected:
            bad = next((i for i, (a, b) in enumerate(zip(header, expected)) if a != b), min(len(header), len(expected)))
            got = repr(header[bad]) if bad < len(header) else "nothing"
            raise DataError(f"{path}:1: wrong header: {len(header)} columns, expected {len(expected)} "
                            f"(image_name,nose_x,...,right_ankle_conf); column {bad + 1} is {got}, expected {expected[bad]!r}"
                            if bad < len(expected) else f"{path}:1: wrong header: {len(header)} columns, expected {len(expected)}")
        for line, row in enumerate(rows, start=2):
            if not row:
                continue
            image = row[0]
            folder = Path(image).parent.as_posix().removeprefix("./") or "."
            m = _CASIA_FOLDER.search(folder)
            if m:
                labels[folder] = {"subject": int(m[1]), "condition": m[2], "sequence": int(m[3]), "view": int(m[4])}
            where = f"{path}:{line}"
            if len(row) != len(expected):
                reader.people += 1
                reader.counter.skip(f"rows with a wrong number of values (expected {len(expected)})", f"{where} ({len(row)} values)")
                continue
            try:
                values = [float(v) for v in row[1:]]
            except ValueError:
                reader.people += 1
                reader.counter.skip("rows with non-numeric values", where)
                continue
            reader.person(folder, frame_number(image, line), values, None, None, where)
    return labels


def _natural_key(text: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text)]


# ---------------------------------------------------------------------------------------- labels


def read_labels(path: Path) -> pd.DataFrame:
    """The sidecar labels table: ``track`` and/or ``source``, ``subject``; optional condition, sequence, view, split."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not a readable CSV labels table ({_reason(e)})") from None
    table.columns = [c.strip() for c in table.columns]
    unknown = sorted(set(table.columns) - set(LABEL_COLUMNS))
    if unknown or "subject" not in table.columns or not ({"track", "source"} & set(table.columns)):
        raise DataError(f"{path}: labels table needs columns subject and track and/or source (optional: condition, "
                        f"sequence, view, split); got {', '.join(table.columns)}"
                        + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    for col in ("track", "subject", "sequence", "view"):
        if col in table.columns:
            bad = [v for v in table[col] if not (v.strip().lstrip("-").isdigit() or (v.strip() == "" and col != "subject"))]
            if bad:
                raise DataError(f"{path}: column {col} must hold whole numbers, found {bad[0]!r}")
    return table


def _label_for(table: pd.DataFrame | None, track: int, source: str) -> dict | None:
    if table is None:
        return None
    hit = pd.Series(False, index=table.index)
    if "track" in table.columns:
        hit |= table["track"].str.strip() == str(track)
    if "source" in table.columns:
        src = table["source"].str.strip()
        # the video itself, or what contains it: the AlphaPose file ("file.json" for "file.json:cam1"), a folder
        hit |= (src != "") & src.map(lambda v: source == v or source.startswith((v + ":", v + "/")))
    rows = table[hit]
    if rows.empty:
        return None
    row = rows.iloc[0]
    out = {"subject": int(row["subject"])}
    for col, conv in (("condition", str), ("sequence", int), ("view", int), ("split", str)):
        if col in rows.columns and row[col].strip():
            out[col] = conv(row[col].strip())
    return out


# ------------------------------------------------------------------------------------------- main


@dataclass
class ImportResult:
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
    reader = _Reader(kind, layout, target, counter)
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
    for video in sorted(reader.videos, key=_natural_key):
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
    tracks.sort(key=lambda t: (_natural_key(t[0]), int(t[1][0])))

    rows = {c: [] for c in ("subject", "condition", "sequence", "view", "split", "offset", "length", "source")}
    kept_poses, kept_frames, offset = [], [], 0
    labelled = table is not None or bool(folder_labels)
    for number, (video, frames, poses, given) in enumerate(tracks, start=1):
        source = f"{video} frames {frames[0]}-{frames[-1]}" + (f" id {given}" if given is not None else "") + f" (track {number})"
        label = _label_for(table, number, video) if table is not None else folder_labels.get(video)
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
