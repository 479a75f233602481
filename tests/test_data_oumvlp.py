"""OUMVLP-Pose reader: tree walk, ID_list.csv, person choice by track, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitgraph.data import oumvlp, parallel
from gaitgraph.data.errors import DataError
from gaitgraph.data.format import load_dataset
from gaitgraph.data.oumvlp import convert_oumvlp, frame_number, read_id_list, read_sequence


def pose(cx, cy=100.0, size=60.0, conf=0.8):
    """A rough 18-joint pose centred at (cx, cy) with the given height, as a flat list of 54 values."""
    rng = np.random.default_rng(int(cx * 10) % 1000)
    xy = np.stack([cx + rng.uniform(-size / 6, size / 6, 18), cy + np.linspace(-size / 2, size / 2, 18)], axis=1)
    return np.concatenate([xy, np.full((18, 1), conf)], axis=1).round(3).reshape(-1).tolist()


def write_frame(folder, num, people, name="{:04d}_keypoint.json"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name.format(num)).write_text(json.dumps({"version": 1.2, "people": [{"pose_keypoints_2d": p} for p in people]}))


def make_tree(root, keypoints="openpose"):
    """Subject 1 (train): view 0 seq 0, frames 1, 2, 4; subject 2 (test): view 180 seq 1, frames 3, 5."""
    base = root / keypoints
    for f in (1, 2, 4):
        write_frame(base / "00001" / "000_00", f, [pose(50 + f)])
    for f in (3, 5):
        write_frame(base / "00002" / "180_01", f, [pose(200 - f)])
    return root


def write_id_list(path, train=(1,), test=(2,)):
    lines = ["OU-ISIR Gait Database,", "Multi-View Large Population Dataset,", "", "ID list,", "Training set,Testing set"]
    for i in range(max(len(train), len(test))):
        a = str(train[i]) if i < len(train) else ""
        b = str(test[i]) if i < len(test) else ""
        lines.append(f"{a},{b}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def tree(tmp_path):
    make_tree(tmp_path / "root")
    return tmp_path / "root", write_id_list(tmp_path / "ID_list.csv")


def convert(tree, out, **kw):
    root, ids = tree
    return convert_oumvlp(root, kw.pop("keypoints", "openpose"), ids, out, progress=False, **kw)


def test_converts_tree(tree, tmp_path):
    ds = load_dataset(convert(tree, tmp_path / "out", synthetic=True))
    t = ds.sequences
    assert list(zip(t.subject, t.condition, t.sequence, t.view, t.split)) == [(1, "nm", 0, 0, "train"), (2, "nm", 1, 180, "test")]
    assert ds.frames.tolist() == [1, 2, 4, 3, 5]
    assert ds.poses.shape == (5, 18, 3)
    np.testing.assert_allclose(ds.poses[2].reshape(-1), np.float32(pose(54)))
    assert ds.meta["skeleton"] == "openpose18" and ds.meta["keypoints"] == "openpose" and ds.meta["synthetic"] is True
    assert t.source[0] == "openpose/00001/000_00"


def test_frame_number_rules():
    assert frame_number("0021_keypoint.json") == 21
    assert frame_number("00001-000_00-0021.json") == 21
    with pytest.raises(ValueError):
        frame_number("keypoint_x.json")


def test_person_choice_follows_the_track(tmp_path):
    folder = tmp_path / "seq"
    # the walker moves right 3 px per frame; a bystander stands still at x=300 and is people[0] in frames 3, 4
    for f in range(1, 7):
        walker, bystander = pose(50 + 3 * f), pose(300, size=55)
        write_frame(folder, f, [bystander, walker] if f in (3, 4) else [walker])
    res = read_sequence(folder)
    assert np.abs(res.poses[:, :, 0].mean(axis=1) - (50 + 3 * np.arange(1, 7))).max() < 15
    assert res.notes == {oumvlp.SEVERAL_PEOPLE: 2, oumvlp.NOT_FIRST: 2, oumvlp.NO_PEOPLE: 0}


def test_person_first_restores_the_original_people0(tmp_path):
    folder = tmp_path / "root" / "alphapose" / "00001" / "000_00"
    for f in range(1, 7):
        walker, bystander = pose(50 + 3 * f), pose(300, size=55)
        write_frame(folder, f, [bystander, walker] if f in (3, 4) else [walker])
    res = read_sequence(folder, person="first")
    expected = [np.array(pose(300, size=55) if f in (3, 4) else pose(50 + 3 * f), np.float32).reshape(18, 3)
                for f in range(1, 7)]
    np.testing.assert_array_equal(res.poses, np.stack(expected))
    assert res.notes[oumvlp.SEVERAL_PEOPLE] == 2 and res.notes[oumvlp.NOT_FIRST] == 0
    ids = write_id_list(tmp_path / "ID_list.csv", train=(1,), test=(2,))  # both columns (issue 12); subject 1 trains
    ds = load_dataset(convert_oumvlp(tmp_path / "root", "alphapose", ids, tmp_path / "out", progress=False, person="first"))
    assert "people[0]" in ds.meta["person_selection"]
    np.testing.assert_array_equal(ds.poses, res.poses)
    with pytest.raises(ValueError, match="person must be one of"):
        convert_oumvlp(tmp_path / "root", "alphapose", ids, tmp_path / "o2", progress=False, person="best")


def test_first_frame_with_several_people_is_anchored_on_a_later_single_person_frame(tmp_path):
    folder = tmp_path / "seq"
    write_frame(folder, 1, [pose(300, conf=0.95), pose(50)])  # the bystander is more confident here
    write_frame(folder, 2, [pose(300, conf=0.95), pose(53)])
    write_frame(folder, 3, [pose(56)])
    res = read_sequence(folder)
    assert (res.poses[:, :, 0].mean(axis=1) < 100).all()


def test_choice_ignores_undetected_joints(tmp_path):
    folder = tmp_path / "seq"
    write_frame(folder, 1, [pose(50)])
    partial = np.array(pose(300)).reshape(18, 3)
    partial[:9] = 0  # half the joints missing: (0, 0, 0) must not pull the centre to the origin
    write_frame(folder, 2, [partial.reshape(-1).tolist(), pose(52)])
    assert read_sequence(folder).poses[1, 0, 0] > 30


def test_frames_without_people_are_counted_not_errors(tree, tmp_path):
    root, _ = tree
    write_frame(root / "openpose" / "00001" / "000_00", 7, [])
    ds = load_dataset(convert(tree, tmp_path / "out", strict=True))
    assert ds.meta["stats"] == {oumvlp.NO_PEOPLE: 1}
    assert len(ds.poses) == 5


def test_truncated_json_is_skipped_counted_and_fails_in_strict_mode(tree, tmp_path):
    root, _ = tree
    bad = root / "openpose" / "00001" / "000_00" / "0009_keypoint.json"
    bad.write_text('{"people": [{"pose_keypoints_2d": [1.0, 2.')
    ds = load_dataset(convert(tree, tmp_path / "out"))
    assert ds.meta["stats"] == {"invalid or truncated JSON": 1}
    with pytest.raises(DataError, match=r"0009_keypoint\.json.*invalid or truncated JSON"):
        convert(tree, tmp_path / "out2", strict=True)
    assert not (tmp_path / "out2").exists()


def test_body25_file_fails_naming_the_file(tree, tmp_path):
    root, _ = tree
    write_frame(root / "openpose" / "00002" / "180_01", 8, [[1.0] * 75])
    with pytest.raises(DataError, match=r"0008_keypoint\.json: person 0 has 75 keypoint values.*BODY_25"):
        convert(tree, tmp_path / "out")


def test_empty_sequence_and_unknown_subject_are_dropped_and_counted(tree, tmp_path):
    root, _ = tree
    write_frame(root / "openpose" / "00001" / "015_01", 1, [])  # only an empty frame
    write_frame(root / "openpose" / "00003" / "000_00", 1, [pose(50)])  # subject 3 is in no split
    (root / "openpose" / "00001" / "notes").mkdir()
    ds = load_dataset(convert(tree, tmp_path / "out"))
    assert ds.meta["stats"] == {
        "empty sequence (no usable frames)": 1,
        "subject not in ID_list.csv": 1,
        "unexpected folder": 1,
        oumvlp.NO_PEOPLE: 1,
    }
    assert len(ds) == 2


def test_id_list_with_preamble_and_blank_cells(tmp_path):
    p = write_id_list(tmp_path / "ID_list.csv", train=(1, 3, 5), test=(2, 4))
    assert read_id_list(p) == ({1, 3, 5}, {2, 4})
    p.write_text("\r\n".join(["Train,Test", "00001,00002", ",00004", "", "7.0,"]) + "\r\n")
    assert read_id_list(p) == ({1, 7}, {2, 4})


@pytest.mark.parametrize(
    "text, message",
    [
        ("Training set,Testing set\n", "no rows of subject ids"),
        ("", "no rows of subject ids"),
        ("Train,Test\n1,2\nthree,4\n", "line 3: expected two integer columns"),
        ("1,2\n2,3\n", "in both train and test"),
    ],
)
def test_malformed_id_list_fails_with_download_hint(tmp_path, text, message):
    p = tmp_path / "ID_list.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=message) as e:
        read_id_list(p)
    assert "GaitLPPose.html" in str(e.value)


def test_missing_id_list_root_or_keypoint_folder(tree, tmp_path):
    root, ids = tree
    with pytest.raises(FileNotFoundError, match="separate download"):
        convert_oumvlp(root, "openpose", tmp_path / "nope.csv", tmp_path / "out", progress=False)
    with pytest.raises(FileNotFoundError, match=r"licence.*GaitLPPose\.html.*ROOT/alphapose/SUBJECT/VIEW_SEQ"):
        convert_oumvlp(root, "alphapose", ids, tmp_path / "out", progress=False)
    with pytest.raises(FileNotFoundError, match="licence"):
        convert_oumvlp(tmp_path / "missing", "openpose", ids, tmp_path / "out", progress=False)


def test_worker_processes_give_the_same_result(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "POOL_MIN_SEQUENCES", 10)
    root = tmp_path / "root"
    for s in range(1, 9):  # 8 subjects x 8 views = 64 sequences
        for v in oumvlp.VIEWS[:8]:
            write_frame(root / "alphapose" / f"{s:05d}" / f"{v:03d}_00", 1, [pose(s + v)])
    ids = write_id_list(tmp_path / "ID_list.csv", train=(1, 2, 3, 4), test=(5, 6, 7, 8))
    a = load_dataset(convert_oumvlp(root, "alphapose", ids, tmp_path / "a", progress=False, workers=1))
    b = load_dataset(convert_oumvlp(root, "alphapose", ids, tmp_path / "b", progress=False, workers=2))
    np.testing.assert_array_equal(a.poses, b.poses)
    assert a.sequences.equals(b.sequences) and len(a) == 64
