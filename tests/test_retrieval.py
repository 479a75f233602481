"""Retrieval metrics (rank-k, mAP, mINP as OpenGait's evaluate_Gait3D): hand-made cases worked out by
hand, a per-probe oracle on random data, ties, chunking, nearest-k rankings, the metrics.json shape."""

from __future__ import annotations

import numpy as np
import pytest

from gaitgraph.evaluation import retrieval
from gaitgraph.evaluation.retrieval import nearest, retrieval_convention, retrieval_metrics


def line(*x):
    """1-D points as (N, 1) embeddings: with metric euc the distance is |a - b|."""
    return np.array(x, dtype=np.float32)[:, None]


def test_hand_made_case_with_known_answers():
    # Gallery on a line at x = 1..5 with subjects A B A C B (A=1, B=2, C=3); all probes at x = 0, so the
    # ranking is the gallery order for every probe.
    gallery, g_subj = line(1, 2, 3, 4, 5), [1, 2, 1, 3, 2]
    probes, p_subj = line(0, 0, 0, 0), [1, 2, 3, 4]
    # probe A: matches 1 0 1 0 0 -> first hit at 1; AP = (1/1 + 2/3) / 2 = 5/6; INP = 2 hits / last at 3 = 2/3
    # probe B: matches 0 1 0 0 1 -> first hit at 2; AP = (1/2 + 2/5) / 2 = 0.45; INP = 2/5
    # probe C: matches 0 0 0 1 0 -> first hit at 4; AP = 1/4; INP = 1/4
    # probe D (subject 4): not in the gallery -> left out of every metric
    m = retrieval_metrics(probes, p_subj, gallery, g_subj, ranks=(1, 2, 5, 10), metric="euc")
    assert m["rank1"] == pytest.approx(100 / 3, abs=1e-3)  # A only
    assert m["rank2"] == pytest.approx(200 / 3, abs=1e-3)  # A and B
    assert m["rank5"] == 100.0 and m["rank10"] == 100.0  # rank 10 > 5 gallery entries: every scored probe is found
    assert m["mAP"] == pytest.approx(100 * (5 / 6 + 0.45 + 0.25) / 3, abs=1e-3)  # 51.1111
    assert m["mINP"] == pytest.approx(100 * (2 / 3 + 0.4 + 0.25) / 3, abs=1e-3)  # 43.8889
    assert (m["num_probe"], m["num_probe_scored"], m["num_gallery"]) == (4, 3, 5)


def test_cosine_distance_ranks_by_angle_not_length():
    # unit circle angles: gallery at 10 (subject 1, but 100 times longer), 50 and 100 degrees (subject 2);
    # a probe at 0 degrees of subject 2: by angle the order is 10, 50, 100 -> first hit at 2, hits at 2 and 3
    ang = np.deg2rad([10, 50, 100])
    gallery = np.stack([np.cos(ang), np.sin(ang)], 1) * np.array([[100.0], [1.0], [1.0]])
    m = retrieval_metrics(np.array([[1.0, 0.0]]), [2], gallery, [1, 2, 2], ranks=(1, 2), metric="cos")
    assert (m["rank1"], m["rank2"]) == (0.0, 100.0)
    assert m["mAP"] == pytest.approx(100 * (1 / 2 + 2 / 3) / 2, abs=1e-3)  # precision 1/2 at 2, 2/3 at 3
    assert m["mINP"] == pytest.approx(100 * 2 / 3, abs=1e-3)
    # Euclidean on the raw vectors puts the long vector last instead: order 50, 100, 10 -> rank-1 hit
    assert retrieval_metrics(np.array([[1.0, 0.0]]), [2], gallery, [1, 2, 2], ranks=(1,), metric="euc")["rank1"] == 100.0


def test_a_tie_counts_against_the_probe():
    # gallery at -1 (subject 2) and +1 (subject 1): both at distance 1 from the probe (subject 1) at 0.
    # Whichever order the gallery is in, the wrong subject is ranked first among equal distances.
    for g, s in ((line(-1, 1), [2, 1]), (line(1, -1), [1, 2])):
        m = retrieval_metrics(line(0), [1], g, s, ranks=(1, 2), metric="euc")
        assert (m["rank1"], m["rank2"], m["mAP"]) == (0.0, 100.0, 50.0)


