"""Published rank-1 numbers (%), as data, each with the file it was copied from.

Nothing here is computed. Sources: ``gaitgraph2.md`` §8 and ``peers.md`` §2 (the project's reference
notes), which name the files the values come from. Each entry says which evaluation convention it
uses, so that ``gaitgraph.paper.tables`` puts it beside our number of the *same* protocol:

* CASIA-B: every published number here uses ``exclude_identical`` (gallery NM#1-4, mean over the 10
  non-identical gallery views per probe view, then over probe views).
* OUMVLP-Pose: OpenGait and FastPoseGait use ``opengait`` (gallery seq 01, probe seq 00, identical
  views excluded). The GaitGraph2 code's own convention (``gaitgraph2``: gallery 00, probe 01,
  identical views included) has no verified published number: the paper's OUMVLP value is recalled
  (~62.1, AlphaPose), not checked against the PDF, and is marked ``verified=False``.

* Gait3D and GREW (retrieval protocols, ``gaitgraph.evaluation.retrieval``): convention ``official``
  (Gait3D: PROBE_SET against the rest of the test split, OpenGait ``evaluate_Gait3D``; GREW: the
  withheld test probes scored by the benchmark's server from the submission file). The sources give
  rank-1 only; ``values`` maps the metric name (``rank1``) to the number.

``layout`` is the keypoint layout the number was obtained with: ``coco17`` (CASIA-B HRNet, or
OUMVLP remapped to COCO-17 by ``misc/oumvlp17.py``, and the HRNet poses released with Gait3D and GREW)
or ``openpose18`` (OUMVLP's original 18 points, which is what this project evaluates).

``test_set`` / ``test_protocol``: which test sequences the source's code evaluated, and where that is
set (``gaitgraph.evaluation.selection``): ``all``, or ``> N frames`` where shorter sequences were dropped
from the test set as well -- GaitGraph v1's own code and FastPoseGait's ``frame_threshold`` do that
(``peers.md`` §2, "How to read these numbers"), so such a number is not measured on the same probes and
gallery as an all-sequences one.
"""

from __future__ import annotations

from dataclasses import dataclass

CASIA_VIEWS = tuple(range(0, 181, 18))
CASIA_CONDITIONS = ("NM#5-6", "BG#1-2", "CL#1-2")

FPG_ZOO = "BNU-IVC/FastPoseGait docs/model_zoo.md @94da9c8"
OG_ZOO = "ShiqiYu/OpenGait docs/1.1.skeleton_model_zoo.md @0efafd4"
GG1_README = "tteepe/GaitGraph README.md @e7a3995"
GAITMIXER_README = "exitudio/GaitMixer README.md @695fd35"
GAITPT_RESULTS = "AndyCatruna/GaitPT images/casia-results.png, README.md @202e3bb"
GAITPT_WILD = "AndyCatruna/GaitPT images/{}-results.png @202e3bb (via peers.md §2)"


@dataclass(frozen=True)
class Published:
    """One published result row."""

    method: str  # as the source names it
    dataset: str  # casia-b | oumvlp-pose | gait3d | grew
    keypoints: str  # pose estimator: hrnet, alphapose, openpose, vitpose, simcc
    layout: str  # coco17 | openpose18
    convention: str  # exclude_identical | opengait | gaitgraph2 | official (see the module docstring)
    kind: str  # paper | reproduction | peer
    values: dict  # condition -> rank-1 %; CASIA-B: NM#5-6, BG#1-2, CL#1-2; OUMVLP-Pose: NM; Gait3D/GREW: metric -> %
    mean: float | None
    source: str
    std: dict | None = None  # condition -> std, where the source reports one
    per_view: dict | None = None  # condition -> {view: rank-1 %}
    note: str = ""
    verified: bool = True  # False: recalled, not checked against the source
    test_set: str = "all"  # which test sequences: "all", "> 60 frames" (shorter ones dropped), "not stated"
    test_protocol: str = ""  # where the source's code sets that (every entry has one)


def _mean(*xs: float) -> float:
    return round(sum(xs) / len(xs), 2)


def _casia(nm: float, bg: float, cl: float) -> dict:
    return {"NM#5-6": nm, "BG#1-2": bg, "CL#1-2": cl}


