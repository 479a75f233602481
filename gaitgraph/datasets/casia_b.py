"""CASIA-B (Yu et al., ICPR 2006) as GaitGraph uses it: HRNet COCO-17 poses of 124 subjects x 11 views.

* Files: ``casia-b_pose_coco.csv`` of the GaitGraph v0.1 release (``gaitgraph2.md`` §2.1), read by
  :mod:`gaitgraph.data.casia_b`; the synthetic twin is :func:`gaitgraph.data.synthetic.synthesize_casia_b`.
* Split: subjects 1-74 train, 75-124 test (``TEST_FROM``; GaitGraph v1 and v2 alike).
* Protocol (§2.2, §6): gallery NM#1-4; probe sets NM#5-6, BG#1-2, CL#1-2; rank-1 of each probe view
  against the gallery restricted to one view; the paper's table excludes identical views.
"""

from __future__ import annotations

from gaitgraph.datasets import sources as src
from gaitgraph.datasets.spec import DatasetSpec, KeypointSource, Published, Subset, Tool, ViewMatrix
from gaitgraph.datasets.tools import add_convert_options, add_synthesize_options, generator_options, report_converted

NAME = "casia-b"
DATA_URL = "https://github.com/tteepe/GaitGraph/releases/download/v0.1/data.zip"
CSV_NAME = "casia-b_pose_coco.csv"
TEST_FROM = 75  # first test subject: train 1-74, test 75-124
NUM_SUBJECTS = 124
VIEWS = tuple(range(0, 181, 18))
CONDITIONS = ("nm", "bg", "cl")  # normal walking, carrying a bag, wearing a coat
SEQUENCES = {"nm": (1, 2, 3, 4, 5, 6), "bg": (1, 2), "cl": (1, 2)}

KEYPOINT_SOURCES = (KeypointSource("hrnet", "coco17", "HRNet-W32 on YOLOv3 person boxes (GaitGraph v0.1 release)"),)

GALLERY = Subset("NM#1-4", condition="nm", sequences=(1, 2, 3, 4))
PROBES = (Subset("NM#5-6", condition="nm", sequences=(5, 6)), Subset("BG#1-2", condition="bg", sequences=(1, 2)),
          Subset("CL#1-2", condition="cl", sequences=(1, 2)))
# what results/tables.md says about the paper's convention (the protocol of every published number)
PROTOCOL_TEXT = (
    f"test subjects {TEST_FROM}-{NUM_SUBJECTS}; gallery NM#1-4; probe sets NM#5-6, BG#1-2, CL#1-2; rank-1 of each probe "
    "view against the gallery restricted to one view, identical views **excluded** (mean over the 10 other gallery "
    "views), then the mean over the 11 probe views; *mean* = mean of the three conditions. This is the GaitGraph2 "
    "paper's table and the protocol of every published CASIA-B number below."
)
_BASE = ("CASIA-B: gallery NM#1-4, probes NM#5-6 / BG#1-2 / CL#1-2; rank-1 of each probe view against the gallery "
         "restricted to one view")
CONVENTIONS = (
    ViewMatrix(
        "exclude_identical", "identical views excluded", GALLERY, PROBES, exclude_identical=True,
        title="identical views excluded (paper)",
        probe_label="NM#5-6, BG#1-2, CL#1-2", table_text=PROTOCOL_TEXT,
        description=f"{_BASE}; identical views excluded: each probe view is the mean over the {{others}} other gallery "
        "view{others_s} (the GaitGraph2 paper's table); condition mean = mean over probe views; overall = mean over "
        "the 3 conditions",
    ),
    ViewMatrix(
        "include_identical", "identical views included", GALLERY, PROBES, exclude_identical=False,
        probe_label="NM#5-6, BG#1-2, CL#1-2",
        table_text="Ours with identical views **included** (each probe view averaged over all 11 gallery views; no "
        "published number uses this convention):",
        description=f"{_BASE}; identical views included: each probe view is the mean over all {{views}} gallery "
        "view{views_s}; condition mean = mean over probe views; overall = mean over the 3 conditions",
    ),
)



def _casia(nm: float, bg: float, cl: float) -> dict:
    return {"NM#5-6": nm, "BG#1-2": bg, "CL#1-2": cl}


_GG1_PER_VIEW = {
    "NM#5-6": (85.3, 88.5, 91.0, 92.5, 87.2, 86.5, 88.4, 89.2, 87.9, 85.9, 81.9),
    "BG#1-2": (75.8, 76.7, 75.9, 76.1, 71.4, 73.9, 78.0, 74.7, 75.4, 75.4, 69.2),
    "CL#1-2": (69.6, 66.1, 68.8, 67.2, 64.5, 62.0, 69.5, 65.6, 65.7, 66.1, 64.3),
}


def _entry(method, kind, values, mean, source, keypoints="hrnet", **kw) -> Published:
    return Published(method, NAME, keypoints, "coco17", "exclude_identical", kind, values, mean, source, **kw)


