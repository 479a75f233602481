"""Gait3D (Zheng et al., CVPR 2022): 4,000 subjects, 39 cameras in a supermarket, HRNet COCO-17 poses.

* Files: ``ROOT/2D_Poses/<subject>/camid<C>_videoid<V>/seq<N>/human_crop_f<frame>.txt`` plus the split
  ``Gait3D.json`` (``TRAIN_SET``, ``TEST_SET``, ``PROBE_SET``); licence-gated. Read by
  :mod:`gaitgraph.data.gait3d`; synthetic twin :func:`gaitgraph.data.synthetic_wild.synthesize_gait3d`.
* Protocol (OpenGait ``evaluate_Gait3D``): the PROBE_SET sequences against every other test sequence;
  rank-1/5/10, mAP and mINP.
"""

from __future__ import annotations

from gaitgraph.datasets import sources as src
from gaitgraph.datasets.spec import DatasetSpec, Retrieval, Subset, Tool
from gaitgraph.datasets.tools import (add_check_options, add_convert_options, add_synthesize_options,
                                      generator_options, report_converted)
from gaitgraph.datasets.wild import FRAME_FILTER, HRNET, published_rank1

NAME = "gait3d"
URL = "https://gait3d.github.io"
AGREEMENT = "https://gait3d.github.io/resources/AgreementForGait3D.pdf"
SPLIT_NAME = "Gait3D.json"

CONVENTIONS = (
    Retrieval(
        "official", "official", probe=Subset(f"PROBE_SET of {SPLIT_NAME}", role="probe"),
        gallery=Subset("test split minus the probes", role="gallery"), split=None, ranks=(1, 5, 10),
        table_text="The official protocol (OpenGait `evaluate_Gait3D`): the 1,000 PROBE_SET sequences of `Gait3D.json` "
        "against every other test sequence; rank-k = a sequence of the probe's subject among its k nearest; mAP and mINP "
        "over the probes whose subject is in the gallery; cosine distance. Published numbers give rank-1 only.",
        description="Gait3D official protocol (OpenGait evaluate_Gait3D): the PROBE_SET sequences against every other "
        "test sequence; rank-1/5/10, mAP and mINP in %; probes whose subject has no gallery sequence are left out",
    ),
)


def _fpg(cfg: str) -> str:
    return f"configs/{cfg}"


def _rank1(method, rank1, kind, source, **kw):
    return published_rank1(method, NAME, rank1, kind, source, **kw)


PUBLISHED = (
    _rank1("GaitGraph2 (FastPoseGait, vanilla)", 11.20, "reproduction", src.FPG_ZOO, cfg=_fpg("gaitgraph2/gaitgraph2_Gait3D.yaml")),
    _rank1("GaitGraph2 (FastPoseGait, improved)", 12.50, "reproduction", src.FPG_ZOO,
           cfg=_fpg("gaitgraph2/gaitgraph2_Gait3D_plus.yaml")),
    _rank1("GaitGraph2 (OpenGait zoo)", 11.00, "reproduction", src.OG_ZOO),
    _rank1("GaitGraph (FastPoseGait, vanilla)", 8.60, "reproduction", src.FPG_ZOO,
           cfg=_fpg("gaitgraph1/gaitgraph1_phase1_Gait3D.yaml"), threshold=24, note=FRAME_FILTER),
    _rank1("GaitGraph (FastPoseGait, improved)", 14.60, "reproduction", src.FPG_ZOO,
           cfg=_fpg("gaitgraph1/gaitgraph1_phase1_Gait3D_plus.yaml")),
    _rank1("GaitGraph (OpenGait zoo)", 9.00, "reproduction", src.OG_ZOO),
    _rank1("GaitGraph (as GaitPT cites it)", 6.25, "reproduction", src.GAITPT_WILD.format("gait3d")),
    _rank1("GaitTR (FastPoseGait)", 7.20, "peer", src.FPG_ZOO, cfg=_fpg("gaittr/gaittr_Gait3D.yaml"),
           note="OpenGait's zoo lists the same 7.20"),
    _rank1("GaitTR (FastPoseGait, improved)", 9.70, "peer", src.FPG_ZOO, cfg=_fpg("gaittr/gaittr_Gait3D_plus.yaml")),
    _rank1("GPGait (FastPoseGait)", 22.40, "peer", src.FPG_ZOO, cfg=_fpg("gpgait/gpgait_Gait3D.yaml")),
    _rank1("SkeletonGait (OpenGait zoo)", 38.1, "peer", src.OG_ZOO,
           note="skeleton heat maps rendered from the HRNet poses, not a graph network"),
    _rank1("GaitPT", 13.19, "peer", src.GAITPT_WILD.format("gait3d"), std={"rank1": 0.7},
           note="mean ± std over 3 runs; 2-D skeletons obtained from the dataset's authors, assumed the released HRNet "
           "poses (not verified)"),
)


# ---------------------------------------------------------------------------- gaitgraph-data tools


def _convert_arguments(p) -> None:
    add_convert_options(p, input_help="folder holding 2D_Poses/", workers="processes reading the frame files", keypoints=(HRNET.name,))
    p.add_argument("--split", default=None, metavar="JSON",
                   help=f"the split file of OpenGait/FastPoseGait (default ROOT/{SPLIT_NAME})")


def _convert(args):
    from gaitgraph.data.gait3d import convert_gait3d

    out = convert_gait3d(args.input, args.output, split=args.split, strict=args.strict, synthetic=args.synthetic,
                         progress=not args.quiet, workers=args.workers)
    return report_converted(out, args.quiet)


def _synthesize(args):
    from gaitgraph.data.synthetic_wild import synthesize_gait3d

    return synthesize_gait3d(args.output, progress=not args.quiet, **generator_options(args))


def _check_arguments(p) -> None:
    add_check_options(p, (HRNET.name,))
    p.add_argument("--split", default=None, metavar="JSON", help=f"{SPLIT_NAME} (default ROOT/{SPLIT_NAME})")


def _check(args) -> dict:
    from gaitgraph.data.gait3d import check_release

    return check_release(args.root, args.split)


SPEC = DatasetSpec(
    name=NAME,
    title="Gait3D",
    citation="J. Zheng et al.: Gait recognition in the wild with dense 3D representations and a benchmark, CVPR 2022",
    access=f"licence-gated: sign the agreement ({AGREEMENT}) as {URL} says; the split file {SPLIT_NAME} is "
    "OpenGait's / FastPoseGait's datasets/Gait3D/Gait3D.json",
    keypoint_sources=(HRNET,),
    split="Gait3D.json: 3,000 train and 1,000 test subjects; 1,000 test sequences are the probes",
    conventions=CONVENTIONS,
    conditions=("na",),
    published=PUBLISHED,
    convert=Tool(f"Gait3D 2D_Poses tree + {SPLIT_NAME} (train/test/probe split)", _convert_arguments, _convert),
    synthesize=Tool(f"a Gait3D tree (2D_Poses/, {SPLIT_NAME})", add_synthesize_options, _synthesize),
    check=Tool("is the licensed Gait3D copy in place?", _check_arguments, _check),
    licence_gated=True,
)
