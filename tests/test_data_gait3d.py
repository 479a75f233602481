"""Gait3D: the released layout through the reader (hand-made trees, bad files, the split file), the
synthetic twin through synthesize -> convert -> info, the official protocol, the licence check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitgraph.cli.data import main as data_main
from gaitgraph.data import gait3d
from gaitgraph.data.errors import DataError, MissingReleaseError
from gaitgraph.data.format import load_dataset
from gaitgraph.data.gait3d import convert_gait3d, read_split
from gaitgraph.data.info import dataset_info
from gaitgraph.data.synthetic_wild import synthesize_gait3d
from gaitgraph.evaluation.protocols import evaluate


def frame_text(seed: float, leading=(311, 438), joints: int = 17) -> str:
    """One frame file's line: two leading numbers, then x, y, conf per joint (values derived from seed)."""
    xy = [f"{seed + j:.6f},{2 * seed + j:.5f},0.{50 + j}" for j in range(joints)]
    return ",".join([*map(str, leading), *xy]) + "\n"


def write_seq(root, subject, cam, video, seq, frames, text=frame_text):
    folder = root / "2D_Poses" / f"{subject:04d}" / f"camid{cam}_videoid{video}" / f"seq{seq}"
    folder.mkdir(parents=True, exist_ok=True)
    for f in frames:
        (folder / f"human_crop_f{f:05d}.txt").write_text(text(f))
    return folder


def write_split(root, train=("0001",), test=("0002", "0003"), probes=("0002-camid4_videoid1-seq0", "0003-camid0_videoid2-seq1"),
                name="Gait3D.json"):
    path = root / name
    path.write_text(json.dumps({"TRAIN_SET": list(train), "TEST_SET": list(test), "PROBE_SET": list(probes)}))
    return path


@pytest.fixture
def tree(tmp_path):
    """Subject 1 train (2 sequences), 2 and 3 test: each one probe and one gallery sequence."""
    root = tmp_path / "Gait3D"
    write_seq(root, 1, 10, 1, 0, [5, 6, 7])
    write_seq(root, 1, 2, 1, 0, [100, 99, 101])  # written out of order: read sorted by frame number
    write_seq(root, 2, 4, 1, 0, [11, 12])
    write_seq(root, 2, 4, 1, 1, [20, 21, 22, 23])  # same camera and video as the probe, another seq
    write_seq(root, 3, 0, 2, 1, [1, 2])
    write_seq(root, 3, 38, 3, 0, [7, 8, 9])
    write_split(root)
    return root


def convert(root, out, **kw):
    return load_dataset(convert_gait3d(root, out, progress=False, **kw))


def test_reads_the_released_layout(tree, tmp_path):
    ds = convert(tree, tmp_path / "out", synthetic=True)
    t = ds.sequences
    assert ds.meta["version"] == 2 and ds.meta["dataset"] == "gait3d" and ds.meta["skeleton"] == "coco17"
    assert ds.meta["keypoints"] == "hrnet" and ds.poses.shape == (17, 17, 3)
    # table order: subject, camera, video, seq; view = camera id; sequence = running number per subject
    assert t.subject.tolist() == [1, 1, 2, 2, 3, 3]
    assert t.view.tolist() == [2, 10, 4, 4, 0, 38] and t.sequence.tolist() == [1, 2, 1, 2, 1, 2]
    assert t.split.tolist() == ["train"] * 2 + ["test"] * 4 and set(t.condition) == {"na"}
    assert t.key.tolist()[2:4] == ["0002-camid4_videoid1-seq0", "0002-camid4_videoid1-seq1"]
    assert t.role.tolist() == ["", "", "probe", "gallery", "probe", "gallery"]
    assert t.source[0] == "2D_Poses/0001/camid2_videoid1/seq0"
    # frames sorted by number; values: the two leading numbers dropped, then x, y, conf per joint
    np.testing.assert_array_equal(ds.frames[:3], [99, 100, 101])
    np.testing.assert_allclose(ds.poses[0, :2], [[99, 198, 0.5], [100, 199, 0.51]], rtol=1e-6)
    assert ds.meta["stats"] == {}


def test_frame_numbers_sort_numerically_not_as_text(tmp_path):
    root = tmp_path / "g"
    folder = write_seq(root, 1, 0, 1, 0, [])
    for name in ("human_crop_f9.txt", "human_crop_f10.txt", "human_crop_f100.txt"):
        (folder / name).write_text(frame_text(1))
    write_seq(root, 2, 0, 1, 0, [1, 2])
    write_split(root, train=("0001",), test=("0002",), probes=("0002-camid0_videoid1-seq0",))
    assert convert(root, tmp_path / "out").frames[:3].tolist() == [9, 10, 100]


