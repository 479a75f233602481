"""GREW: the released layout through the reader (withheld probes, sibling files, bad folders), the
held-out local protocol, the official submission file, the synthetic twin, the licence check."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from gaitgraph.cli.data import main as data_main
from gaitgraph.data import grew
from gaitgraph.data.errors import DataError, MissingReleaseError
from gaitgraph.data.format import UNKNOWN_SUBJECT, load_dataset
from gaitgraph.data.grew import convert_grew, heldout_subjects
from gaitgraph.data.info import dataset_info
from gaitgraph.data.synthetic_wild import synthesize_grew
from gaitgraph.evaluation.grew import HEADER, read_submission, score_submission, submission_rows, write_submission
from gaitgraph.evaluation.protocols import evaluate


def frame_text(seed: float) -> str:
    return ",".join(["64", "128", *(f"{seed + j:.4f},{seed - j:.4f},0.9" for j in range(17))]) + "\n"


def write_seq(folder, frames=(1, 2, 3), siblings=True):
    folder.mkdir(parents=True, exist_ok=True)
    for f in frames:
        (folder / f"{f:05d}_2d_pose.txt").write_text(frame_text(f))
        if siblings:  # what the release keeps beside the 2-D poses: silhouettes and 3-D poses
            (folder / f"{f:05d}.png").write_bytes(b"\x89PNG")
            (folder / f"{f:05d}_3d_pose.txt").write_text("1,2,3\n")
    if siblings:
        (folder.parent / f"{folder.name}_gei.png").write_bytes(b"\x89PNG")


@pytest.fixture
def tree(tmp_path):
    """train: subjects 1-4 with 2-3 videos; test gallery: subjects 1, 2 with 2 videos; 3 probes."""
    root = tmp_path / "GREW"
    for s, vids in {1: ("aa01", "aa02"), 2: ("bb01", "bb02", "bb03"), 3: ("cc01", "cc02"), 4: ("dd01", "dd02")}.items():
        for v in vids:
            write_seq(root / "train" / f"{s:05d}" / v)
    for s, vids in {1: ("Ga11", "Ga12"), 2: ("Gb21", "Gb22")}.items():
        for v in vids:
            write_seq(root / "test" / "gallery" / f"{s:05d}" / v, frames=(1, 2))
    for v in ("Pz9", "Px1", "Py5"):
        write_seq(root / "test" / "probe" / v, frames=(4, 5))
    write_seq(root / "distractor" / "Dd01")  # the release's distractor set: not read
    return root


def convert(root, out, **kw):
    kw.setdefault("heldout", 0)
    return load_dataset(convert_grew(root, out, progress=False, **kw))


def test_reads_the_released_layout(tree, tmp_path):
    ds = convert(tree, tmp_path / "out", synthetic=True)
    t = ds.sequences
    assert ds.meta["version"] == 2 and (ds.meta["dataset"], ds.meta["skeleton"], ds.meta["keypoints"]) == ("grew", "coco17", "hrnet")
    assert ds.meta["stats"] == {}  # silhouettes, 3-D poses, GEIs and the distractor folder are not errors
    assert t.split.tolist() == ["train"] * 9 + ["test"] * 7
    # train and test subjects are numbered separately by the release; probes have the withheld subject -1
    assert t.subject.tolist() == [1, 1, 2, 2, 2, 3, 3, 4, 4, 1, 1, 2, 2] + [UNKNOWN_SUBJECT] * 3
    assert t.sequence.tolist() == [1, 2, 1, 2, 3, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 3]
    assert t.key.tolist()[-3:] == ["Px1", "Py5", "Pz9"] and t.key[0] == "aa01"
    assert t.role.tolist() == [""] * 9 + ["gallery"] * 4 + ["probe"] * 3
    assert set(t.view) == {-1} and set(t.condition) == {"na"} and t.source[13] == "test/probe/Px1"
    np.testing.assert_array_equal(ds.frames[:3], [1, 2, 3])
    np.testing.assert_allclose(ds.poses[0, 1], [2, 0, 0.9], rtol=1e-6)  # frame 1, joint 1: (1 + 1, 1 - 1, 0.9)
    info = dataset_info(ds.path)
    assert info["subjects"] == {"test": 2, "train": 4} and info["unknown_subject_sequences"] == 3


def test_held_out_training_subjects_form_the_local_protocol(tree, tmp_path):
    ds = convert(tree, tmp_path / "out", heldout=0.25, heldout_seed=1)
    t = ds.sequences
    held = ds.meta["heldout"]["subjects"]
    assert len(held) == 2 and set(held) <= {1, 2, 3, 4}  # ceil(0.25 x 4) = 1, raised to the minimum of 2
    rows = t[t.split == "heldout"]
    assert set(rows.subject) == set(held) and not (t[t.split == "train"].subject.isin(held)).any()
    for s, g in rows.groupby("subject"):  # first half (rounded up) of a subject's sequences gallery, the rest probes
        n = len(g)
        assert g.role.tolist() == ["gallery"] * ((n + 1) // 2) + ["probe"] * (n // 2)
    assert convert(tree, tmp_path / "again", heldout=0.25, heldout_seed=1).meta["heldout"]["subjects"] == held
    with pytest.raises(DataError, match="cannot hold out"):
        heldout_subjects(np.array([1, 1, 2]), 0.5, 0)  # one eligible subject only
    with pytest.raises(ValueError, match=r"fraction in \[0, 1\)"):
        heldout_subjects(np.array([1, 1, 2, 2]), 1.0, 0)


def test_local_protocol_scores_and_official_test_is_only_counted(tree, tmp_path):
    ds = convert(tree, tmp_path / "out", heldout=0.5)
    t = ds.sequences
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(10, 8)) * 5
    emb = centres[np.where(t.subject >= 0, t.subject, 0)] + rng.normal(size=(len(t), 8)) * 0.01
    held = (t.split == "heldout").to_numpy()
    local = evaluate(emb[held], t[held].reset_index(drop=True), "grew")["conventions"]
    assert list(local) == ["local_heldout"] and local["local_heldout"]["official"] is False
    assert "NOT the official GREW number" in local["local_heldout"]["description"]
    assert local["local_heldout"]["metrics"] == {"rank1": 100.0, "rank5": 100.0, "rank10": 100.0, "rank20": 100.0,
                                                 "mAP": 100.0, "mINP": 100.0}
    test = (t.split == "test").to_numpy()
    official = evaluate(emb[test], t[test], "grew")["conventions"]["official"]
    assert official["metrics"] is None and official["mean"] is None
    assert (official["num_probe"], official["num_gallery"]) == (3, 4) and "upload" in official["description"]
    with pytest.raises(ValueError, match="test split or of the held-out split"):
        evaluate(emb[:2], t[:2], "grew")


def test_bad_folders_and_files(tree, tmp_path):
    (tree / "train" / "0005x").mkdir()  # not a 5-digit subject id
    write_seq(tree / "train" / "00001" / "bad,id")  # a comma would break the submission CSV
    write_seq(tree / "test" / "probe" / "aa01", frames=(1,))  # a video id seen twice
    (tree / "train" / "00003" / "cc02" / "00009_2d_pose.txt").write_text("1,2,x\n")
    (tree / "train" / "00004" / "dd01" / "notes.txt").write_text("x")
    (tree / "test" / "probe" / "Pempty").mkdir()
    ds = convert(tree, tmp_path / "out")
    assert ds.meta["stats"] == {"unexpected folder": 2, "video id seen twice (first one kept)": 1,
                                "wrong number of values": 1, "unexpected file or folder": 1,
                                "empty sequence (no usable frames)": 1}
    with pytest.raises(DataError, match="strict"):
        convert_grew(tree, tmp_path / "strict", heldout=0, strict=True, progress=False)
    assert not (tmp_path / "strict").exists()


def test_missing_parts_say_where_to_apply(tree, tmp_path):
    (tree / "test" / "probe").rename(tmp_path / "moved")
    with pytest.raises(MissingReleaseError, match=r"test/probe/ missing.*grew-benchmark\.org/download\.html"):
        convert_grew(tree, tmp_path / "out", progress=False)
    with pytest.raises(MissingReleaseError) as e:
        grew.check_release(tree)
    assert "ROOT/test/probe/VIDEO/NNNNN_2d_pose.txt" in str(e.value) and "synthesize grew" in str(e.value)
    (tmp_path / "moved").rename(tree / "test" / "probe")
    assert grew.check_release(tree) == {"root": str(tree), "train_subjects": 4, "gallery_subjects": 2, "probes": 3}


def test_submission_file_has_opengaits_layout(tree, tmp_path):
    rng = np.random.default_rng(0)
    root = tree / "test" / "gallery"
    for s in range(3, 21):  # 20 gallery subjects x 2 videos: 20 distinct subjects for distinct=True
        for v in range(2):
            write_seq(root / f"{s:05d}" / f"V{s:03d}{v}", frames=(1,), siblings=False)
    ds = convert(tree, tmp_path / "out")
    t = ds.sequences
    centres = rng.normal(size=(21, 6))
    emb = np.where((t.subject >= 0).to_numpy()[:, None], centres[t.subject.clip(0)], rng.normal(size=(len(t), 6)))
    emb[t.key == "Py5"] = centres[7] + 0.001  # probe Py5 looks like gallery subject 7
    path = write_submission(tmp_path / "sub" / "GREW.csv", emb, t)
    lines = path.read_text().split("\n")
    assert lines[0] == "videoId," + ",".join(f"rank{k}" for k in range(1, 21)) and lines[-1] == ""
    rows = list(csv.reader(lines[1:-1]))
    assert [r[0] for r in rows] == ["Px1", "Py5", "Pz9"] and all(len(r) == 21 for r in rows)
    assert rows[1][1:3] == ["7", "7"]  # subject 7's two gallery sequences are nearest: both listed, unpadded ids
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # atomic: no temporary file left
    distinct = submission_rows(emb, t, distinct=True)
    assert distinct.columns.tolist() == HEADER and all(len(set(r[1:])) == 20 for r in distinct.itertuples(index=False))
    assert distinct.iloc[1, 1] == 7 and distinct.iloc[1, 2] != 7
    assert score_submission(path, {"Py5": 7, "Px1": 99}) == {"rank1": 50.0, "rank5": 50.0, "rank10": 50.0, "rank20": 50.0}
    table = read_submission(path)
    assert table.shape == (3, 21) and table.dtypes["rank20"] == np.int64


def test_submission_needs_twenty_gallery_sequences_and_a_valid_file(tree, tmp_path):
    ds = convert(tree, tmp_path / "out")
    with pytest.raises(ValueError, match="4 sequences, fewer than the 20 ranks"):
        write_submission(tmp_path / "s.csv", np.eye(len(ds))[:, :8], ds.sequences)
    assert not (tmp_path / "s.csv").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("videoId,rank1\nA,1\n")
    with pytest.raises(ValueError, match="header must be videoId,rank1,rank2"):
        read_submission(bad)
    bad.write_text(",".join(HEADER) + "\nA," + ",".join(["1"] * 19) + ",x\n")
    with pytest.raises(ValueError, match=r"bad\.csv:2: expected a video id and 20 integer subject ids"):
        read_submission(bad)


def test_synthetic_twin_round_trip_and_its_submission_scores_against_the_truth(tmp_path, capsys):
    root, out = tmp_path / "GREW", tmp_path / "converted"
    assert data_main(["synthesize", "grew", "--output", str(root), "--subjects", "44", "--seed", "2", "--quiet"]) == 0
    assert sorted(p.name for p in root.iterdir()) == [".gaitgraph-output.json", "SYNTHETIC_probe_subjects.csv", "test", "train"]  # + our marker
    assert all(grew.FRAME_NAME.match(p.name) for p in root.rglob("*.txt"))
    assert data_main(["convert", "grew", "--input", str(root), "--output", str(out), "--heldout", "0.2",
                      "--synthetic", "--quiet", "--strict"]) == 0
    ds = load_dataset(out)
    info = dataset_info(out)
    assert info["subjects"] == {"heldout": 5, "test": 22, "train": 17} and info["synthetic"]
    truth = pd.read_csv(root / "SYNTHETIC_probe_subjects.csv", dtype={"videoId": str})
    assert info["unknown_subject_sequences"] == len(truth) and set(truth.videoId) == set(ds.sequences.key[ds.sequences.subject < 0])
    capsys.readouterr()
    assert data_main(["info", str(out)]) == 0
    assert "per role: heldout/gallery" in capsys.readouterr().out
    # embeddings that know every sequence's subject (probes: from the truth file) score 100 % through the file
    t = ds.sequences
    subject = t.subject.to_numpy().copy()
    probe = (t.subject < 0).to_numpy()
    subject[probe] = t.key[probe].map(dict(zip(truth.videoId, truth.subject))).to_numpy()
    emb = np.random.default_rng(0).normal(size=(100, 16))[subject] + 1e-3
    path = write_submission(tmp_path / "GREW.csv", emb, t)
    assert score_submission(path, root / "SYNTHETIC_probe_subjects.csv") == {"rank1": 100.0, "rank5": 100.0,
                                                                             "rank10": 100.0, "rank20": 100.0}


def test_evaluate_checkpoint_on_the_held_out_split(tmp_path, untrained_coco17_checkpoint):
    from gaitgraph.evaluation.evaluate_checkpoint import evaluate_checkpoint

    data = convert_grew(synthesize_grew(tmp_path / "w", subjects=8, progress=False, frames=(20, 30)), tmp_path / "c",
                        heldout=0.5, progress=False)
    m = evaluate_checkpoint(untrained_coco17_checkpoint, data, tmp_path / "e" / "metrics.json", split="heldout", progress=False)
    assert list(m["conventions"]) == ["local_heldout"] and m["split"] == "heldout"
    assert set(m["conventions"]["local_heldout"]["metrics"]) == {"rank1", "rank5", "rank10", "rank20", "mAP", "mINP"}