def _wild(method: str, dataset: str, rank1: float, kind: str, source: str, *, cfg: str | None = None,
          threshold: int = 0, **kw) -> Published:
    """A Gait3D / GREW entry: rank-1 under the official protocol, HRNet COCO-17 poses as released. ``cfg``: the
    FastPoseGait config the number comes from, ``threshold`` its frame_threshold (0: every test sequence)."""
    if source == FPG_ZOO:
        kw.setdefault("test_set", f"> {threshold} frames" if threshold else "all")
        kw.setdefault("test_protocol", FPG_THRESHOLD.format(cfg=cfg, n=threshold) if threshold else FPG_ALL.format(cfg=cfg))
    elif source == OG_ZOO:
        kw.setdefault("test_set", "all")
        kw.setdefault("test_protocol", OG_ALL)
    else:
        kw.setdefault("test_set", "not stated")
        kw.setdefault("test_protocol", "GaitPT: no code in the reference set; the README does not say")
    return Published(method, dataset, kw.pop("keypoints", "hrnet"), "coco17", "official", kind, {"rank1": rank1}, rank1,
                     source, **kw)


_FRAME_FILTER = "FastPoseGait's frame_threshold drops short sequences from the test set too"
_GREW_SERVER = "scored by the GREW benchmark server from a submission file"

# Test-sequence protocols of the sources (read in their code; peers.md §2)
G2_CODE = "GaitGraph2 code: every test sequence, short ones reflection-padded (PadSequence)"
G1_CODE = ("GaitGraph v1 code: sequences of <= 60 frames dropped from the test set too (src/datasets/gait.py, "
           "used by src/evaluate.py)")
FPG_ALL = "FastPoseGait {cfg}: no frame_threshold (configs/default.yaml: 0), every test sequence"
FPG_THRESHOLD = ("FastPoseGait {cfg}: frame_threshold {n} drops sequences of <= {n} frames from train AND test "
                 "(fastposegait/data/dataset.py)")
OG_ALL = "OpenGait: its code never reads frame_threshold, every test sequence"
GAITMIXER_CODE = ("GaitMixer src/datasets/gait.py (GaitGraph v1's dataset class, sequence_length 60): sequences "
                  "of <= 60 frames dropped from the test set too")

_GG1_PER_VIEW = {
    "NM#5-6": (85.3, 88.5, 91.0, 92.5, 87.2, 86.5, 88.4, 89.2, 87.9, 85.9, 81.9),
    "BG#1-2": (75.8, 76.7, 75.9, 76.1, 71.4, 73.9, 78.0, 74.7, 75.4, 75.4, 69.2),
    "CL#1-2": (69.6, 66.1, 68.8, 67.2, 64.5, 62.0, 69.5, 65.6, 65.7, 66.1, 64.3),
}