BAD_FILES = {
    "wrong number of values": b"1,2,3,4,5\n",
    "non-numeric value": frame_text(1).replace("0.51", "abc").encode(),
    "file is not UTF-8 text": b"\xff\xfe" + frame_text(1).encode("utf-16-le"),
    "empty file": b"",
    "several lines (one pose per file expected)": (frame_text(1) + frame_text(2)).encode(),
    "NaN or infinite value": frame_text(1).replace("0.51", "nan").encode(),
}


@pytest.mark.parametrize("reason", sorted(BAD_FILES))
def test_a_bad_frame_file_is_skipped_and_counted_or_fails_with_strict(tree, tmp_path, reason, capsys):
    bad = tree / "2D_Poses/0002/camid4_videoid1/seq1/human_crop_f00021.txt"
    bad.write_bytes(BAD_FILES[reason])
    ds = convert(tree, tmp_path / "out")
    assert ds.meta["stats"] == {reason: 1}
    assert ds.sequences.length.tolist()[3] == 3 and 21 not in ds.frames[ds.sequences.offset[3]:].tolist()[:3]
    assert "Skipped 1 frames/sequences" in capsys.readouterr().err
    with pytest.raises(DataError, match=rf"human_crop_f00021\.txt.*{reason[:10]}.*strict"):
        convert_gait3d(tree, tmp_path / "strict", strict=True, progress=False)
    assert not (tmp_path / "strict").exists()


def test_confidences_outside_0_1_are_clipped_and_counted_or_fail_with_strict(tree, tmp_path):
    """The bad-input policy of every reader (docs/data.md): clipped into [0, 1] and counted; --strict fails."""
    bad = tree / "2D_Poses/0002/camid4_videoid1/seq1/human_crop_f00021.txt"
    bad.write_text(frame_text(21).replace("0.51", "1.7").replace("0.52", "-0.2"))
    ds = convert(tree, tmp_path / "out")
    assert ds.meta["stats"] == {"confidences outside [0, 1] (clipped)": 2}
    row = ds.sequences.iloc[3]
    frame = ds.poses[row.offset + ds.frames[row.offset:row.offset + row.length].tolist().index(21)]
    assert frame[1, 2] == 1.0 and frame[2, 2] == 0.0 and frame[0, 2] == pytest.approx(0.50)
    with pytest.raises(DataError, match=r"human_crop_f00021\.txt: confidences outside \[0, 1\].*strict"):
        convert_gait3d(tree, tmp_path / "strict", strict=True, progress=False)
    assert not (tmp_path / "strict").exists()