def oracle(dist, p_subj, g_subj, ranks):
    """Straightforward per-probe loop over the definitions (module docstring of retrieval.py)."""
    order = np.argsort(dist, axis=1, kind="stable")
    cmc, ap, inp = [], [], []
    for i in range(len(p_subj)):
        hits = g_subj[order[i]] == p_subj[i]
        if not hits.any():
            continue
        positions = np.flatnonzero(hits) + 1  # 1-based ranks of the correct matches
        cmc.append([positions[0] <= k for k in ranks])
        ap.append(np.mean([(j + 1) / pos for j, pos in enumerate(positions)]))
        inp.append(len(positions) / positions[-1])
    out = {f"rank{k}": 100 * np.mean([c[j] for c in cmc]) for j, k in enumerate(ranks)}
    return out | {"mAP": 100 * np.mean(ap), "mINP": 100 * np.mean(inp), "num_probe_scored": len(cmc)}


@pytest.mark.parametrize("metric", ["cos", "euc"])
def test_matches_a_per_probe_oracle_on_random_data(metric, monkeypatch):
    rng = np.random.default_rng(7)
    probe, gallery = rng.normal(size=(61, 16)), rng.normal(size=(143, 16))
    p_subj, g_subj = rng.integers(0, 40, 61), rng.integers(0, 30, 143)  # some probe subjects are not in the gallery
    if metric == "cos":
        pn = probe / np.linalg.norm(probe, axis=1, keepdims=True)
        gn = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
        dist = 1 - pn @ gn.T
    else:
        dist = np.linalg.norm(probe[:, None] - gallery[None], axis=-1)
    ranks = (1, 5, 10, 20)
    expected = oracle(dist, p_subj, g_subj, ranks)
    got = retrieval_metrics(probe, p_subj, gallery, g_subj, ranks=ranks, metric=metric)
    assert got["num_probe_scored"] == expected["num_probe_scored"] < 61
    for key in ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP"):
        assert got[key] == pytest.approx(expected[key], abs=1e-3), key
    monkeypatch.setattr(retrieval, "CHUNK_ELEMENTS", 300)  # 2 probes per chunk: the same numbers
    assert retrieval_metrics(probe, p_subj, gallery, g_subj, ranks=ranks, metric=metric) == got


def test_no_probe_with_a_gallery_match_is_an_error():
    with pytest.raises(ValueError, match="no probe's subject appears in the gallery"):
        retrieval_metrics(line(0), [9], line(1, 2), [1, 2], metric="euc")
    with pytest.raises(ValueError, match="NaN"):
        retrieval_metrics(np.array([[np.nan]]), [1], line(1), [1])


def test_nearest_sequences_and_nearest_distinct_subjects(monkeypatch):
    gallery, subj = line(1, 2, 3, 4, 5), np.array([7, 8, 7, 9, 8])
    assert nearest(line(0, 6), gallery, 3, metric="euc").tolist() == [[0, 1, 2], [4, 3, 2]]
    # distinct subjects ranked by their nearest sequence: from 0 -> 7 (at 1), 8 (at 2), 9 (at 4)
    assert nearest(line(0, 6), gallery, 3, metric="euc", gallery_subject=subj).tolist() == [[7, 8, 9], [8, 9, 7]]
    rng = np.random.default_rng(1)
    p, g = rng.normal(size=(30, 8)), rng.normal(size=(50, 8))
    d = 1 - (p / np.linalg.norm(p, axis=1, keepdims=True)) @ (g / np.linalg.norm(g, axis=1, keepdims=True)).T
    monkeypatch.setattr(retrieval, "CHUNK_ELEMENTS", 120)
    np.testing.assert_array_equal(nearest(p, g, 20), np.argsort(d, axis=1, kind="stable")[:, :20])
    with pytest.raises(ValueError, match="3 distinct subjects, fewer than the 4"):
        nearest(line(0), gallery, 4, metric="euc", gallery_subject=subj)


def test_convention_shape_for_metrics_json():
    m = retrieval_metrics(line(0), [1], line(1, 2), [1, 2], metric="euc")
    conv = retrieval_convention(m, description="d", gallery="g", probe="p", metric="euc", official=True)
    assert conv["kind"] == "retrieval" and conv["official"] is True and conv["conditions"] == {}
    assert conv["metrics"] == {"rank1": 100.0, "rank5": 100.0, "rank10": 100.0, "mAP": 100.0, "mINP": 100.0}
    assert conv["mean"] == 100.0 and (conv["num_probe"], conv["num_gallery"], conv["num_probe_scored"]) == (1, 2, 1)
    unscored = retrieval_convention({"num_probe": 3, "num_gallery": 4}, description="d", gallery="g", probe="p",
                                    metric="cos", official=True)
    assert unscored["metrics"] is None and unscored["mean"] is None and unscored["num_probe"] == 3
