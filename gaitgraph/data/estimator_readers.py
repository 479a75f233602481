"""Readers of pose-estimator output (own recordings): AlphaPose / OpenPose / CSV -> people per video.

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

Each reader feeds every person to a :class:`DetectionCollector`, which checks the values, maps them to
the target skeleton (:mod:`gaitgraph.data.keypoint_layouts`) and collects them per video
(:class:`Detections`); :mod:`gaitgraph.data.importers` splits them into tracks.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitgraph.data.errors import CONFIDENCE_CLIPPED, DataError, SkipCounter, clip_confidences, decode_reason
from gaitgraph.data.keypoint_layouts import KIND_LAYOUTS, LAYOUTS, layout_of, remap
from gaitgraph.data.tracking import visible
from gaitgraph.skeleton import COCO17, Skeleton

_NUMBER = re.compile(r"\d+")
_CASIA_FOLDER = re.compile(r"(\d{3})-(nm|bg|cl)-(\d{2})-(\d{3})$")


@dataclass
class Detections:
    """Every person read from one video, already in the target layout."""

    source: str  # video: JSON file, folder + prefix, or CSV folder
    frames: list[int] = field(default_factory=list)
    poses: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    ids: list = field(default_factory=list)  # track id or None
    layouts: set[str] = field(default_factory=set)


class DetectionCollector:
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


def read_alphapose(path: Path, reader: DetectionCollector) -> None:
    try:
        data = json.loads(Path(path).read_bytes())  # UTF-8/16/32 as JSON allows
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not valid JSON ({decode_reason(e)}); give AlphaPose's alphapose-results.json") from None
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
    names = sorted({str(e.get("image_id")) for e in data if isinstance(e, dict)}, key=natural_key)
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


def read_openpose(path: Path, reader: DetectionCollector, progress: bool = False) -> None:
    files = [path] if path.is_file() else sorted(path.rglob("*_keypoints.json"), key=lambda p: natural_key(str(p)))
    if not files:
        raise DataError(f"{path}: no *_keypoints.json files (OpenPose --write_json output) in this folder")
    if progress and len(files) > 1:
        from tqdm import tqdm

        files = tqdm(files, desc="read", unit="file")
    for n, file in enumerate(files):
        try:
            data = json.loads(file.read_bytes())  # UTF-8/16/32 as JSON allows
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            reader.counter.skip("files that are not valid JSON", f"{file} ({decode_reason(e)})")
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


def read_csv_poses(path: Path, reader: DetectionCollector) -> dict[str, dict]:
    """CASIA-B layout CSV; returns the labels found in CASIA-B-style folder names, per video."""
    expected = ["image_name"] + [f"{j}_{c}" for j in COCO17.joints for c in ("x", "y", "conf")]
    labels = {}
    try:
        return _read_csv_rows(path, reader, expected, labels)
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({decode_reason(e)}); save the CSV as UTF-8") from None



def _read_csv_rows(path: Path, reader: DetectionCollector, expected: list[str], labels: dict) -> dict[str, dict]:
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


def natural_key(text: str):
    """Sort key that orders the numbers in a name by value (``img2`` before ``img10``)."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text)]
