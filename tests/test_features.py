"""build_input: the original MultiInput layout (quirks included), the corrected one, single branch."""

import math

import pytest
import torch

from gaitgraph.skeleton import COCO17
from gaitgraph.transforms.features import build_input


@pytest.fixture
def poses():
    return torch.rand(2, 6, 17, 3, generator=torch.Generator().manual_seed(0)) * torch.tensor([200.0, 300.0, 1.0])


def test_reference_layout(poses):
    feats = build_input(poses, "coco17")
    assert feats.shape == (2, 3, 5, 6, 17)
    x, y, c = poses[0].unbind(-1)  # (T, V)
    joint, velocity, bone = feats[0]
    torch.testing.assert_close(joint, torch.stack([x, y, c, x - x[:, :1], y - y[:, :1]]))
    # velocity: Δ1x, Δ1y, 0, conf, Δ2y for t < T-2; last two frames 0, 0, 0, conf, 0
    torch.testing.assert_close(velocity[0, :4], x[1:5] - x[:4])
    torch.testing.assert_close(velocity[1, :4], y[1:5] - y[:4])
    torch.testing.assert_close(velocity[4, :4], y[2:6] - y[:4])
    assert velocity[[0, 1, 2, 4]][:, 4:].abs().sum() == 0 and velocity[2].abs().sum() == 0
    torch.testing.assert_close(velocity[3], c)
    # bone: bx, by, 0, conf, arccos(by / (|b| + 1e-4)); the root (nose) has b = 0, angle pi/2
    parents = list(COCO17.parents)
    bx, by = x - x[:, parents], y - y[:, parents]
    torch.testing.assert_close(bone[0], bx)
    torch.testing.assert_close(bone[4], torch.arccos(by / (torch.sqrt(bx**2 + by**2) + 1e-4)))
    assert bone[2].abs().sum() == 0
    torch.testing.assert_close(bone[3], c)
    assert bone[4, :, 0].sub(math.pi / 2).abs().max() < 1e-6


def test_corrected_layout(poses):
    velocity, bone = build_input(poses, "coco17", mode="corrected")[0, 1:]
    x, y, c = poses[0].unbind(-1)
    torch.testing.assert_close(velocity[0, :5], x[1:] - x[:5])
    assert velocity[0, 5].abs().sum() == 0
    torch.testing.assert_close(velocity[2, :4], x[2:] - x[:4])
    torch.testing.assert_close(velocity[3, :4], y[2:] - y[:4])
    torch.testing.assert_close(velocity[4], c)
    parents = list(COCO17.parents)
    bx, by = x - x[:, parents], y - y[:, parents]
    torch.testing.assert_close(bone[2], torch.sqrt(bx**2 + by**2))
    torch.testing.assert_close(bone[3], torch.atan2(by, bx))
    torch.testing.assert_close(bone[4], c)


def test_batched_equals_one_by_one(poses):
    for mode in ("reference", "corrected"):
        whole = build_input(poses, "coco17", mode=mode)
        single = torch.cat([build_input(p[None], "coco17", mode=mode) for p in poses])
        torch.testing.assert_close(whole, single)


def test_single_branch_is_raw_xyc(poses):
    out = build_input(poses, "coco17", multi_branch=False)
    assert out.shape == (2, 1, 3, 6, 17)
    torch.testing.assert_close(out[:, 0], poses.permute(0, 3, 1, 2))


def test_openpose_centre_is_the_neck():
    p = torch.rand(1, 4, 18, 3)
    joint = build_input(p, "openpose18")[0, 0]
    torch.testing.assert_close(joint[3], p[0, ..., 0] - p[0, :, 1:2, 0])


def test_bad_arguments(poses):
    with pytest.raises(ValueError, match="mode"):
        build_input(poses, "coco17", mode="intended")
    with pytest.raises(ValueError, match="has 18 joints, poses have 17"):
        build_input(poses, "openpose18")
    with pytest.raises(ValueError, match=r"\(N, T, V, 3\)"):
        build_input(poses[0], "coco17")