PUBLISHED = (
    # GaitGraph2 and GaitGraph
    _entry("GaitGraph2", "paper", _casia(82.0, 73.2, 63.6), src.mean_of(82.0, 73.2, 63.6),
           f"{src.FPG_ZOO} (bracketed values, 'mentioned in the papers'); same values quoted in {src.GAITMIXER_README} "
           f"and {src.GAITPT_RESULTS}",
           note="no per-view table was found for GaitGraph2", test_protocol=src.G2_CODE),
    _entry("GaitGraph (released model)", "paper", _casia(87.7, 74.8, 66.3), src.mean_of(87.7, 74.8, 66.3),
           src.GG1_README, per_view={c: dict(zip(map(str, VIEWS), v)) for c, v in _GG1_PER_VIEW.items()},
           note="Papers-with-code lists a cross-view average of 76.3", test_set="> 60 frames", test_protocol=src.G1_CODE),
    _entry("GaitGraph2 (FastPoseGait, vanilla)", "reproduction", _casia(80.29, 71.40, 63.80), 71.83, src.FPG_ZOO,
           test_protocol=src.FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2.yaml")),
    _entry("GaitGraph2 (FastPoseGait, improved)", "reproduction", _casia(83.60, 72.80, 67.01), 74.47, src.FPG_ZOO,
           note="FastPoseGait's improved training recipe",
           test_protocol=src.FPG_ALL.format(cfg="configs/gaitgraph2/gaitgraph2_plus.yaml")),
    _entry("GaitGraph (FastPoseGait, vanilla)", "reproduction", _casia(86.37, 76.50, 65.24), 76.04, src.FPG_ZOO,
           test_set="> 60 frames",
           test_protocol=src.FPG_THRESHOLD.format(cfg="configs/gaitgraph1/gaitgraph1_phase1.yaml", n=60)),
    _entry("GaitGraph (FastPoseGait, improved)", "reproduction", _casia(88.47, 77.52, 67.95), 77.98, src.FPG_ZOO,
           test_protocol=src.FPG_ALL.format(cfg="configs/gaitgraph1/gaitgraph1_phase1_plus.yaml")),
    # other skeleton methods
    _entry("GaitMixer", "peer", _casia(94.9, 85.6, 84.5), 88.3, src.GAITMIXER_README,
           note="checkpoint selected on the test set", test_set="> 60 frames", test_protocol=src.GAITMIXER_CODE),
    _entry("GaitFormer (GaitMixer's)", "peer", _casia(91.5, 81.4, 77.2), 83.4, src.GAITMIXER_README,
           test_set="> 60 frames", test_protocol=src.GAITMIXER_CODE),
    _entry("GaitPT", "peer", _casia(92.3, 79.7, 75.8), 82.6, src.GAITPT_RESULTS, keypoints="vitpose",
           std=_casia(0.7, 2.5, 2.0), note="mean ± std over 3 runs; 82.6 is the abstract's mean; ViTPose keypoints",
           test_set="not stated", test_protocol=src.GAITPT_UNSTATED),
    _entry("GaitTR (FastPoseGait)", "peer", _casia(94.91, 88.82, 90.34), 91.35, src.FPG_ZOO, keypoints="simcc",
           note="SimCC keypoints, not HRNet",
           test_protocol="FastPoseGait configs/gaittr/gaittr.yaml: frame_threshold 0, every test sequence"),
    _entry("GPGait (FastPoseGait)", "peer", _casia(93.60, 80.15, 69.29), 81.01, src.FPG_ZOO,
           test_protocol=src.FPG_ALL.format(cfg="configs/gpgait/gpgait.yaml")),
)


# ---------------------------------------------------------------------------- gaitgraph-data tools


def _convert_arguments(p) -> None:
    add_convert_options(p, input_help=CSV_NAME, input_metavar="CSV", keypoints=tuple(k.name for k in KEYPOINT_SOURCES))
    p.add_argument("--test-from", type=int, default=TEST_FROM, metavar="ID",
                   help=f"first test subject (default {TEST_FROM}: train 1-{TEST_FROM - 1}, test {TEST_FROM}-{NUM_SUBJECTS})")


def _convert(args):
    from gaitgraph.data.casia_b import convert_casia_b

    out = convert_casia_b(args.input, args.output, test_from=args.test_from, strict=args.strict,
                          synthetic=args.synthetic, progress=not args.quiet)
    return report_converted(out, args.quiet)


def _synthesize(args):
    from gaitgraph.data.synthetic import synthesize_casia_b

    return synthesize_casia_b(args.output, progress=not args.quiet, **generator_options(args))


SPEC = DatasetSpec(
    name=NAME,
    title="CASIA-B",
    citation="S. Yu, D. Tan, T. Tan: A framework for evaluating the effect of view angle, clothing and carrying "
    "condition on gait recognition, ICPR 2006; poses: GaitGraph v0.1 release (HRNet-W32, COCO-17)",
    access=f"downloaded: {DATA_URL} ({CSV_NAME})",
    keypoint_sources=KEYPOINT_SOURCES,
    split=f"subjects 1-{TEST_FROM - 1} train, {TEST_FROM}-{NUM_SUBJECTS} test",
    conventions=CONVENTIONS,
    source_file=CSV_NAME,
    views=VIEWS,
    conditions=CONDITIONS,
    published=PUBLISHED,
    convert=Tool(f"{CSV_NAME} (GaitGraph v0.1 release)", _convert_arguments, _convert),
    synthesize=Tool(f"a {CSV_NAME}", lambda p: add_synthesize_options(p, output_metavar="CSV"), _synthesize),
)
