"""Evaluation protocols on hand-made embeddings whose rank-1 is known in advance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import CASIA_VIEWS, OUMVLP_VIEWS
from gaitgraph.evaluation import distance
from gaitgraph.evaluation.protocols import evaluate

CASIA_SEQS = [("nm", q) for q in range(1, 7)] + [("bg", 1), ("bg", 2), ("cl", 1), ("cl", 2)]


def casia_frame(subjects=range(75, 80), views=CASIA_VIEWS) -> pd.DataFrame:
    rows = [(s, c, q, v) for s in subjects for c, q in CASIA_SEQS for v in views]
    return pd.DataFrame(rows, columns=["subject", "condition", "sequence", "view"])


def oumvlp_frame(subjects=range(1, 6), views=OUMVLP_VIEWS) -> pd.DataFrame:
    rows = [(s, "nm", q, v) for s in subjects for v in views for q in (0, 1)]
    return pd.DataFrame(rows, columns=["subject", "condition", "sequence", "view"])


def one_hot(codes, size=128) -> np.ndarray:
    return np.eye(size, dtype=np.float32)[np.asarray(codes)]


def cells(conv, cond):
    return np.array([[np.nan if x is None else x for x in row] for row in conv["conditions"][cond]["matrix"]])


# ---------------------------------------------------------------- perfect embeddings


def test_casia_one_hot_subject_is_perfect():
    df = casia_frame()
    out = evaluate(one_hot(df.subject), df, "casia-b")
    assert out["num_gallery"] == 5 * 4 * 11 and out["num_probe"] == 5 * 6 * 11
    for name, conv in out["conventions"].items():
        assert conv["views"] == CASIA_VIEWS
        assert conv["mean"] == 100.0
        for cond in ("NM#5-6", "BG#1-2", "CL#1-2"):
            block = conv["conditions"][cond]
            assert block["mean"] == 100.0 and block["num_probe"] == 5 * 2 * 11
            assert set(block["per_probe_view"]) == {str(v) for v in CASIA_VIEWS}
            m = cells(conv, cond)
            if name == "exclude_identical":
                assert np.isnan(np.diag(m)).all()
                assert np.nanmin(m) == 100.0
            else:
                assert (m == 100.0).all()
    assert "10 other gallery views" in out["conventions"]["exclude_identical"]["description"]


def test_torch_and_numpy_inputs_agree():
    import torch

    df = casia_frame(subjects=[75, 76, 77])
    emb = np.random.default_rng(3).normal(size=(len(df), 6))
    assert evaluate(torch.from_numpy(emb), df, "casia-b") == evaluate(emb, df, "casia-b")


def test_oumvlp_one_hot_subject_is_perfect():
    df = oumvlp_frame()
    out = evaluate(one_hot(df.subject), df, "oumvlp-pose")
    assert set(out["conventions"]) == {"gaitgraph2", "opengait"}
    gg2, og = out["conventions"]["gaitgraph2"], out["conventions"]["opengait"]
    assert (gg2["gallery"], gg2["probe"], gg2["exclude_identical"]) == ("seq 00", "seq 01", False)
    assert (og["gallery"], og["probe"], og["exclude_identical"]) == ("seq 01", "seq 00", True)
    assert gg2["mean"] == og["mean"] == 100.0
    assert (cells(gg2, "NM") == 100.0).all()
    assert np.isnan(np.diag(cells(og, "NM"))).all()
    assert "13 other gallery views" in og["description"]
    assert "INCLUDED" in gg2["description"] and "EXCLUDED" in og["description"]


# ---------------------------------------------------------------- identical-view handling


def view_block_embeddings(df: pd.DataFrame, views, block: int, shift: np.ndarray | None = None) -> np.ndarray:
    """One-hot of (subject rank + view_index // block) mod K, K = number of subjects (5 here, more
    than the 4 blocks). Every code exists in every gallery view, so there are no ties: a probe finds
    its own subject exactly when the gallery view lies in its block of ``block`` consecutive views,
    and another subject otherwise. ``shift`` replaces the view term (per row) where it is not NaN."""
    subj = df.subject.rank(method="dense").to_numpy().astype(int) - 1
    k = subj.max() + 1
    term = (df.view.map({v: i for i, v in enumerate(views)}).to_numpy() // block).astype(float)
    if shift is not None:
        term = np.where(np.isnan(shift), term, shift)
    assert k > (len(views) - 1) // block + 1
    return one_hot((subj + term.astype(int)) % k, k)


def expected_block_matrix(n_views: int, block: int) -> np.ndarray:
    idx = np.arange(n_views) // block
    return np.where(idx[:, None] == idx[None, :], 100.0, 0.0)


def test_casia_identical_view_choice_changes_answer():
    df = casia_frame()
    # CL probes: code subject + 4 at every view; gallery codes are subject + 0..3: always wrong
    cl = np.where(df.condition == "cl", 4.0, np.nan)
    emb = view_block_embeddings(df, CASIA_VIEWS, block=3, shift=cl)
    out = evaluate(emb, df, "casia-b")
    full = expected_block_matrix(11, 3)
    excl = full.copy()
    np.fill_diagonal(excl, np.nan)
    exp_excl = np.nanmean(excl, axis=0)  # e.g. view 0: 2 of 10 other views in its block -> 20 %
    exp_incl = full.mean(axis=0)  # view 0: 3 of 11 -> 27.27 %
    assert exp_excl[0] == pytest.approx(20.0) and exp_excl[-1] == pytest.approx(10.0)

    ex, inc = out["conventions"]["exclude_identical"], out["conventions"]["include_identical"]
    for cond in ("NM#5-6", "BG#1-2"):
        np.testing.assert_allclose(cells(ex, cond), excl)
        np.testing.assert_allclose(cells(inc, cond), full)
        got = [ex["conditions"][cond]["per_probe_view"][str(v)] for v in CASIA_VIEWS]
        np.testing.assert_allclose(got, exp_excl, atol=1e-4)
        got = [inc["conditions"][cond]["per_probe_view"][str(v)] for v in CASIA_VIEWS]
        np.testing.assert_allclose(got, exp_incl, atol=1e-4)
        assert ex["conditions"][cond]["mean"] == pytest.approx(exp_excl.mean(), abs=1e-4)
        assert inc["conditions"][cond]["mean"] == pytest.approx(exp_incl.mean(), abs=1e-4)
    assert ex["conditions"]["CL#1-2"]["mean"] == 0.0 and inc["conditions"]["CL#1-2"]["mean"] == 0.0
    assert ex["mean"] == pytest.approx(2 * exp_excl.mean() / 3, abs=1e-4)
    assert inc["mean"] == pytest.approx(2 * exp_incl.mean() / 3, abs=1e-4)


def test_oumvlp_gaitgraph2_row_and_column_means():
    df = oumvlp_frame()
    out = evaluate(view_block_embeddings(df, OUMVLP_VIEWS, block=4), df, "oumvlp-pose")
    full = expected_block_matrix(14, 4)  # blocks of 4,4,4,2 views
    gg2 = out["conventions"]["gaitgraph2"]
    block = gg2["conditions"]["NM"]
    np.testing.assert_allclose(cells(gg2, "NM"), full)
    assert block["mean"] == pytest.approx(full.mean(), abs=1e-4)  # all 196 cells
    np.testing.assert_allclose(list(block["per_probe_view"].values()), full.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(list(block["per_gallery_view"].values()), full.mean(axis=1), atol=1e-4)
    assert "test/probe_{view}" in gg2["original_log_names"]  # the original's swapped names, documented
    og = out["conventions"]["opengait"]
    excl = full.copy()
    np.fill_diagonal(excl, np.nan)
    assert og["mean"] == pytest.approx(np.nanmean(excl, axis=0).mean(), abs=1e-4)


# ---------------------------------------------------------------- OUMVLP roles and missing gallery


def test_oumvlp_swapped_roles_give_different_answers():
    """seq00 of subject 2 lies between subjects 1 and 2; seq01 is clean one-hot.

    Gallery 00 / probe 01 (gaitgraph2): probe 2 (e2) is nearer to x2 = (e1 + .5 e2)/|.| (0.447) than
    to x1 = e1 (0) -> all hits. Gallery 01 / probe 00 (opengait): probe x2 is nearer to e1 (0.894)
    than to e2 (0.447) -> subject 2 misses in every cell: 4 of 5 subjects right = 80 %.
    """
    df = oumvlp_frame(subjects=range(1, 6))
    emb = one_hot(df.subject)
    s2 = ((df.subject == 2) & (df.sequence == 0)).to_numpy()
    emb[s2] = one_hot(np.ones(s2.sum(), int)) + 0.5 * emb[s2]
    out = evaluate(emb, df, "oumvlp-pose")
    assert out["conventions"]["gaitgraph2"]["mean"] == 100.0
    og = out["conventions"]["opengait"]
    assert og["mean"] == pytest.approx(80.0)
    m = cells(og, "NM")
    assert np.isnan(np.diag(m)).all() and np.nanmax(m) == pytest.approx(80.0) and np.nanmin(m) == pytest.approx(80.0)


def test_opengait_probe_without_gallery_counts_as_miss():
    """Drop the seq 01 sequence (OpenGait's gallery) of subject 3 at view 30 and of subject 4 at 60."""
    df = oumvlp_frame(subjects=range(1, 6))
    drop = (df.sequence == 1) & (((df.subject == 3) & (df.view == 30)) | ((df.subject == 4) & (df.view == 60)))
    df = df[~drop].reset_index(drop=True)
    out = evaluate(one_hot(df.subject), df, "oumvlp-pose")
    og = out["conventions"]["opengait"]
    m = cells(og, "NM")
    g30, g60 = OUMVLP_VIEWS.index(30), OUMVLP_VIEWS.index(60)
    expected = np.full((14, 14), 100.0)
    expected[g30, :] = 80.0  # against gallery view 30, subject 3's probe has no match: 4/5
    expected[g60, :] = 80.0
    np.fill_diagonal(expected, np.nan)
    np.testing.assert_allclose(m, expected)
    per_view = np.nanmean(expected, axis=0)  # probe view 30: 12 clean cells + gallery 60 at 80 %
    assert og["conditions"]["NM"]["per_probe_view"]["30"] == pytest.approx(per_view[g30], abs=1e-4)
    assert og["mean"] == pytest.approx(per_view.mean(), abs=1e-4)
    nm = np.array(og["conditions"]["NM"]["no_gallery_match"], dtype=float)  # null on the diagonal
    assert np.isnan(np.diag(nm)).all()
    assert np.nansum(nm[g30]) == 13 and np.nansum(nm[g60]) == 13 and np.nansum(nm) == 26
    assert og["num_gallery_per_view"]["30"] == 4
    # the same sequences are *probes* under gaitgraph2: fewer probes, still all hits
    gg2 = out["conventions"]["gaitgraph2"]
    assert gg2["mean"] == 100.0 and gg2["conditions"]["NM"]["num_probe_per_view"]["30"] == 4
    assert gg2["num_probe"] == 5 * 14 - 2 and og["num_probe"] == 5 * 14


# ---------------------------------------------------------------- empty sets


def test_casia_missing_gallery_view_and_empty_probe_set():
    df = casia_frame()
    df = df[~((df.view == 36) & (df.condition == "nm") & (df.sequence <= 4))]  # no gallery at 36
    df = df[df.condition != "cl"].reset_index(drop=True)  # no CL probes at all
    out = evaluate(one_hot(df.subject), df, "casia-b")
    ex = out["conventions"]["exclude_identical"]
    assert ex["views"] == CASIA_VIEWS  # view 36 still present through the probes
    assert ex["num_gallery_per_view"]["36"] == 0
    m = cells(ex, "NM#5-6")
    i36 = CASIA_VIEWS.index(36)
    assert np.isnan(m[i36]).all() and np.nanmin(m) == 100.0
    assert ex["conditions"]["NM#5-6"]["per_probe_view"]["36"] == 100.0  # 10 other views, all present
    cl = ex["conditions"]["CL#1-2"]
    assert cl["mean"] is None and cl["num_probe"] == 0
    assert all(x is None for row in cl["matrix"] for x in row)
    assert ex["mean"] == 100.0  # mean over the conditions that have probes


def test_nothing_to_match_gives_nulls_not_errors():
    df = oumvlp_frame(subjects=[1, 2])
    df = df[df.sequence == 0].reset_index(drop=True)  # no seq 01: gaitgraph2 has no probes, opengait no gallery
    out = evaluate(one_hot(df.subject), df, "oumvlp-pose")
    for conv in out["conventions"].values():
        assert conv["mean"] is None and conv["conditions"]["NM"]["mean"] is None
        assert all(x is None for row in conv["conditions"]["NM"]["matrix"] for x in row)
    assert out["conventions"]["opengait"]["num_probe"] == 28 and out["conventions"]["opengait"]["num_gallery"] == 0
    empty = casia_frame(subjects=[]).astype({"subject": int, "sequence": int, "view": int})
    out = evaluate(np.zeros((0, 4)), empty, "casia-b")
    assert out["num_probe"] == 0 and out["conventions"]["exclude_identical"]["mean"] is None


def test_casia_wrong_condition_rows_are_ignored():
    df = casia_frame(subjects=[75, 76])
    extra = pd.DataFrame([(75, "bg", 3, 0), (76, "nm", 7, 18)], columns=df.columns)
    df2 = pd.concat([df, extra], ignore_index=True)
    out = evaluate(one_hot(df2.subject), df2, "casia-b")
    assert out["num_probe"] == 2 * 6 * 11 and out["num_gallery"] == 2 * 4 * 11


# ---------------------------------------------------------------- oracle: naive per-probe loop


def naive_casia(emb, df):
    """The original's matching written the slow way: normalise, Euclidean distance, argmin per probe."""
    x = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    gal = (df.condition == "nm") & (df.sequence <= 4)
    probes = {"NM#5-6": (df.condition == "nm") & (df.sequence >= 5), "BG#1-2": df.condition == "bg", "CL#1-2": df.condition == "cl"}
    out = {}
    for name, pm in probes.items():
        acc = np.zeros((11, 11))
        for gi, g in enumerate(CASIA_VIEWS):
            gidx = np.flatnonzero(gal & (df.view == g))
            for pi, p in enumerate(CASIA_VIEWS):
                pidx = np.flatnonzero(pm & (df.view == p))
                hits = 0
                for i in pidx:
                    d = np.linalg.norm(x[gidx] - x[i], axis=1)
                    hits += df.subject.iloc[gidx[np.argmin(d)]] == df.subject.iloc[i]
                acc[gi, pi] = 100.0 * hits / len(pidx)
        out[name] = acc
    return out


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("chunk", [None, 97])  # 97 elements: chunks of one or a few rows
def test_casia_matches_naive_loop_on_random_embeddings(chunk, backend, monkeypatch):
    if chunk:
        monkeypatch.setattr(distance, "CHUNK_ELEMENTS", chunk)
    rng = np.random.default_rng(0)
    df = casia_frame(subjects=range(75, 81))
    centres = rng.normal(size=(200, 16))
    emb = centres[df.subject] + 1.3 * rng.normal(size=(len(df), 16))  # noisy: rank-1 well below 100 %
    out = evaluate(emb, df, "casia-b", backend=backend, workers=2)
    ref = naive_casia(emb, df)
    for cond, acc in ref.items():
        np.testing.assert_allclose(cells(out["conventions"]["include_identical"], cond), acc, atol=1e-3)
        excl = acc.copy()
        np.fill_diagonal(excl, np.nan)
        np.testing.assert_allclose(cells(out["conventions"]["exclude_identical"], cond), excl, atol=1e-3)
        assert out["conventions"]["exclude_identical"]["conditions"][cond]["mean"] == pytest.approx(
            np.nanmean(excl, axis=0).mean(), abs=1e-3
        )
    assert 20 < out["conventions"]["exclude_identical"]["mean"] < 95


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("chunk", [None, 50])
def test_oumvlp_matches_naive_loop_on_random_embeddings(chunk, backend, monkeypatch):
    if chunk:
        monkeypatch.setattr(distance, "CHUNK_ELEMENTS", chunk)
    rng = np.random.default_rng(1)
    df = oumvlp_frame(subjects=range(1, 9))
    emb = rng.normal(size=(50, 12))[df.subject] + 1.2 * rng.normal(size=(len(df), 12))
    x = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    out = evaluate(emb, df, "oumvlp-pose", backend=backend, workers=2)
    for name, gseq, pseq in (("gaitgraph2", 0, 1), ("opengait", 1, 0)):
        acc = np.zeros((14, 14))
        for gi, g in enumerate(OUMVLP_VIEWS):
            gidx = np.flatnonzero((df.sequence == gseq) & (df.view == g))
            for pi, p in enumerate(OUMVLP_VIEWS):
                pidx = np.flatnonzero((df.sequence == pseq) & (df.view == p))
                d = np.linalg.norm(x[pidx][:, None] - x[gidx][None], axis=2)
                acc[gi, pi] = 100.0 * np.mean(df.subject.to_numpy()[gidx[d.argmin(1)]] == df.subject.to_numpy()[pidx])
        conv = out["conventions"][name]
        if name == "opengait":
            np.fill_diagonal(acc, np.nan)
        np.testing.assert_allclose(cells(conv, "NM"), acc, atol=1e-3)


def test_worker_threads_do_not_change_the_result():
    import torch

    rng = np.random.default_rng(2)
    df = oumvlp_frame(subjects=range(1, 7))
    emb = rng.normal(size=(20, 8))[df.subject] + 1.5 * rng.normal(size=(len(df), 8))
    threads = torch.get_num_threads()
    blas = distance._numpy_openblas()
    blas_threads = blas[0]() if blas else None
    one = evaluate(emb, df, "oumvlp-pose", workers=1)
    for backend in ("numpy", "torch"):
        assert evaluate(emb, df, "oumvlp-pose", workers=3, backend=backend) == one
    assert torch.get_num_threads() == threads  # restored after the pool
    assert (blas[0]() if blas else None) == blas_threads
    assert 0 < one["conventions"]["opengait"]["mean"] < 100


def test_ties_between_subjects_are_misses():
    """All-zero embeddings tie every gallery entry: no credit, whatever the order of the rows."""
    df = oumvlp_frame(subjects=range(1, 4))
    out = evaluate(np.zeros((len(df), 8)), df, "oumvlp-pose")
    assert out["conventions"]["gaitgraph2"]["mean"] == 0.0 and out["conventions"]["opengait"]["mean"] == 0.0
    df = casia_frame(subjects=[75, 76])
    out = evaluate(np.ones((len(df), 8)), df, "casia-b")
    assert out["conventions"]["include_identical"]["mean"] == 0.0


# ---------------------------------------------------------------- bad input


def test_bad_input_is_a_clear_error():
    df = casia_frame(subjects=[75])
    emb = one_hot(df.subject)
    with pytest.raises(ValueError, match="correspond row by row"):
        evaluate(emb[:-1], df, "casia-b")
    bad = emb.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        evaluate(bad, df, "casia-b")
    with pytest.raises(ValueError, match="no evaluation protocol"):
        evaluate(emb, df, "custom")
    with pytest.raises(ValueError, match="lacks columns"):
        evaluate(emb, df.drop(columns="view"), "casia-b")
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        evaluate(emb[:, 0], df, "casia-b")