def test_another_keypoint_layout_fails_at_once(tree, tmp_path):
    (tree / "2D_Poses/0001/camid2_videoid1/seq0/human_crop_f00100.txt").write_text(frame_text(1, joints=25))
    with pytest.raises(DataError, match=r"human_crop_f00100\.txt: 77 values = 2 \+ 3 x 25 joints.*another keypoint layout"):
        convert_gait3d(tree, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_empty_folders_unexpected_names_and_subjects_outside_the_split(tree, tmp_path):
    (tree / "2D_Poses/0001/camid3_videoid1/seq0").mkdir(parents=True)  # a sequence folder without frames
    (tree / "2D_Poses/0001/camid5_videoid1").mkdir()  # a video folder without sequences
    (tree / "2D_Poses/notes").mkdir()
    (tree / "2D_Poses/0001/camid2_videoid1/seq0/thumbs.db").write_text("x")
    write_seq(tree, 7, 1, 1, 0, [1])  # subject 0007 is in neither list
    ds = convert(tree, tmp_path / "out")
    assert ds.meta["stats"] == {"empty sequence (no usable frames)": 1, "empty folder": 1, "unexpected folder": 1,
                                "unexpected file or folder": 1, "subject not in the split file": 1}
    assert len(ds) == 6
    with pytest.raises(DataError, match="strict"):
        convert_gait3d(tree, tmp_path / "strict", strict=True, progress=False)


@pytest.mark.parametrize("split, message", [
    ({"TRAIN_SET": ["0001", "0002"], "TEST_SET": ["0002", "0003"]}, "1 subjects are in both TRAIN_SET and TEST_SET, e.g. 0002"),
    ({"PROBE_SET": ["0001-camid10_videoid1-seq0"]}, "subject 0001 is not in TEST_SET"),
    ({"PROBE_SET": ["0002-cam4-seq0"]}, "is not SUBJECT-camidC_videoidV-seqN"),
    ({"PROBE_SET": ["0002-camid4_videoid1-seq0"] * 2}, "PROBE_SET lists '0002-camid4_videoid1-seq0' more than once"),
    ({"TEST_SET": "0002"}, "TEST_SET must be a list of strings"),
    ({"TRAIN_SET": ["one"]}, "TRAIN_SET entry 'one' is not a subject id"),
])
def test_inconsistent_split_files_fail(tree, tmp_path, split, message):
    doc = {"TRAIN_SET": ["0001"], "TEST_SET": ["0002", "0003"], "PROBE_SET": ["0002-camid4_videoid1-seq0"], **split}
    (tree / "Gait3D.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        convert_gait3d(tree, tmp_path / "out", progress=False)
    (tree / "Gait3D.json").write_text("{not json")
    with pytest.raises(DataError, match="Gait3D.json: not valid JSON"):
        read_split(tree / "Gait3D.json")


def test_missing_split_file_release_or_probe_sequence(tree, tmp_path):
    (tree / "Gait3D.json").rename(tree / "elsewhere.json")
    with pytest.raises(MissingReleaseError, match=r"Gait3D\.json: split file not found.*OpenGait and FastPoseGait"):
        convert_gait3d(tree, tmp_path / "out", progress=False)
    assert len(convert(tree, tmp_path / "out", split=tree / "elsewhere.json")) == 6  # --split elsewhere
    with pytest.raises(MissingReleaseError, match=r"gait3d\.github\.io.*2D_Poses/SUBJECT/camidC_videoidV/seqN"):
        convert_gait3d(tmp_path / "nowhere", tmp_path / "out2", progress=False)
    # a probe whose sequence is not in the tree: skipped and counted (the probe set shrinks), strict fails
    write_split(tree, probes=("0002-camid4_videoid1-seq0", "0003-camid9_videoid9-seq9"))
    ds = convert(tree, tmp_path / "out3")
    assert ds.meta["stats"] == {"probe sequence missing from the tree": 1}
    assert ds.sequences.role.tolist().count("probe") == 1
    with pytest.raises(DataError, match="0003-camid9_videoid9-seq9.*probe sequence missing"):
        convert_gait3d(tree, tmp_path / "strict", strict=True, progress=False)


def test_nothing_usable_fails_and_writes_nothing(tmp_path):
    root = tmp_path / "g"
    write_seq(root, 2, 0, 1, 0, [1], text=lambda f: "oops\n")
    write_split(root, train=(), test=("0002",), probes=())
    with pytest.raises(DataError, match="no usable sequences found.*wrong number of values"):
        convert_gait3d(root, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_official_protocol_on_converted_data(tree, tmp_path):
    t = convert(tree, tmp_path / "out").sequences
    # embeddings: subject 2's gallery near its probe, subject 3's gallery nearer to subject 2's probe
    emb = np.array([[0, 9], [0, -9], [1, 0], [0.9, 0.1], [0.2, 1], [0.95, 0.05]], dtype=np.float32)
    test = (t.split == "test").to_numpy()
    # probe 2 [1, 0]: nearest gallery 0.95,0.05 (subject 3) then 0.9,0.1 (subject 2) -> first hit at 2
    # probe 3 [0.2, 1]: nearest 0.9,0.1 (subject 2) then 0.95,0.05 (subject 3) -> first hit at 2
    result = evaluate(emb[test], t[test].reset_index(drop=True), "gait3d")
    conv = result["conventions"]["official"]
    assert conv["metrics"] == {"rank1": 0.0, "rank5": 100.0, "rank10": 100.0, "mAP": 50.0, "mINP": 50.0}
    assert conv["official"] and conv["mean"] == 0.0 and (result["num_probe"], result["num_gallery"]) == (2, 2)
    with pytest.raises(ValueError, match="needs probe and gallery rows"):
        evaluate(emb[:2], t[:2], "gait3d")  # the train rows have no role


def test_synthetic_twin_round_trip_through_the_command_line(tmp_path, capsys):
    root, out = tmp_path / "Gait3D", tmp_path / "converted"
    assert data_main(["synthesize", "gait3d", "--output", str(root), "--subjects", "10", "--seed", "3", "--quiet"]) == 0
    split = json.loads((root / "Gait3D.json").read_text())
    assert len(split["TEST_SET"]) == 4 and len(split["TRAIN_SET"]) == 6 and len(split["PROBE_SET"]) == 4
    files = sorted(p.relative_to(root) for p in (root / "2D_Poses").rglob("*.txt"))
    assert all(gait3d.FRAME_NAME.match(p.name) and len(p.parts) == 5 for p in files)
    cells = (root / files[0]).read_text().strip().split(",")
    assert len(cells) == 53 and cells[0].isdigit() and cells[1].isdigit()
    assert data_main(["convert", "gait3d", "--input", str(root), "--output", str(out), "--synthetic", "--quiet",
                      "--strict"]) == 0
    info = dataset_info(out)
    assert info["dataset"] == "gait3d" and info["synthetic"] and info["subjects"] == {"test": 4, "train": 6}
    assert info["role"]["test/probe"]["sequences"] == 4 and info["frames"] == len(files)
    capsys.readouterr()
    assert data_main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "gait3d (hrnet, coco17) [synthetic]" in text and "per role: test/gallery" in text
    # deterministic by seed
    again = synthesize_gait3d(tmp_path / "again", subjects=10, seed=3, progress=False)
    assert (again / files[7]).read_bytes() == (root / files[7]).read_bytes()


def test_synthetic_twin_carries_identity(tmp_path):
    """Nearest neighbour of a hand-made descriptor under the official protocol beats chance clearly.

    Measured (24 subjects, seed 0: 10 test subjects, chance rank-1 10 %): rank-1 40 %, mAP 48.
    """
    ds = load_dataset(convert_gait3d(synthesize_gait3d(tmp_path / "g", progress=False), tmp_path / "c", progress=False))
    feats = np.array([_descriptor(np.asarray(x)) for _, x in ds.iter_sequences()])
    conv = evaluate((feats - feats.mean(0)) / feats.std(0), ds.sequences, "gait3d", metric="euc")["conventions"]["official"]
    assert conv["metrics"]["rank1"] >= 30.0 and conv["metrics"]["rank1"] < 100.0


def _descriptor(x):
    """Hip-centred, height-normalised joints: mean/sd of y and mean |x| (roughly view-free)."""
    xy = x[..., :2]
    z = (xy - xy[:, [11, 12]].mean(1, keepdims=True)) / np.median(xy[:, [15, 16], 1].mean(1) - xy[:, 0, 1])
    return np.concatenate([z[..., 1].mean(0), z[..., 1].std(0), np.abs(z[..., 0]).mean(0)])


def test_licence_check_says_where_to_apply_and_where_to_put_the_files(tree, tmp_path):
    assert gait3d.check_release(tree) == {"root": str(tree), "split": str(tree / "Gait3D.json"), "subjects": 3}
    with pytest.raises(MissingReleaseError) as e:
        gait3d.check_release(tmp_path / "none")
    text = str(e.value)
    assert "https://gait3d.github.io" in text and "AgreementForGait3D.pdf" in text and "2D_Poses/SUBJECT" in text
    assert "split file" in text and "datasets/Gait3D/Gait3D.json" in text and "synthesize gait3d" in text


def test_command_line_errors_are_one_line_exit_2(tree, tmp_path, capsys):
    (tree / "Gait3D.json").unlink()
    assert data_main(["convert", "gait3d", "--input", str(tree), "--output", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("gaitgraph-data convert: error:") and "Gait3D.json" in err


def test_normalization_keeps_the_protocol_columns(tree, tmp_path):
    from gaitgraph.data.normalize import normalize_dataset

    ds = convert(tree, tmp_path / "out")
    norm = load_dataset(normalize_dataset(ds.path, tmp_path / "norm", "center-scale"))
    assert norm.meta["version"] == 2 and norm.meta["dataset"] == "gait3d"
    assert norm.sequences.role.tolist() == ds.sequences.role.tolist() and norm.sequences.key.equals(ds.sequences.key)


def test_gaitgraph_evaluate_on_the_twin_writes_retrieval_metrics(tmp_path, untrained_coco17_checkpoint):
    from gaitgraph.cli.evaluate import main as evaluate_main

    data = convert_gait3d(synthesize_gait3d(tmp_path / "g", subjects=6, progress=False, frames=(20, 30)), tmp_path / "c",
                          synthetic=True, progress=False)
    out = tmp_path / "eval" / "metrics.json"
    assert evaluate_main(["--checkpoint", str(untrained_coco17_checkpoint), "--data", str(data), "--output", str(out), "--quiet"]) == 0
    m = json.loads(out.read_text())
    conv = m["conventions"]["official"]
    assert m["dataset"] == "gait3d" and conv["kind"] == "retrieval" and set(conv["metrics"]) == {
        "rank1", "rank5", "rank10", "mAP", "mINP"}
    assert conv["num_probe"] == 2 and conv["mean"] == conv["metrics"]["rank1"]
    assert "| Rank-1 | Rank-5 | Rank-10 |" in (tmp_path / "eval" / "metrics.md").read_text()


def test_pipeline_check_commands(tree, tmp_path, capsys):
    from gaitgraph.cli.data import main

    out = tmp_path / "check.json"
    assert main(["check", "gait3d", "--root", str(tree), "--output", str(out)]) == 0
    assert json.loads(out.read_text())["subjects"] == 3 and "gait3d: root" in capsys.readouterr().out
    assert main(["check", "gait3d", "--root", str(tmp_path / "none"), "--output", str(tmp_path / "x.json")]) == 2
    assert main(["check", "grew", "--root", str(tmp_path / "none"), "--output", str(tmp_path / "y.json")]) == 2
    err = capsys.readouterr().err
    assert "https://gait3d.github.io" in err and "https://www.grew-benchmark.org" in err
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "y.json").exists()
