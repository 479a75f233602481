"""Importers: the shared real samples, joint mapping by name, labels, and bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import shared_file
from gaitgraph.cli.data import main as data_main
from gaitgraph.data.errors import DataError
from gaitgraph.data.format import load_dataset
from gaitgraph.data.importers import import_poses
from gaitgraph.data.keypoint_layouts import BODY25, HALPE26, remap
from gaitgraph.skeleton import COCO17, OPENPOSE18

ALPHAPOSE = "samples/alphapose-results_MVIG-SJTU-AlphaPose_90c9508.json"
OPENPOSE = "samples/openpose_BODY25_1_000000000000_keypoints.json"


def openpose_folder(tmp_path, people_per_frame, name="walk_{:012d}_keypoints.json"):
    """One *_keypoints.json per frame; ``people_per_frame``: list (per frame) of flat keypoint lists."""
    folder = tmp_path / "json"
    folder.mkdir(parents=True, exist_ok=True)
    for f, people in enumerate(people_per_frame):
        doc = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": list(p)} for p in people]}
        (folder / name.format(f)).write_text(json.dumps(doc))
    return folder


def body25_walker(cx, cy=200.0, h=120.0):
    """A flat BODY_25 list for a person centred at (cx, cy): joint k at y = cy - h/2 + k*h/24, conf 0.8."""
    return [v for k in range(25) for v in (cx + (k % 5), cy - h / 2 + k * h / 24, 0.8)]


# ------------------------------------------------------------------------------ shared samples


def test_alphapose_sample_one_walker(tmp_path):
    path = shared_file(ALPHAPOSE)
    entries = json.loads(path.read_text())
    result = import_poses("alphapose", path, tmp_path / "ap")
    ds = load_dataset(tmp_path / "ap")
    # 176 detections on 174 images (0..174 without 69): one walker; images 60 and 94 hold a second
    # detection each, which continue nothing and are dropped as one-frame tracks
    assert result.meta["stats"]["people_read"] == 176
    assert result.meta["stats"]["tracks_found"] == 3
    assert result.counter.counts["tracks of one frame"] == 2
    assert len(ds) == 1 and ds.sequences["length"].iloc[0] == 174
    assert ds.meta["skeleton"] == "coco17" and ds.meta["keypoints"] == "alphapose" and ds.meta["labelled"] is False
    assert ds.sequences["subject"].iloc[0] == 1 and ds.sequences["split"].iloc[0] == "test"
    assert list(ds.frames[:3]) == [0, 1, 2] and 69 not in ds.frames and ds.frames[-1] == 174
    # COCO-17 -> coco17 is the identity: frame 0's values come through exactly
    first = np.asarray(entries[0]["keypoints"], dtype=np.float32).reshape(17, 3)
    np.testing.assert_array_equal(ds.poses[0], first)


def test_alphapose_sample_to_openpose18_by_name(tmp_path):
    path = shared_file(ALPHAPOSE)
    kp = np.asarray(json.loads(path.read_text())[0]["keypoints"], dtype=np.float32).reshape(17, 3)
    import_poses("alphapose", path, tmp_path / "ap18", skeleton="openpose18")
    pose = load_dataset(tmp_path / "ap18").poses[0]
    for name in ("nose", "left_hip", "right_hip", "left_ankle", "right_eye", "left_ear", "right_wrist"):
        np.testing.assert_array_equal(pose[OPENPOSE18.index(name)], kp[COCO17.index(name)])
    ls, rs = kp[COCO17.index("left_shoulder")], kp[COCO17.index("right_shoulder")]
    neck = pose[OPENPOSE18.index("neck")]
    np.testing.assert_allclose(neck[:2], (ls[:2] + rs[:2]) / 2, rtol=1e-6)
    assert neck[2] == min(ls[2], rs[2])


def test_openpose_sample_body25_mapped_by_name(tmp_path):
    path = shared_file(OPENPOSE)
    values = json.loads(path.read_text())["people"][0]["pose_keypoints_2d"]
    assert len(values) == 75
    # the sample is one frame of one person: alone it is a one-frame track, which is dropped
    with pytest.raises(DataError, match="nothing to write: 1 people read, 0 track"):
        import_poses("openpose", path, tmp_path / "one")
    # the same frame 12 times (frames 0..11 of one video) gives one 12-frame track
    folder = tmp_path / "json"
    folder.mkdir()
    for f in range(12):
        shutil.copy(path, folder / f"1_{f:012d}_keypoints.json")
    result = import_poses("openpose", folder, tmp_path / "op")
    ds = load_dataset(tmp_path / "op")
    assert result.meta["stats"]["people_read"] == 12 and len(ds) == 1 and len(ds.poses) == 12
    assert ds.meta["skeleton"] == "openpose18" and result.meta["import"]["layout"] == "body25"
    pose, raw = ds.poses[0], np.asarray(values, dtype=np.float32).reshape(25, 3)
    # exact values from the file: Neck (BODY_25 #1), LHip (#12, not #11 as truncation would give),
    # RHip (#9, not MidHip #8), RAnkle (#11)
    np.testing.assert_array_equal(pose[OPENPOSE18.index("neck")], np.float32([254.669, 227.398, 0.772214]))
    np.testing.assert_array_equal(pose[OPENPOSE18.index("left_hip")], np.float32([204.425, 294.865, 0.603764]))
    np.testing.assert_array_equal(pose[OPENPOSE18.index("right_hip")], np.float32([221.656, 303.454, 0.743008]))
    np.testing.assert_array_equal(pose[OPENPOSE18.index("right_ankle")], np.float32([220.21, 428.37, 0.782603]))
    np.testing.assert_array_equal(pose[OPENPOSE18.index("left_eye")], np.float32([0, 0, 0]))  # missing in the file
    mid_hip = raw[BODY25.index("mid_hip")]
    assert not any(np.array_equal(mid_hip, j) for j in pose)  # MidHip is not used anywhere
    for name in OPENPOSE18.joints:
        np.testing.assert_array_equal(pose[OPENPOSE18.index(name)], raw[BODY25.index(name)])


def test_openpose_sample_to_coco17(tmp_path):
    path = shared_file(OPENPOSE)
    folder = tmp_path / "json"
    folder.mkdir()
    for f in range(10):
        shutil.copy(path, folder / f"1_{f:012d}_keypoints.json")
    import_poses("openpose", folder, tmp_path / "op17", skeleton="coco17")
    pose = load_dataset(tmp_path / "op17").poses[0]
    assert pose.shape == (17, 3)
    np.testing.assert_array_equal(pose[COCO17.index("left_hip")], np.float32([204.425, 294.865, 0.603764]))
    np.testing.assert_array_equal(pose[COCO17.index("right_shoulder")], np.float32([267.558, 234.529, 0.834311]))
    np.testing.assert_array_equal(pose[COCO17.index("left_ankle")], np.float32([223.085, 416.899, 0.722864]))


def test_cli_rejects_body25_declared_as_coco18(tmp_path, capsys):
    path = shared_file(OPENPOSE)
    rc = data_main(["import", "openpose", "--input", str(path), "--output", str(tmp_path / "x"), "--layout", "coco18", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "75 values per person = BODY_25" in err and "--layout body25" in err
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------------- mapping


def test_remap_halpe26_and_coco18_by_name():
    halpe = np.arange(26 * 3, dtype=np.float32).reshape(1, 26, 3) + 1
    out = remap(halpe, "halpe26", "openpose18")[0]
    np.testing.assert_array_equal(out[OPENPOSE18.index("neck")], halpe[0, HALPE26.index("neck")])  # Halpe has a neck
    coco18 = np.arange(54, dtype=np.float32).reshape(1, 18, 3) + 1
    out = remap(coco18, "coco18", "coco17")[0]
    for name in COCO17.joints:
        np.testing.assert_array_equal(out[COCO17.index(name)], coco18[0, OPENPOSE18.index(name)])


def test_neck_missing_when_a_shoulder_is_missing():
    coco = np.ones((1, 17, 3), dtype=np.float32)
    coco[0, COCO17.index("left_shoulder")] = 0
    np.testing.assert_array_equal(remap(coco, "coco17", "openpose18")[0, OPENPOSE18.index("neck")], [0, 0, 0])


# ---------------------------------------------------------------------------- tracks and labels


def test_openpose_two_walkers_empty_frames_and_zero_people(tmp_path):
    frames = []
    for f in range(14):
        people = [body25_walker(100 + 8 * f), body25_walker(600 - 8 * f, h=90)]
        if f == 5:
            people = []  # nobody detected
        if f == 6:
            people.append([0.0] * 75)  # an all-zero person
        frames.append(people)
    frames.append([body25_walker(900)])  # a one-frame track at the end
    folder = openpose_folder(tmp_path, frames)
    result = import_poses("openpose", folder, tmp_path / "out", min_length=5)
    ds = load_dataset(tmp_path / "out")
    assert result.counter.counts["frames with zero people"] == 1
    assert result.counter.counts["people whose keypoints are all zero"] == 1
    assert result.counter.counts["tracks of one frame"] == 1
    assert list(ds.sequences["length"]) == [13, 13] and list(ds.sequences["subject"]) == [1, 2]
    xs = [ds.sequence(i)[:, OPENPOSE18.index("nose"), 0] for i in range(2)]
    assert np.all(np.diff(xs[0]) > 0) and np.all(np.diff(xs[1]) < 0)  # each track is one walker
    assert 5 not in ds.frames
    labels = tmp_path / "labels.csv"
    labels.write_text("source,subject,view\njson/walk,4,90\n")  # the video as printed: folder/prefix
    import_poses("openpose", folder, tmp_path / "labelled", min_length=5, labels=labels)
    assert list(load_dataset(tmp_path / "labelled").sequences["subject"]) == [4, 4]
    with pytest.raises(DataError, match="strict"):
        import_poses("openpose", folder, tmp_path / "strict", min_length=5, strict=True)


def test_alphapose_track_ids_and_labels_table(tmp_path):
    entries = []
    for f in range(12):
        for idx, cx in ((3, 100 + 5 * f), (8, 400 - 5 * f)):
            kp = [v for k in range(17) for v in (cx + k, 100.0 + 10 * k, 0.9)]
            entries.append({"image_id": f"cam1/frame_{f:05d}.jpg", "category_id": 1, "keypoints": kp, "score": 2.0, "idx": idx})
    path = tmp_path / "alphapose-results.json"
    path.write_text(json.dumps(entries))
    labels = tmp_path / "labels.csv"
    labels.write_text("track,subject,view,condition,sequence\n1,42,90,bg,2\n2,7,,,\n")
    result = import_poses("alphapose", path, tmp_path / "out", labels=labels, split="gallery")
    ds = load_dataset(tmp_path / "out")
    assert result.meta["stats"]["tracking"] == "track ids" and ds.meta["labelled"] is True
    seq = ds.sequences
    assert list(seq["subject"]) == [42, 7] and list(seq["view"]) == [90, 0] and list(seq["condition"]) == ["bg", "nm"]
    assert list(seq["sequence"]) == [2, 0] and set(seq["split"]) == {"gallery"}
    assert "id 3" in seq["source"].iloc[0] and "cam1" in seq["source"].iloc[0]
    # by source: every track of the file gets the row's identity
    by_source = tmp_path / "by_source.csv"
    by_source.write_text("source,subject\nalphapose-results.json,5\n")  # the file: all its videos (cam1)
    import_poses("alphapose", path, tmp_path / "out2", labels=by_source)
    assert list(load_dataset(tmp_path / "out2").sequences["subject"]) == [5, 5]
    bad = tmp_path / "bad.csv"
    bad.write_text("track,person\n1,2\n")
    with pytest.raises(DataError, match="labels table needs columns"):
        import_poses("alphapose", path, tmp_path / "out3", labels=bad)
    nobody = tmp_path / "nobody.csv"
    nobody.write_text("track,subject\n9,1\n")
    with pytest.raises(DataError, match="2 tracks without a row in the labels table.*check the labels table"):
        import_poses("alphapose", path, tmp_path / "out4", labels=nobody)


def test_csv_casia_layout_with_labels_from_folder_names(tmp_path):
    header = "image_name," + ",".join(f"{j}_{c}" for j in COCO17.joints for c in ("x", "y", "conf"))
    rows = [header]
    for f in range(1, 13):
        rows.append(f"./001-nm-02-090/{f:06d}.jpg," + ",".join(f"{100 + f + k},{50 + 10 * k},0.9" for k in range(17)))
    rows.append("./001-nm-02-090/000013.jpg,1,2,3")  # wrong number of values
    path = tmp_path / "poses.csv"
    path.write_text("\n".join(rows) + "\n")
    result = import_poses("csv", path, tmp_path / "out")
    ds = load_dataset(tmp_path / "out")
    assert ds.meta["labelled"] is True and len(ds) == 1
    row = ds.sequences.iloc[0]
    assert [row[c] for c in ("subject", "condition", "sequence", "view", "length")] == [1, "nm", 2, 90, 12]
    assert sum(result.counter.counts.values()) == 1  # the bad row is counted, with its line as the example
    assert str(path) + ":14" in result.counter.text()
    (tmp_path / "bad.csv").write_text("image_name,nose_x\n")
    with pytest.raises(DataError, match="wrong header"):
        import_poses("csv", tmp_path / "bad.csv", tmp_path / "out2")


# ------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("doc, message", [
    ({"people": []}, "OpenPose"),
    ({"0.jpg": [{"keypoints": []}]}, "PoseFlow"),
    ([{"image": "0.jpg", "joints": []}], "unknown JSON shape"),
])
def test_alphapose_unknown_json_shape(tmp_path, doc, message):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match=message):
        import_poses("alphapose", path, tmp_path / "out")


def test_openpose_unknown_json_shape_and_unknown_counts(tmp_path):
    folder = tmp_path / "json"
    folder.mkdir()
    (folder / "a_000000000000_keypoints.json").write_text(json.dumps([{"image_id": "0.jpg"}]))
    with pytest.raises(DataError, match="unknown JSON shape.*alphapose"):
        import_poses("openpose", folder, tmp_path / "out")
    # 17 x 3 = 51 values is COCO-17, which OpenPose does not write: an error, not a guess
    folder = openpose_folder(tmp_path / "b", [[[1.0] * 51]] * 3)
    with pytest.raises(DataError, match="COCO-17, which openpose does not write"):
        import_poses("openpose", folder, tmp_path / "out")
    # a value count of no layout is a malformed person: skipped and counted
    folder = openpose_folder(tmp_path / "c", [[body25_walker(10 + f), [1.0] * 40] for f in range(10)])
    result = import_poses("openpose", folder, tmp_path / "out")
    assert result.counter.counts["people with a wrong number of keypoint values (expected 75 or 54)"] == 10


def test_cli_takes_the_skeleton_from_a_checkpoint(tmp_path, capsys):
    from gaitgraph.checkpoints import ModelSpec, save_checkpoint

    path = shared_file(ALPHAPOSE)
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="openpose18", sequence_length=30)
    ckpt = save_checkpoint(tmp_path / "m.ckpt", spec.create_model(), spec)
    out = tmp_path / "ap"
    assert data_main(["import", "alphapose", "--input", str(path), "--output", str(out), "--checkpoint", str(ckpt)]) == 0
    err = capsys.readouterr().err
    assert load_dataset(out).meta["skeleton"] == "openpose18"
    assert "1 kept" in err and "2 tracks of one frame" in err and "wrote" in err
