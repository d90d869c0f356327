"""DistributionKLLoss (GFL-style box distributions) against a hand computation and mmdet's own
localization-distillation KL."""
import pytest
import torch
from mmrazor.registry import MODELS

from fcfd_mm.losses import DistributionKLLoss


def per_side_kl(s, t, bins, tau):
    """``(N,)``: T^2 * mean over sides of sum over bins p_t log(p_t / p_s), in float64, by hand."""
    n = s.shape[0]
    ps = torch.softmax(s.double().view(n, -1, bins) / tau, dim=-1)
    pt = torch.softmax(t.double().view(n, -1, bins) / tau, dim=-1)
    return tau ** 2 * (pt * (pt.log() - ps.log())).sum(-1).mean(-1)


@pytest.mark.parametrize('tau', [1.0, 3.0])
def test_is_the_softmax_kl_over_each_sides_bins(tau):
    torch.manual_seed(0)
    s, t = torch.randn(6, 4 * 17), torch.randn(6, 4 * 17)
    expected = per_side_kl(s, t, 17, tau)
    loss = DistributionKLLoss(num_bins=17, tau=tau, loss_weight=0.5)
    torch.testing.assert_close(loss(s, t).double(), 0.5 * expected.mean(), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(loss(s, t, reduction_override='none').double(), 0.5 * expected, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(loss(s, t, reduction_override='sum').double(), 0.5 * expected.sum(), rtol=1e-5,
                               atol=1e-7)
    assert loss(t, t).abs() < 1e-6


def test_matches_mmdets_localization_distillation_kl():
    """mmdet's LD loss averages the KL over the bins (``.mean(1)``) and over 4 sides (``avg_factor=4``);
    FCFD's sums over the bins: ``num_bins`` times mmdet's per-side value."""
    from mmdet.models.losses.kd_loss import knowledge_distillation_kl_div_loss
    torch.manual_seed(1)
    bins, tau = 9, 2.0
    s, t = torch.randn(5, 4 * bins), torch.randn(5, 4 * bins)
    mmdet_per_side = knowledge_distillation_kl_div_loss(s.view(-1, bins), t.view(-1, bins), T=tau, reduction='none')
    expected = bins * mmdet_per_side.view(5, 4).mean(1)
    torch.testing.assert_close(DistributionKLLoss(bins, tau=tau)(s, t, reduction_override='none'), expected,
                               rtol=1e-5, atol=1e-6)


def test_weights_and_avg_factor():
    torch.manual_seed(2)
    s, t, w = torch.randn(7, 4 * 5), torch.randn(7, 4 * 5), torch.rand(7)
    per_row = per_side_kl(s, t, 5, 1.0)
    loss = DistributionKLLoss(num_bins=5)
    torch.testing.assert_close(loss(s, t, weight=w, avg_factor=w.sum()).double(), (per_row * w).sum() / w.sum(),
                               rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(loss(s, t, weight=w, avg_factor=3.0).double(), (per_row * w).sum() / 3.0, rtol=1e-5,
                               atol=1e-7)


def test_gradient_reaches_the_prediction_only_and_config_builds():
    s = torch.randn(3, 4 * 6, requires_grad=True)
    t = torch.randn(3, 4 * 6, requires_grad=True)
    loss = MODELS.build(dict(type='DistributionKLLoss', num_bins=6))
    loss(s, t).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0 and t.grad is None


def test_bad_settings_name_the_fix():
    with pytest.raises(ValueError, match='reg_max \\+ 1'):
        DistributionKLLoss(num_bins=1)
    with pytest.raises(ValueError, match='num_bins'):
        DistributionKLLoss(num_bins=7)(torch.randn(2, 4 * 17), torch.randn(2, 4 * 17))
    with pytest.raises(ValueError, match='reduction'):
        DistributionKLLoss(num_bins=5, reduction='max')
