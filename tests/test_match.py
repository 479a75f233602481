"""``gaitgraph match``: ranking logic and the command end to end with a small checkpoint made here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gaitgraph.checkpoints import ModelSpec, save_checkpoint
from gaitgraph.cli.match import main as match_main
from gaitgraph.data.format import sequences_frame, write_dataset
from gaitgraph.matching import distances, rank_accuracy, rank_identities

# ------------------------------------------------------------------------------------- ranking


def test_distances_are_l2_normalised_euclidean():
    a = np.array([[3.0, 0.0], [1.0, 1.0]])
    b = np.array([[10.0, 0.0], [0.0, 2.0]])
    d = distances(a, b)
    np.testing.assert_allclose(d, [[0.0, np.sqrt(2)], [np.sqrt(2 - np.sqrt(2)), np.sqrt(2 - np.sqrt(2))]], atol=1e-7)


def test_rank_identities_uses_the_best_sequence_per_identity():
    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.72], [-1.0, 0.1]])
    ids = np.array([5, 9, 9, 2])  # identity 9 has two sequences
    probe = np.array([[0.72, 0.7], [-1.0, 0.0]])
    r = rank_identities(probe, gallery, ids, top_k=3, block=1)  # block=1: blocks must not change anything
    assert r.identities.tolist() == [[9, 5, 2], [2, 9, 5]]
    assert r.gallery_index[0, 0] == 2 and r.gallery_index[1, 0] == 3  # the closest sequence of the identity
    np.testing.assert_allclose(r.distances, np.sort(r.distances, axis=1))
    np.testing.assert_allclose(r.distances[0, 0], distances(probe[:1], gallery[2:3])[0, 0])
    acc = rank_accuracy(r, np.array([5, 2]), ks=(1, 3))
    assert acc == {"rank1": 50.0, "rank3": 100.0}


# ---------------------------------------------------------------------------------- end to end


def walk(subject: int, frames: int = 16, v: int = 17) -> np.ndarray:
    """A distinct (T, V, 3) pose sequence per subject (gait-like periodic motion, subject-specific)."""
    rng = np.random.default_rng(subject)
    base = rng.uniform(50, 250, size=(1, v, 2))
    t = np.arange(frames)[:, None, None]
    xy = base + rng.uniform(5, 30, size=(1, v, 2)) * np.sin(t * rng.uniform(0.2, 0.8) + rng.uniform(0, 6, size=(1, v, 1)))
    return np.concatenate([xy, np.full((frames, v, 1), 0.9)], axis=2).astype(np.float32)


def make_dataset(path, sequences: list[tuple[int, np.ndarray]], skeleton="coco17", labelled=True, normalization=None):
    poses = np.concatenate([s for _, s in sequences])
    lengths = [len(s) for _, s in sequences]
    n = len(sequences)
    table = sequences_frame({
        "subject": [s for s, _ in sequences], "condition": ["nm"] * n, "sequence": list(range(1, n + 1)),
        "view": [90] * n, "split": ["test"] * n, "offset": np.cumsum([0] + lengths[:-1]), "length": lengths,
        "source": [f"walk{i}" for i in range(n)],
    })
    frames = np.concatenate([np.arange(k) for k in lengths])
    meta = {"dataset": "custom", "skeleton": skeleton, "keypoints": "test", "synthetic": True, "labelled": labelled}
    if normalization:
        meta["normalization"] = normalization
    return write_dataset(path, poses, frames, table, meta)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="coco17", sequence_length=12)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.ckpt", spec.create_model(), spec)


def test_match_end_to_end(tmp_path, checkpoint, capsys):
    subjects = [3, 7, 11, 42]
    gallery = make_dataset(tmp_path / "gallery", [(s, walk(s)) for s in subjects] + [(7, walk(700))])
    # probes: identical copies of gallery walks (subjects 11 and 42), and a walker not in the gallery
    probe = make_dataset(tmp_path / "probe", [(11, walk(11)), (42, walk(42)), (99, walk(99))])
    out_csv, out_json = tmp_path / "ranked.csv", tmp_path / "ranked.json"
    rc = match_main(["--checkpoint", str(checkpoint), "--gallery", str(gallery), "--probe", str(probe),
                     "--output", str(out_csv), str(out_json), "--top-k", "3", "--batch-size", "4", "--quiet"])
    printed = capsys.readouterr().out
    assert rc == 0 and "rank-1: 66.7 %" in printed and "rank-5: n/a (gallery has 4 identities)" in printed

    ranked = pd.read_csv(out_csv)
    assert list(ranked.columns) == ["probe", "probe_subject", "probe_condition", "probe_sequence", "probe_view",
                                    "probe_source", "rank", "gallery_subject", "distance", "gallery_sequence",
                                    "gallery_source", "correct"]
    assert len(ranked) == 3 * 3 and ranked.groupby("probe")["rank"].apply(list).tolist() == [[1, 2, 3]] * 3
    assert ranked.groupby("probe")["gallery_subject"].nunique().tolist() == [3, 3, 3]  # identities, not sequences
    assert (ranked.groupby("probe")["distance"].apply(lambda d: d.is_monotonic_increasing)).all()
    first = ranked[ranked["rank"] == 1].set_index("probe")
    assert first.loc[0, "gallery_subject"] == 11 and first.loc[1, "gallery_subject"] == 42
    assert first.loc[0, "distance"] < 1e-3 and bool(first.loc[0, "correct"]) and not first.loc[2, "correct"]
    assert first.loc[0, "gallery_source"] == "walk2"  # the gallery sequence of subject 11

    doc = json.loads(out_json.read_text())
    assert doc["tta"] is True and doc["normalization"] == "none" and doc["num_gallery"] == 5 and doc["num_gallery_identities"] == 4
    assert doc["rank1"] == pytest.approx(200 / 3) and doc["probes_without_gallery_identity"] == 1
    assert len(doc["matches"]) == 9 and doc["matches"][0]["gallery_subject"] == 11
    metrics = json.loads((tmp_path / "ranked.metrics.json").read_text())
    assert metrics["rank1"] == doc["rank1"] and "rank5" not in metrics


def test_match_original_checkpoint_unlabelled_probes_no_tta(tmp_path):
    # an original-format GaitGraph2 checkpoint (no skeleton/sequence_length keys: 17 joints -> coco17, L = 60)
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="coco17", sequence_length=60)
    ckpt = save_checkpoint(tmp_path / "original.ckpt", spec.create_model(), spec, format="gaitgraph2")
    gallery = make_dataset(tmp_path / "g", [(1, walk(1, 20)), (2, walk(2, 20))])
    probe = make_dataset(tmp_path / "p", [(1, walk(2, 20))], labelled=False)
    out = tmp_path / "ranked.json"
    assert match_main(["--checkpoint", str(ckpt), "--gallery", str(gallery), "--probe", str(probe),
                       "--output", str(out), "--no-tta", "--quiet"]) == 0
    doc = json.loads(out.read_text())
    assert doc["tta"] is False and doc["probe_labelled"] is False and "rank1" not in doc
    assert [m["gallery_subject"] for m in doc["matches"]] == [2, 1]
    assert "correct" not in doc["matches"][0] and not (tmp_path / "ranked.metrics.json").exists()


def test_match_skeleton_mismatch_is_a_clear_error(tmp_path, checkpoint, capsys):
    gallery = make_dataset(tmp_path / "g", [(1, walk(1, 12, v=18))], skeleton="openpose18")
    probe = make_dataset(tmp_path / "p", [(1, walk(1, 12))])
    from gaitgraph.cli.main import main as gaitgraph_main  # through the `gaitgraph match` dispatch

    rc = gaitgraph_main(["match", "--checkpoint", str(checkpoint), "--gallery", str(gallery), "--probe", str(probe),
                     "--output", str(tmp_path / "r.csv"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "openpose18 layout but the checkpoint expects coco17" in err and "--skeleton coco17" in err
    rc = match_main(["--checkpoint", str(checkpoint), "--gallery", str(probe), "--probe", str(probe),
                     "--output", str(tmp_path / "r.txt"), "--quiet"])
    assert rc == 2 and "unknown extension" in capsys.readouterr().err
    normalized = make_dataset(tmp_path / "n", [(1, walk(1, 12))], normalization={"mode": "center-scale"})
    rc = match_main(["--checkpoint", str(checkpoint), "--gallery", str(normalized), "--probe", str(probe),
                     "--output", str(tmp_path / "r.csv"), "--quiet"])
    assert rc == 2 and "normalization 'center-scale' but probe" in capsys.readouterr().err
