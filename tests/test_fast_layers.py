"""The faster CPU training paths of ResGCN layers compute PyTorch's functions (issue 14).

``BatchNorm2d`` (float32 statistics), ``TemporalConv`` (convolution over time through the DFT) and
``conv_then_bn`` (a convolution's bias handed to the batch norm after it) must agree with
``nn.BatchNorm2d`` / ``nn.Conv2d`` on outputs, gradients and running statistics up to float rounding,
and be exactly them wherever the fast path does not apply (evaluation above all).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gaitgraph.models.batchnorm import BatchNorm2d
from gaitgraph.models.resgcn import Pointwise, conv_bn, conv_then_bn
from gaitgraph.models.temporal_conv import TemporalConv, dft_temporal_conv


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max())


def _pair_bn(c, momentum=0.1):
    ours, ref = BatchNorm2d(c, momentum=momentum), nn.BatchNorm2d(c, momentum=momentum)
    with torch.no_grad():
        ours.weight.uniform_(0.5, 1.5)
        ours.bias.normal_()
    ref.load_state_dict(ours.state_dict())
    return ours, ref


@pytest.mark.parametrize("shape,scale,shift", [((16, 8, 20, 17), 3.0, 1.0), ((8, 5, 30, 18), 40.0, 200.0),
                                               ((4, 3, 1, 2), 1.0, 0.0)])
def test_batchnorm_training_matches_pytorch(shape, scale, shift):
    g = torch.Generator().manual_seed(0)
    ours, ref = _pair_bn(shape[1])
    for step in range(3):  # running statistics over several batches
        x = (torch.randn(shape, generator=g) * scale + shift).requires_grad_()
        grad = torch.randn(shape, generator=g)
        ya, yb = ours(x), ref(x)
        ga = torch.autograd.grad(ya, [x, ours.weight, ours.bias], grad)
        gb = torch.autograd.grad(yb, [x, ref.weight, ref.bias], grad)
        assert _rel(ya, yb) < 1e-5
        for a, b in zip(ga, gb):
            assert _rel(a, b) < 1e-4
    for name in ("running_mean", "running_var"):
        assert _rel(getattr(ours, name), getattr(ref, name)) < 1e-5
    assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == 3
    assert list(ours.state_dict()) == list(ref.state_dict())
    ref.load_state_dict(ours.state_dict())
    ours.eval(), ref.eval()
    x = torch.randn(shape, generator=g) * scale + shift
    assert torch.equal(ours(x), ref(x))  # evaluation is PyTorch's own kernel


def test_batchnorm_falls_back_where_the_fast_path_does_not_apply():
    ours, ref = _pair_bn(6, momentum=None)  # cumulative average
    x = torch.randn(2, 6, 8, 5).transpose(2, 3)  # not contiguous
    for m in (ours, ref):
        m(x)
    assert torch.equal(ours.running_mean, ref.running_mean) and torch.equal(ours.running_var, ref.running_var)
    ours, ref = _pair_bn(6)
    torch.testing.assert_close(ours(x), ref(x), rtol=0, atol=0)  # non-contiguous: PyTorch's kernel, bit for bit
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        ours(torch.randn(1, 6, 1, 1))


@pytest.mark.parametrize("frames", [1, 2, 8, 15, 30, 60])
def test_dft_temporal_conv_is_the_convolution(frames):
    g = torch.Generator().manual_seed(frames)
    x = torch.randn(3, 6, frames, 5, generator=g, requires_grad=True)
    w = (torch.randn(4, 6, 9, 1, generator=g) * 0.2).requires_grad_()
    b = torch.randn(4, generator=g, requires_grad=True)
    ref = F.conv2d(x, w, b, padding=(4, 0))
    out = dft_temporal_conv(x, w, b)
    assert out.shape == ref.shape and out.is_contiguous()
    assert _rel(out, ref) < 1e-5
    grad = torch.randn(ref.shape, generator=g)
    for a, r in zip(torch.autograd.grad(out, [x, w, b], grad), torch.autograd.grad(ref, [x, w, b], grad)):
        assert _rel(a, r) < 1e-5
        assert a.is_contiguous()  # a permuted gradient would slow the layers before it down
    assert _rel(dft_temporal_conv(x, w, None), F.conv2d(x, w, None, padding=(4, 0))) < 1e-5


def test_temporal_conv_uses_the_dft_only_for_wide_stride_1_training():
    torch.manual_seed(0)
    wide, narrow, strided = TemporalConv(64, 64, 9), TemporalConv(16, 16, 9), TemporalConv(64, 64, 9, stride=2)
    x = torch.randn(2, 64, 12, 3)
    plain = lambda m, x: F.conv2d(x, m.weight, m.bias, stride=m.stride, padding=m.padding)  # noqa: E731
    assert _rel(wide(x), plain(wide, x)) < 1e-5 and not torch.equal(wide(x), plain(wide, x))  # the DFT path
    assert torch.equal(strided(x), plain(strided, x)) and strided(x).shape[2] == 6
    assert torch.equal(narrow(x[:, :16]), plain(narrow, x[:, :16]))
    wide.eval()
    assert torch.equal(wide(x), plain(wide, x))  # evaluation: PyTorch's convolution, bit for bit
    assert list(wide.state_dict()) == ["weight", "bias"] and wide.weight.shape == (64, 64, 9, 1)


@pytest.mark.parametrize("conv", [Pointwise(8, 24), Pointwise(8, 24, stride=2), TemporalConv(64, 64, 9),
                                  TemporalConv(8, 8, 9), TemporalConv(8, 8, 9, stride=2)],
                         ids=["pointwise", "pointwise-strided", "temporal-dft", "temporal-narrow", "temporal-strided"])
def test_conv_then_bn_is_the_convolution_then_the_batch_norm(conv):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        conv.bias.normal_(0.0, 3.0, generator=g)  # a bias the batch norm has to absorb
    ours, ref_bn = _pair_bn(conv.out_channels)
    ref_conv = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding)
    ref_conv.load_state_dict(conv.state_dict())
    for step in range(3):
        x = (torch.randn(4, conv.in_channels, 16, 5, generator=g) * 2 + 1).requires_grad_()
        y, y_ref = conv_then_bn(conv, ours, x), ref_bn(ref_conv(x))
        grad = torch.randn(y.shape, generator=g)
        params = [x, conv.weight, ours.weight, ours.bias]
        g_ours = torch.autograd.grad(y, params + [conv.bias], grad)
        g_ref = torch.autograd.grad(y_ref, [x, ref_conv.weight, ref_bn.weight, ref_bn.bias, ref_conv.bias], grad)
        assert _rel(y, y_ref) < 1e-5
        for a, b in zip(g_ours[:4], g_ref[:4]):
            assert _rel(a, b) < 1e-4
        # the bias gradient is zero in exact arithmetic: exactly 0 here, rounding noise in the original form
        assert torch.equal(g_ours[4], torch.zeros_like(conv.bias))
        assert g_ref[4].abs().max() < 1e-4 * g_ref[1].abs().max()
    for name in ("running_mean", "running_var"):  # the bias reaches the running mean
        assert _rel(getattr(ours, name), getattr(ref_bn, name)) < 1e-5
    assert int(ours.num_batches_tracked) == int(ref_bn.num_batches_tracked) == 3
    conv.eval(), ours.eval(), ref_conv.eval(), ref_bn.eval()
    x = torch.randn(4, conv.in_channels, 16, 5, generator=g)
    assert torch.equal(conv_then_bn(conv, ours, x), ours(conv(x)))  # evaluation: the layers as they are


def test_batchnorm_shift_outside_the_fast_path_is_added_to_the_input():
    ours, ref = _pair_bn(6)
    shift = torch.randn(6)
    x = torch.randn(2, 6, 8, 5).transpose(2, 3)  # not contiguous: PyTorch's kernel
    torch.testing.assert_close(ours(x, shift=shift), ref(x + shift[:, None, None]), rtol=0, atol=0)
    ours.eval(), ref.eval()
    torch.testing.assert_close(ours(x, shift=shift), ref(x + shift[:, None, None]), rtol=0, atol=0)


def test_residual_projection_keeps_the_original_parameter_names():
    assert list(conv_bn(4, 8, stride=2).state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"]
