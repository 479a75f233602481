"""Skeleton animation of a converted dataset's sequence: ``show()`` and ``gaitgraph-data show``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gaitgraph.cli.data import main as data_main
from gaitgraph.data.errors import DataError
from gaitgraph.data.format import load_dataset
from gaitgraph.viz.animate import centre_poses, show, skeleton_bones


@pytest.fixture(scope="module")
def short_dataset(tmp_path_factory):
    """Two subjects, short sequences (6-9 frames) to keep the GIFs quick."""
    from conftest import make_pose_dataset

    return make_pose_dataset(tmp_path_factory.mktemp("show") / "ds", num_subjects=2, num_train=1,
                             length_range=(6, 9), conditions=(("nm", 2), ("cl", 1)))


def _frames(path) -> int:
    with Image.open(path) as im:
        return im.n_frames


def test_show_gif_has_one_frame_per_pose_frame(tmp_path, short_dataset):
    ds = load_dataset(short_dataset)
    row = ds.sequences.query("subject == 2 and condition == 'cl' and view == 90").iloc[0]
    out = show(short_dataset, tmp_path / "new" / "a.gif", subject=2, condition="CL", sequence=1, view=90)
    assert out == tmp_path / "new" / "a.gif"
    assert _frames(out) == int(row["length"])
    out = show(short_dataset, tmp_path / "b.gif", index=3)
    assert _frames(out) == int(ds.sequences.iloc[3]["length"])


def test_show_selection_errors_list_what_exists(tmp_path, short_dataset):
    with pytest.raises(DataError, match=r"no sequence with subject=7.*subject \{1, 2\}"):
        show(short_dataset, tmp_path / "x.gif", subject=7)
    with pytest.raises(DataError, match="sequences match subject=1, condition=nm"):
        show(short_dataset, tmp_path / "x.gif", subject=1, condition="nm")
    with pytest.raises(DataError, match="out of range"):
        show(short_dataset, tmp_path / "x.gif", index=999)
    assert not (tmp_path / "x.gif").exists()


def test_cli_show(tmp_path, short_dataset, capsys):
    out = tmp_path / "cli.gif"
    rc = data_main(["show", str(short_dataset), "--subject", "1", "--condition", "nm", "--sequence", "2",
                    "--view", "0", "--output", str(out)])
    assert rc == 0 and out.is_file() and str(out) in capsys.readouterr().out
    rc = data_main(["show", str(short_dataset), "--subject", "5", "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "gaitgraph-data show: error" in err and "subject {1, 2}" in err


def test_bones_and_centring():
    bones = skeleton_bones("coco17")
    assert (11, 12) in bones and (5, 0) in bones and len(bones) == 17  # 16 parent bones + hip-hip
    assert {(8, 11), (11, 8)} & set(skeleton_bones("openpose18"))  # right_hip - left_hip
    poses = np.zeros((2, 17, 3), np.float32)
    poses[..., 0] = np.arange(17) + 100
    poses[..., 2] = 1.0
    poses[1, 16] = (1e4, 1e4, 0.0)  # undetected joint: neither centre nor limits move
    xy, valid, half = centre_poses(poses)
    assert not valid[1, 16] and valid.sum() == 33
    np.testing.assert_allclose(xy[0, :, 0].mean(), 0, atol=1e-9)
    assert half == pytest.approx(8 * 1.12)
