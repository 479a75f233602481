"""Where published numbers come from: the files they are copied from and the test protocols of the code
that produced them (read in that code; ``peers.md`` §2, "How to read these numbers"). Shared by the
dataset modules' ``published`` entries; nothing here is computed."""

from __future__ import annotations

FPG_ZOO = "BNU-IVC/FastPoseGait docs/model_zoo.md @94da9c8"
OG_ZOO = "ShiqiYu/OpenGait docs/1.1.skeleton_model_zoo.md @0efafd4"
GG1_README = "tteepe/GaitGraph README.md @e7a3995"
GAITMIXER_README = "exitudio/GaitMixer README.md @695fd35"
GAITPT_RESULTS = "AndyCatruna/GaitPT images/casia-results.png, README.md @202e3bb"
GAITPT_WILD = "AndyCatruna/GaitPT images/{}-results.png @202e3bb (via peers.md §2)"

# Test-sequence protocols of the sources
G2_CODE = "GaitGraph2 code: every test sequence, short ones reflection-padded (PadSequence)"
G1_CODE = ("GaitGraph v1 code: sequences of <= 60 frames dropped from the test set too (src/datasets/gait.py, "
           "used by src/evaluate.py)")
FPG_ALL = "FastPoseGait {cfg}: no frame_threshold (configs/default.yaml: 0), every test sequence"
FPG_THRESHOLD = ("FastPoseGait {cfg}: frame_threshold {n} drops sequences of <= {n} frames from train AND test "
                 "(fastposegait/data/dataset.py)")
OG_ALL = "OpenGait: its code never reads frame_threshold, every test sequence"
GAITMIXER_CODE = ("GaitMixer src/datasets/gait.py (GaitGraph v1's dataset class, sequence_length 60): sequences "
                  "of <= 60 frames dropped from the test set too")
GAITPT_UNSTATED = "GaitPT: no code in the reference set; the README does not say"


def mean_of(*xs: float) -> float:
    """The mean the sources print, to two decimals."""
    return round(sum(xs) / len(xs), 2)