PUBLISHED: tuple[Published, ...] = (
    # ------------------------------------------------------------ CASIA-B, GaitGraph2 and GaitGraph
    Published(
        "GaitGraph2", "casia-b", "hrnet", "coco17", "exclude_identical", "paper",
        _casia(82.0, 73.2, 63.6), _mean(82.0, 73.2, 63.6),
        f"{FPG_ZOO} (bracketed values, 'mentioned in the papers'); same values quoted in {GAITMIXER_README} and "
        f"{GAITPT_RESULTS}",
        note="no per-view table was found for GaitGraph2",
        test_set='all', test_protocol=G2_CODE,
    ),
    Published(
        "GaitGraph (released model)", "casia-b", "hrnet", "coco17", "exclude_identical", "paper",
        _casia(87.7, 74.8, 66.3), _mean(87.7, 74.8, 66.3), GG1_README,
        per_view={c: dict(zip(map(str, CASIA_VIEWS), v)) for c, v in _GG1_PER_VIEW.items()},
        note="Papers-with-code lists a cross-view average of 76.3",
        test_set='> 60 frames', test_protocol=G1_CODE,
    ),
    Published(
        "GaitGraph2 (FastPoseGait, vanilla)", "casia-b", "hrnet", "coco17", "exclude_identical", "reproduction",
        _casia(80.29, 71.40, 63.80), 71.83, FPG_ZOO,
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2.yaml"),
    ),
    Published(
        "GaitGraph2 (FastPoseGait, improved)", "casia-b", "hrnet", "coco17", "exclude_identical", "reproduction",
        _casia(83.60, 72.80, 67.01), 74.47, FPG_ZOO, note="FastPoseGait's improved training recipe",
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2_plus.yaml"),
    ),
    Published(
        "GaitGraph (FastPoseGait, vanilla)", "casia-b", "hrnet", "coco17", "exclude_identical", "reproduction",
        _casia(86.37, 76.50, 65.24), 76.04, FPG_ZOO,
        test_set='> 60 frames', test_protocol=FPG_THRESHOLD.format(cfg="configs/gaitgraph1/gaitgraph1_phase1.yaml", n=60),
    ),
    Published(
        "GaitGraph (FastPoseGait, improved)", "casia-b", "hrnet", "coco17", "exclude_identical", "reproduction",
        _casia(88.47, 77.52, 67.95), 77.98, FPG_ZOO,
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph1/gaitgraph1_phase1_plus.yaml"),
    ),
    # ------------------------------------------------------------ CASIA-B, other skeleton methods
    Published(
        "GaitMixer", "casia-b", "hrnet", "coco17", "exclude_identical", "peer",
        _casia(94.9, 85.6, 84.5), 88.3, GAITMIXER_README, note="checkpoint selected on the test set",
        test_set='> 60 frames', test_protocol=GAITMIXER_CODE,
    ),
    Published(
        "GaitFormer (GaitMixer's)", "casia-b", "hrnet", "coco17", "exclude_identical", "peer",
        _casia(91.5, 81.4, 77.2), 83.4, GAITMIXER_README,
        test_set='> 60 frames', test_protocol=GAITMIXER_CODE,
    ),
    Published(
        "GaitPT", "casia-b", "vitpose", "coco17", "exclude_identical", "peer",
        _casia(92.3, 79.7, 75.8), 82.6, GAITPT_RESULTS, std=_casia(0.7, 2.5, 2.0),
        note="mean ± std over 3 runs; 82.6 is the abstract's mean; ViTPose keypoints",
        test_set='not stated', test_protocol="GaitPT: no code in the reference set; the README does not say",
    ),
    Published(
        "GaitTR (FastPoseGait)", "casia-b", "simcc", "coco17", "exclude_identical", "peer",
        _casia(94.91, 88.82, 90.34), 91.35, FPG_ZOO, note="SimCC keypoints, not HRNet",
        test_set='all', test_protocol="FastPoseGait configs/gaittr/gaittr.yaml: frame_threshold 0, every test sequence",
    ),
    Published(
        "GPGait (FastPoseGait)", "casia-b", "hrnet", "coco17", "exclude_identical", "peer",
        _casia(93.60, 80.15, 69.29), 81.01, FPG_ZOO,
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gpgait/gpgait.yaml"),
    ),
    # ------------------------------------------------------------ OUMVLP-Pose, GaitGraph2
    Published(
        "GaitGraph2", "oumvlp-pose", "alphapose", "openpose18", "gaitgraph2", "paper",
        {"NM": 62.1}, 62.1, "GaitGraph2 paper (Teepe et al. 2022), value recalled in gaitgraph2.md §8",
        note="NOT VERIFIED against the paper; its convention is assumed to be the code's (gallery 00, probe 01, "
        "identical views included)",
        verified=False,
        test_set='all', test_protocol=G2_CODE,
    ),
    Published(
        "GaitGraph2 (OpenGait zoo)", "oumvlp-pose", "alphapose", "openpose18", "opengait", "reproduction",
        {"NM": 62.10}, 62.10, OG_ZOO,
        test_set='all', test_protocol=OG_ALL,
    ),
    Published(
        "GaitGraph2 (FastPoseGait, vanilla)", "oumvlp-pose", "alphapose", "openpose18", "opengait", "reproduction",
        {"NM": 62.11}, 62.11, FPG_ZOO,
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2_OUMVLP.yaml"),
    ),
    Published(
        "GaitGraph2 (FastPoseGait, improved)", "oumvlp-pose", "alphapose", "openpose18", "opengait", "reproduction",
        {"NM": 64.53}, 64.53, FPG_ZOO,
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2_OUMVLP_plus.yaml"),
    ),
    Published(
        "GaitGraph2 (FastPoseGait, vanilla)", "oumvlp-pose", "openpose", "openpose18", "opengait", "reproduction",
        {"NM": 49.02}, 49.02, FPG_ZOO,
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2_OUMVLP.yaml"),
    ),
    Published(
        "GaitGraph2 (OpenGait zoo, COCO-17 remap)", "oumvlp-pose", "alphapose", "coco17", "opengait", "reproduction",
        {"NM": 70.75}, 70.75, OG_ZOO, note="18 -> 17 keypoints (misc/oumvlp17.py), not our 18-point layout",
        test_set='all', test_protocol=OG_ALL,
    ),
    Published(
        "GaitGraph2 (FastPoseGait, COCO-17 remap)", "oumvlp-pose", "alphapose", "coco17", "opengait", "reproduction",
        {"NM": 70.68}, 70.68, FPG_ZOO, note="18 -> 17 keypoints, not our 18-point layout",
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2_OUMVLP17.yaml"),
    ),
    Published(
        "GaitGraph2 (FastPoseGait, COCO-17 remap)", "oumvlp-pose", "openpose", "coco17", "opengait", "reproduction",
        {"NM": 55.02}, 55.02, FPG_ZOO, note="18 -> 17 keypoints, not our 18-point layout",
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2_OUMVLP17.yaml"),
    ),
    # ------------------------------------------------------------ OUMVLP-Pose, GaitGraph and peers
    Published(
        "GaitGraph (FastPoseGait, vanilla)", "oumvlp-pose", "alphapose", "openpose18", "opengait", "reproduction",
        {"NM": 2.81}, 2.81, FPG_ZOO, note="OpenGait's zoo lists the same 2.81",
        test_set='> 17 frames', test_protocol=FPG_THRESHOLD.format(cfg="configs/gaitgraph1/gaitgraph1_phase1_OUMVLP.yaml", n=17),
    ),
    Published(
        "GaitGraph (FastPoseGait, improved)", "oumvlp-pose", "alphapose", "openpose18", "opengait", "reproduction",
        {"NM": 51.24}, 51.24, FPG_ZOO,
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gaitgraph1/gaitgraph1_phase1_OUMVLP_plus.yaml"),
    ),
    Published(
        "GaitTR (FastPoseGait)", "oumvlp-pose", "alphapose", "openpose18", "opengait", "peer",
        {"NM": 40.30}, 40.30, FPG_ZOO,
        note="the zoo lists '40.30 / 39.77'; read as AlphaPose / OpenPose like the GaitGraph2 row (not verified)",
        test_set='all', test_protocol="FastPoseGait configs/gaittr/gaittr_OUMVLP.yaml: frame_threshold 0, every test sequence",
    ),
    Published(
        "GPGait (FastPoseGait)", "oumvlp-pose", "alphapose", "coco17", "opengait", "peer",
        {"NM": 59.11}, 59.11, FPG_ZOO, note="COCO-17 remap",
        test_set='all', test_protocol=FPG_ALL.format(cfg="configs/gpgait/gpgait_OUMVLP.yaml"),
    ),
    # ------------------------------------------------------------ Gait3D (official protocol, rank-1 only)
    _wild("GaitGraph2 (FastPoseGait, vanilla)", "gait3d", 11.20, "reproduction", FPG_ZOO, cfg="configs/gaitgraph2/gaitgraph2_Gait3D.yaml"),
    _wild("GaitGraph2 (FastPoseGait, improved)", "gait3d", 12.50, "reproduction", FPG_ZOO, cfg="configs/gaitgraph2/gaitgraph2_Gait3D_plus.yaml"),
    _wild("GaitGraph2 (OpenGait zoo)", "gait3d", 11.00, "reproduction", OG_ZOO),
    _wild("GaitGraph (FastPoseGait, vanilla)", "gait3d", 8.60, "reproduction", FPG_ZOO, cfg="configs/gaitgraph1/gaitgraph1_phase1_Gait3D.yaml", threshold=24, note=_FRAME_FILTER),
    _wild("GaitGraph (FastPoseGait, improved)", "gait3d", 14.60, "reproduction", FPG_ZOO, cfg="configs/gaitgraph1/gaitgraph1_phase1_Gait3D_plus.yaml"),
    _wild("GaitGraph (OpenGait zoo)", "gait3d", 9.00, "reproduction", OG_ZOO),
    _wild("GaitGraph (as GaitPT cites it)", "gait3d", 6.25, "reproduction", GAITPT_WILD.format("gait3d")),
    _wild("GaitTR (FastPoseGait)", "gait3d", 7.20, "peer", FPG_ZOO, cfg="configs/gaittr/gaittr_Gait3D.yaml", note="OpenGait's zoo lists the same 7.20"),
    _wild("GaitTR (FastPoseGait, improved)", "gait3d", 9.70, "peer", FPG_ZOO, cfg="configs/gaittr/gaittr_Gait3D_plus.yaml"),
    _wild("GPGait (FastPoseGait)", "gait3d", 22.40, "peer", FPG_ZOO, cfg="configs/gpgait/gpgait_Gait3D.yaml"),
    _wild("SkeletonGait (OpenGait zoo)", "gait3d", 38.1, "peer", OG_ZOO,
          note="skeleton heat maps rendered from the HRNet poses, not a graph network"),
    _wild("GaitPT", "gait3d", 13.19, "peer", GAITPT_WILD.format("gait3d"), std={"rank1": 0.7},
          note="mean ± std over 3 runs; 2-D skeletons obtained from the dataset's authors, assumed the released HRNet "
          "poses (not verified)"),
    # ------------------------------------------------------------ GREW (official test, rank-1 only)
    _wild("GaitGraph2 (FastPoseGait, vanilla)", "grew", 34.78, "reproduction", FPG_ZOO, cfg="configs/gaitgraph2/gaitgraph2_GREW.yaml", note=_GREW_SERVER),
    _wild("GaitGraph2 (FastPoseGait, improved)", "grew", 44.41, "reproduction", FPG_ZOO, cfg="configs/gaitgraph2/gaitgraph2_GREW_plus.yaml", note=_GREW_SERVER),
    _wild("GaitGraph2 (OpenGait zoo)", "grew", 34.61, "reproduction", OG_ZOO, note=_GREW_SERVER),
    _wild("GaitGraph (FastPoseGait, vanilla)", "grew", 10.18, "reproduction", FPG_ZOO, cfg="configs/gaitgraph1/gaitgraph1_phase1_GREW.yaml", threshold=16,
          note=f"{_GREW_SERVER}; {_FRAME_FILTER}"),
    _wild("GaitGraph (FastPoseGait, improved)", "grew", 36.08, "reproduction", FPG_ZOO, cfg="configs/gaitgraph1/gaitgraph1_phase1_GREW_plus.yaml", note=_GREW_SERVER),
    _wild("GaitGraph (OpenGait zoo)", "grew", 9.82, "reproduction", OG_ZOO, note=_GREW_SERVER),
    _wild("GaitGraph (as GaitPT cites it)", "grew", 1.31, "reproduction", GAITPT_WILD.format("grew"),
          note="GaitPT takes it from the GREW paper"),
    _wild("GaitTR (FastPoseGait)", "grew", 48.58, "peer", FPG_ZOO, cfg="configs/gaittr/gaittr_GREW.yaml", note=f"{_GREW_SERVER}; OpenGait's zoo lists 48.60"),
    _wild("GaitTR (FastPoseGait, improved)", "grew", 55.33, "peer", FPG_ZOO, cfg="configs/gaittr/gaittr_GREW_plus.yaml", note=_GREW_SERVER),
    _wild("GPGait (FastPoseGait)", "grew", 57.04, "peer", FPG_ZOO, cfg="configs/gpgait/gpgait_GREW.yaml", note=_GREW_SERVER),
    _wild("SkeletonGait (OpenGait zoo)", "grew", 77.4, "peer", OG_ZOO,
          note="the zoo row links to the skeletongait++_GREW.yaml config and configs/skeletongait/README.md lists "
          "SkeletonGait's GREW result as TODO: the number may be SkeletonGait++'s (silhouettes + skeletons)"),
    _wild("GaitPT", "grew", 52.16, "peer", GAITPT_WILD.format("grew"), std={"rank1": 0.5},
          note="mean ± std over 3 runs; 2-D skeletons obtained from the dataset's authors, assumed the released HRNet "
          "poses (not verified)"),
)


def published(dataset: str | None = None, keypoints: str | None = None, convention: str | None = None) -> list[Published]:
    """The entries matching every given field (``None`` matches anything)."""
    return [p for p in PUBLISHED
            if (dataset is None or p.dataset == dataset)
            and (keypoints is None or p.keypoints == keypoints)
            and (convention is None or p.convention == convention)]


def as_dict(p: Published) -> dict:
    """JSON-ready form of one entry."""
    return {k: getattr(p, k) for k in ("method", "dataset", "keypoints", "layout", "convention", "kind", "values",
                                       "mean", "std", "per_view", "source", "note", "verified", "test_set",
                                       "test_protocol")}
