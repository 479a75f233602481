"""OUMVLP-Pose (An et al., TBIOM 2020): OpenPose and AlphaPose keypoints of OU-MVLP, 18 joints, 14 views.

* Files: ``ROOT/{openpose,alphapose}/SSSSS/VVV_QQ/*.json`` plus ``ID_list.csv`` (the subject split, a
  separate download); licence-gated (apply at ``URL``). Read by :mod:`gaitgraph.data.oumvlp`; the
  synthetic twin is :func:`gaitgraph.data.synthetic.synthesize_oumvlp`.
* Protocols (``gaitgraph2.md`` §6, ``peers.md`` §1): the GaitGraph2 code's (gallery sequence 00,
  probe 01, identical views included, mean over all cells) and OpenGait/FastPoseGait's (gallery 01,
  probe 00, identical views excluded). Both come from one matching (the roles swap).
"""

from __future__ import annotations

from pathlib import Path

from gaitgraph.datasets import sources as src
from gaitgraph.datasets.spec import DatasetSpec, KeypointSource, Published, Subset, Tool, ViewMatrix
from gaitgraph.datasets.tools import (add_check_options, add_convert_options, add_synthesize_options,
                                      generator_options, report_converted)

NAME = "oumvlp-pose"
URL = "http://www.am.sanken.osaka-u.ac.jp/BiometricDB/GaitLPPose.html"
VIEWS = tuple(range(0, 91, 15)) + tuple(range(180, 271, 15))
SEQUENCES = (0, 1)
CONDITION = "NM"  # the one reported condition: normal walking
PERSON_CHOICES = ("track", "first")  # ours (track continuity) and the original's people[0]

KEYPOINT_SOURCES = (
    KeypointSource("openpose", "openpose18", "OpenPose, 18-joint COCO model (the release's openpose/ tree)"),
    KeypointSource("alphapose", "openpose18", "AlphaPose, in the same 18-joint layout (the release's alphapose/ tree)"),
)
_KEYPOINTS = tuple(k.name for k in KEYPOINT_SOURCES)

# What the original GaitGraph2 code logged for the OUMVLP matrix: the names are swapped.
GAITGRAPH2_LOG_NAMES = {
    "test/probe_{view}": "row mean = mean over probe views for one gallery view (our per_gallery_view)",
    "test/gallery_{view}": "column mean = mean over gallery views for one probe view (our per_probe_view)",
    "test/accuracy": "mean over all cells (our mean)",
}
PROTOCOL_TEXT = {
    "gaitgraph2": "**GaitGraph2 conv.** = the original code's: gallery seq 00, probe seq 01, identical views "
    "**included**, mean over all 14 × 14 (gallery, probe) view cells",
    "opengait": "**OpenGait conv.** = OpenGait/FastPoseGait's: gallery seq 01, probe seq 00, identical views "
    "**excluded** (mean over the 13 other gallery views per probe view, then over probe views); probes whose subject "
    "has no gallery sequence at a view count as misses",
}
SEQ00, SEQ01 = Subset("seq 00", sequences=(0,)), Subset("seq 01", sequences=(1,))
CONVENTIONS = (
    ViewMatrix(
        "gaitgraph2", "GaitGraph2 conv.", SEQ00, (Subset(CONDITION, sequences=(1,)),), probe_label="seq 01",
        exclude_identical=False, cell_mean=True, extra={"original_log_names": GAITGRAPH2_LOG_NAMES},
        table_text=PROTOCOL_TEXT["gaitgraph2"], title="GaitGraph2 code: gallery 00, probe 01, identical views included",
        description="OUMVLP-Pose, GaitGraph2 code's convention: gallery seq 00, probe seq 01; {views}x{views} gallery x "
        "probe views, identical views INCLUDED; mean over all cells; probes whose subject has no gallery entry at a view "
        "count as misses. Not comparable with OpenGait/FastPoseGait numbers",
    ),
    ViewMatrix(
        "opengait", "OpenGait conv.", SEQ01, (Subset(CONDITION, sequences=(0,)),), probe_label="seq 00",
        exclude_identical=True, table_text=PROTOCOL_TEXT["opengait"],
        title="OpenGait: gallery 01, probe 00, identical views excluded",
        description="OUMVLP-Pose, OpenGait/FastPoseGait convention: gallery seq 01, probe seq 00; identical views "
        "EXCLUDED: each probe view is the mean over the {others} other gallery view{others_s}; probes whose subject "
        "has no gallery entry at a view count as misses; mean over probe views",
    ),
)


def _entry(method, keypoints, layout, convention, kind, value, source, **kw) -> Published:
    return Published(method, NAME, keypoints, layout, convention, kind, {"NM": value}, value, source, **kw)


def _fpg(cfg: str) -> str:
    return src.FPG_ALL.format(cfg=f"configs/{cfg}")


