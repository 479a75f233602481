"""GREW (Zhu et al., ICCV 2021): 26,345 subjects filmed in the wild, HRNet COCO-17 poses per frame.

* Files: ``ROOT/train/<subject>/<video>/NNNNN_2d_pose.txt``, ``ROOT/test/gallery/<subject>/<video>/…`` and
  ``ROOT/test/probe/<video>/…``; licence-gated. Read by :mod:`gaitgraph.data.grew` (which also keeps a
  few training subjects out of training, split ``heldout``); synthetic twin
  :func:`gaitgraph.data.synthetic_wild.synthesize_grew`.
* Protocols: ``official`` = the withheld test probes, scored by the benchmark's server from the
  submission file (:mod:`gaitgraph.evaluation.grew`), so counted here, not scored; ``local_heldout`` =
  ours, on the held-out training subjects, labelled as NOT the official number.
"""

from __future__ import annotations

from gaitgraph.datasets import sources as src
from gaitgraph.datasets.spec import DatasetSpec, Retrieval, Subset, Tool
from gaitgraph.datasets.tools import (add_check_options, add_convert_options, add_synthesize_options, fraction,
                                      generator_options, report_converted)
from gaitgraph.datasets.wild import FRAME_FILTER, HRNET, published_rank1

NAME = "grew"
URL = "https://www.grew-benchmark.org"
DOWNLOAD = "https://www.grew-benchmark.org/download.html"
SERVER = "scored by the GREW benchmark server from a submission file"

CONVENTIONS = (
    Retrieval(
        "official", "official (submission)", probe=Subset("test/probe (subjects withheld)", role="probe"),
        gallery=Subset("test/gallery", role="gallery"), split="test", scored=False,
        table_text="The official test: the probes' identities are withheld, so this pipeline writes the submission file "
        "(rank-1..20 gallery subjects per probe) that the benchmark's server scores; our rows stay empty here. Published "
        "numbers are the server's rank-1.",
        description="GREW official test: probe identities are withheld by the dataset's owners, so it is not scored "
        "here; write the submission file (gaitgraph.evaluation.grew.write_submission) and upload it",
    ),
    Retrieval(
        "local_heldout", "local (held-out train subjects)", official=False, split="heldout", ranks=(1, 5, 10, 20),
        probe=Subset("held-out training subjects, their other sequences", role="probe"),
        gallery=Subset("held-out training subjects, first half of their sequences", role="gallery"),
        table_text="**NOT the official GREW number**: ours on training subjects held out of training (their first half "
        "of sequences as gallery, the rest as probes); no published number uses it.",
        description="NOT the official GREW number: local protocol on training subjects held out of training "
        "(OpenGait's evaluate_real_scene idea); each probe against all held-out gallery sequences; rank-1/5/10/20, "
        "mAP and mINP in %",
    ),
)


def _rank1(method, rank1, kind, source, note=SERVER, **kw):
    return published_rank1(method, NAME, rank1, kind, source, note=note, **kw)


PUBLISHED = (
    _rank1("GaitGraph2 (FastPoseGait, vanilla)", 34.78, "reproduction", src.FPG_ZOO,
           cfg="configs/gaitgraph2/gaitgraph2_GREW.yaml"),
    _rank1("GaitGraph2 (FastPoseGait, improved)", 44.41, "reproduction", src.FPG_ZOO,
           cfg="configs/gaitgraph2/gaitgraph2_GREW_plus.yaml"),
    _rank1("GaitGraph2 (OpenGait zoo)", 34.61, "reproduction", src.OG_ZOO),
    _rank1("GaitGraph (FastPoseGait, vanilla)", 10.18, "reproduction", src.FPG_ZOO,
           cfg="configs/gaitgraph1/gaitgraph1_phase1_GREW.yaml", threshold=16, note=f"{SERVER}; {FRAME_FILTER}"),
    _rank1("GaitGraph (FastPoseGait, improved)", 36.08, "reproduction", src.FPG_ZOO,
           cfg="configs/gaitgraph1/gaitgraph1_phase1_GREW_plus.yaml"),
    _rank1("GaitGraph (OpenGait zoo)", 9.82, "reproduction", src.OG_ZOO),
    _rank1("GaitGraph (as GaitPT cites it)", 1.31, "reproduction", src.GAITPT_WILD.format("grew"),
           note="GaitPT takes it from the GREW paper"),
    _rank1("GaitTR (FastPoseGait)", 48.58, "peer", src.FPG_ZOO, cfg="configs/gaittr/gaittr_GREW.yaml",
           note=f"{SERVER}; OpenGait's zoo lists 48.60"),
    _rank1("GaitTR (FastPoseGait, improved)", 55.33, "peer", src.FPG_ZOO, cfg="configs/gaittr/gaittr_GREW_plus.yaml"),
    _rank1("GPGait (FastPoseGait)", 57.04, "peer", src.FPG_ZOO, cfg="configs/gpgait/gpgait_GREW.yaml"),
    _rank1("SkeletonGait (OpenGait zoo)", 77.4, "peer", src.OG_ZOO,
           note="the zoo row links to the skeletongait++_GREW.yaml config and configs/skeletongait/README.md lists "
           "SkeletonGait's GREW result as TODO: the number may be SkeletonGait++'s (silhouettes + skeletons)"),
    _rank1("GaitPT", 52.16, "peer", src.GAITPT_WILD.format("grew"), std={"rank1": 0.5},
           note="mean ± std over 3 runs; 2-D skeletons obtained from the dataset's authors, assumed the released HRNet "
           "poses (not verified)"),
)


# ---------------------------------------------------------------------------- gaitgraph-data tools


def _convert_arguments(p) -> None:
    add_convert_options(p, input_help="folder holding train/ and test/", workers="processes reading the frame files", keypoints=(HRNET.name,))
    p.add_argument("--heldout", type=fraction, default=0.05, metavar="FRACTION",
                   help="training subjects kept out of training for the local protocol (default 0.05, at least 2; 0: none)")
    p.add_argument("--heldout-seed", type=int, default=0, help="seed of the held-out subject draw (default 0)")


def _convert(args):
    from gaitgraph.data.grew import convert_grew

    out = convert_grew(args.input, args.output, heldout=args.heldout, heldout_seed=args.heldout_seed, strict=args.strict,
                       synthetic=args.synthetic, progress=not args.quiet, workers=args.workers)
    return report_converted(out, args.quiet)


def _synthesize(args):
    from gaitgraph.data.synthetic_wild import synthesize_grew

    return synthesize_grew(args.output, progress=not args.quiet, **generator_options(args))


def _check(args) -> dict:
    from gaitgraph.data.grew import check_release

    return check_release(args.root)


SPEC = DatasetSpec(
    name=NAME,
    title="GREW",
    citation="Z. Zhu et al.: Gait recognition in the wild: a benchmark, ICCV 2021",
    access=f"licence-gated: apply on {URL} (download page {DOWNLOAD})",
    keypoint_sources=(HRNET,),
    split="the release's folders: train subjects 00001-20000, test gallery 00001-06000, test probes without "
    "identities; a few training subjects held out (split heldout) for the local protocol",
    conventions=CONVENTIONS,
    conditions=("na",),
    published=PUBLISHED,
    convert=Tool("GREW tree: train/, test/gallery/, test/probe/", _convert_arguments, _convert),
    synthesize=Tool("a GREW tree (train/, test/gallery/, test/probe/ + the probes' subjects)", add_synthesize_options,
                    _synthesize),
    check=Tool("is the licensed GREW copy in place?", lambda p: add_check_options(p, (HRNET.name,)), _check),
    licence_gated=True,
)
