"""Converted dataset format: round trip, memory maps, validation, atomic writes, version check."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gaitgraph.data.format import SEQUENCE_COLUMNS, DatasetFormatError, load_dataset, write_dataset


def small(v=17, seed=0):
    rng = np.random.default_rng(seed)
    poses = rng.uniform(0, 320, size=(7, v, 3)).astype(np.float32)
    table = pd.DataFrame(
        {"subject": [3, 90], "condition": ["nm", "cl"], "sequence": [1, 2], "view": [0, 180], "split": ["train", "test"],
         "offset": [0, 4], "length": [4, 3], "source": ["a.csv:2-5", "a.csv:6-8"]}
    )
    return poses, np.array([1, 2, 5, 6, 1, 2, 3]), table


def test_round_trip(tmp_path):
    poses, frames, table = small()
    meta = {"dataset": "casia-b", "skeleton": "coco", "keypoints": "hrnet", "synthetic": False, "stats": {"x": np.int64(2)}}
    path = write_dataset(tmp_path / "ds", poses, frames, table, meta)
    ds = load_dataset(path)
    assert isinstance(ds.poses, np.memmap) and ds.poses.dtype == np.float32
    np.testing.assert_array_equal(ds.poses, poses)
    np.testing.assert_array_equal(ds.frames, frames)
    assert ds.frames.dtype == np.int32
    assert list(ds.sequences.columns) == list(SEQUENCE_COLUMNS)
    assert {c: str(t) for c, t in ds.sequences.dtypes.items()} == SEQUENCE_COLUMNS
    assert ds.meta["skeleton"] == "coco17" and ds.meta["num_frames"] == 7 and ds.meta["stats"] == {"x": 2}
    assert ds.skeleton.num_joints == 17 and len(ds) == 2
    np.testing.assert_array_equal(ds.sequence(1), poses[4:])
    assert [len(p) for _, p in ds.iter_sequences()] == [4, 3]
    assert not isinstance(load_dataset(path, mmap=False).poses, np.memmap)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, f, t: (p[:, :16], f, t), r"poses must be \(F, 17, 3\)"),
        (lambda p, f, t: (p, f[:-1], t), "frames has 6 rows"),
        (lambda p, f, t: (p, f, t.assign(length=[4, 9])), "points outside"),
        (lambda p, f, t: (p, f, t.assign(length=[0, 3])), "empty sequences"),
        (lambda p, f, t: (p, f, t.drop(columns="view")), "view"),
    ],
)
def test_invalid_input_is_rejected_and_nothing_is_written(tmp_path, change, message):
    poses, frames, table = change(*small())
    with pytest.raises((ValueError, KeyError), match=message):
        write_dataset(tmp_path / "ds", poses, frames, table, {"dataset": "casia-b", "skeleton": "coco17", "keypoints": "hrnet"})
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_leaves_no_output_and_keeps_the_old_one(tmp_path, monkeypatch):
    poses, frames, table = small()
    meta = {"dataset": "casia-b", "skeleton": "coco17", "keypoints": "hrnet"}
    write_dataset(tmp_path / "ds", poses, frames, table, meta)
    real_save = np.save

    def save_then_fail(file, arr, *a, **k):
        real_save(file, arr, *a, **k)
        if str(file).endswith("frames.npy"):
            raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", save_then_fail)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(tmp_path / "ds", poses * 2, frames, table, meta)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(tmp_path / "new", poses, frames, table, meta)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no temp dirs, no "new"
    np.testing.assert_array_equal(load_dataset(tmp_path / "ds").poses, poses)


def test_load_rejects_other_directories_and_versions(tmp_path):
    with pytest.raises(DatasetFormatError, match="no meta.json"):
        load_dataset(tmp_path)
    poses, frames, table = small()
    path = write_dataset(tmp_path / "ds", poses, frames, table, {"dataset": "casia-b", "skeleton": "coco17", "keypoints": "hrnet"})
    meta = json.loads((path / "meta.json").read_text())
    (path / "meta.json").write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(DatasetFormatError, match="version 99"):
        load_dataset(path)
    (path / "meta.json").write_text(json.dumps({**meta, "format": "other"}))
    with pytest.raises(DatasetFormatError, match="format is 'other'"):
        load_dataset(path)


def test_optional_columns_make_version_2_and_version_1_is_unchanged(tmp_path):
    poses, frames, table = small()
    meta = {"dataset": "gait3d", "skeleton": "coco17", "keypoints": "hrnet"}
    v1 = load_dataset(write_dataset(tmp_path / "v1", poses, frames, table, meta))
    assert v1.meta["version"] == 1 and list(v1.sequences.columns) == list(SEQUENCE_COLUMNS)
    extra = table.assign(key=["0003-camid0_videoid1-seq0", "vid"], role=["", "probe"], ignored=[1, 2])
    v2 = load_dataset(write_dataset(tmp_path / "v2", poses, frames, extra, meta))
    assert v2.meta["version"] == 2
    assert list(v2.sequences.columns) == [*SEQUENCE_COLUMNS, "key", "role"]  # unknown columns are not written
    assert str(v2.sequences.role.dtype) == "string" and v2.sequences.role.tolist() == ["", "probe"]
    # a dataset written by an earlier gaitgraph (version 1, no optional column) still loads
    meta_file = tmp_path / "v1" / "meta.json"
    assert json.loads(meta_file.read_text())["version"] == 1 and len(load_dataset(tmp_path / "v1")) == 2