PUBLISHED = (
    _entry("GaitGraph2", "alphapose", "openpose18", "gaitgraph2", "paper", 62.1,
           "GaitGraph2 paper (Teepe et al. 2022), value recalled in gaitgraph2.md §8",
           note="NOT VERIFIED against the paper; its convention is assumed to be the code's (gallery 00, probe 01, "
           "identical views included)", verified=False, test_protocol=src.G2_CODE),
    _entry("GaitGraph2 (OpenGait zoo)", "alphapose", "openpose18", "opengait", "reproduction", 62.10, src.OG_ZOO,
           test_protocol=src.OG_ALL),
    _entry("GaitGraph2 (FastPoseGait, vanilla)", "alphapose", "openpose18", "opengait", "reproduction", 62.11,
           src.FPG_ZOO, test_protocol=_fpg("gaitgraph2/gaitgraph2_OUMVLP.yaml")),
    _entry("GaitGraph2 (FastPoseGait, improved)", "alphapose", "openpose18", "opengait", "reproduction", 64.53,
           src.FPG_ZOO, test_protocol=_fpg("gaitgraph2/gaitgraph2_OUMVLP_plus.yaml")),
    _entry("GaitGraph2 (FastPoseGait, vanilla)", "openpose", "openpose18", "opengait", "reproduction", 49.02,
           src.FPG_ZOO, test_protocol=_fpg("gaitgraph2/gaitgraph2_OUMVLP.yaml")),
    _entry("GaitGraph2 (OpenGait zoo, COCO-17 remap)", "alphapose", "coco17", "opengait", "reproduction", 70.75,
           src.OG_ZOO, note="18 -> 17 keypoints (misc/oumvlp17.py), not our 18-point layout", test_protocol=src.OG_ALL),
    _entry("GaitGraph2 (FastPoseGait, COCO-17 remap)", "alphapose", "coco17", "opengait", "reproduction", 70.68,
           src.FPG_ZOO, note="18 -> 17 keypoints, not our 18-point layout",
           test_protocol=_fpg("gaitgraph2/gaitgraph2_OUMVLP17.yaml")),
    _entry("GaitGraph2 (FastPoseGait, COCO-17 remap)", "openpose", "coco17", "opengait", "reproduction", 55.02,
           src.FPG_ZOO, note="18 -> 17 keypoints, not our 18-point layout",
           test_protocol=_fpg("gaitgraph2/gaitgraph2_OUMVLP17.yaml")),
    _entry("GaitGraph (FastPoseGait, vanilla)", "alphapose", "openpose18", "opengait", "reproduction", 2.81,
           src.FPG_ZOO, note="OpenGait's zoo lists the same 2.81", test_set="> 17 frames",
           test_protocol=src.FPG_THRESHOLD.format(cfg="configs/gaitgraph1/gaitgraph1_phase1_OUMVLP.yaml", n=17)),
    _entry("GaitGraph (FastPoseGait, improved)", "alphapose", "openpose18", "opengait", "reproduction", 51.24,
           src.FPG_ZOO, test_protocol=_fpg("gaitgraph1/gaitgraph1_phase1_OUMVLP_plus.yaml")),
    _entry("GaitTR (FastPoseGait)", "alphapose", "openpose18", "opengait", "peer", 40.30, src.FPG_ZOO,
           note="the zoo lists '40.30 / 39.77'; read as AlphaPose / OpenPose like the GaitGraph2 row (not verified)",
           test_protocol="FastPoseGait configs/gaittr/gaittr_OUMVLP.yaml: frame_threshold 0, every test sequence"),
    _entry("GPGait (FastPoseGait)", "alphapose", "coco17", "opengait", "peer", 59.11, src.FPG_ZOO,
           note="COCO-17 remap", test_protocol=_fpg("gpgait/gpgait_OUMVLP.yaml")),
)


# ---------------------------------------------------------------------------- gaitgraph-data tools


def _convert_arguments(p) -> None:
    add_convert_options(p, input_help="folder holding openpose/ and/or alphapose/", workers="processes reading JSON files",
                        keypoints=_KEYPOINTS)
    p.add_argument("--id-list", default=None, metavar="CSV", help="ID_list.csv, the subject split (default ROOT/ID_list.csv)")
    p.add_argument("--person", choices=PERSON_CHOICES, default="track",
                   help="frames with several people: track = the person continuing the track (default), "
                   "first = people[0] as the original GaitGraph2 reader")


def _convert(args):
    from gaitgraph.data.oumvlp import convert_oumvlp

    out = convert_oumvlp(args.input, args.keypoints, _id_list(args, args.input), args.output, strict=args.strict,
                         synthetic=args.synthetic, progress=not args.quiet, workers=args.workers, person=args.person)
    return report_converted(out, args.quiet)


def _synthesize(args):
    from gaitgraph.data.synthetic import synthesize_oumvlp

    return synthesize_oumvlp(args.output, progress=not args.quiet, **generator_options(args))


def _check_arguments(p) -> None:
    add_check_options(p, _KEYPOINTS)
    p.add_argument("--id-list", default=None, metavar="CSV", help="ID_list.csv, the subject split (default ROOT/ID_list.csv)")


def _check(args) -> dict:
    from gaitgraph.data.oumvlp import check_release

    return check_release(args.root, _id_list(args, args.root), args.keypoints)


def _id_list(args, root) -> Path:
    return Path(args.id_list) if args.id_list else Path(root) / "ID_list.csv"


SPEC = DatasetSpec(
    name=NAME,
    title="OUMVLP-Pose",
    citation="W. An et al.: Performance evaluation of model-based gait on multi-view very large population database "
    "with pose sequences, IEEE TBIOM 2020",
    access=f"licence-gated: apply at {URL}; ID_list.csv is a separate download from the same page",
    keypoint_sources=KEYPOINT_SOURCES,
    split="ID_list.csv: 5,153 train and 5,154 test subjects",
    conventions=CONVENTIONS,
    views=VIEWS,
    conditions=("nm",),
    published=PUBLISHED,
    convert=Tool("OUMVLP-Pose JSON tree + ID_list.csv", _convert_arguments, _convert),
    synthesize=Tool("an OUMVLP-Pose tree (openpose/, alphapose/, ID_list.csv)", add_synthesize_options, _synthesize),
    check=Tool("is the licensed OUMVLP-Pose copy in place?", _check_arguments, _check),
    licence_gated=True,
)
