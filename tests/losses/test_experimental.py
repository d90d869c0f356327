import pytest
import torch

from fcfd_mm.losses import QualityFocalKDLoss, SigmoidKDLoss, SoftPositiveNorm


def _qfl_by_hand(s, t, beta, tau):
    p_s, p_t = torch.sigmoid(s / tau), torch.sigmoid(t / tau)
    bce = -(p_t * torch.log(p_s) + (1 - p_t) * torch.log(1 - p_s))
    return ((p_s - p_t).abs() ** beta * bce).sum(1)


@pytest.mark.parametrize('beta, tau', [(2.0, 1.0), (1.0, 2.0)])
def test_quality_focal_kd_against_the_formula(beta, tau):
    torch.manual_seed(0)
    s, t = torch.randn(7, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    w = torch.rand(7, dtype=torch.float64)
    per_row = _qfl_by_hand(s, t, beta, tau)
    loss = QualityFocalKDLoss(beta=beta, tau=tau, loss_weight=0.5)
    torch.testing.assert_close(loss(s, t), 0.5 * per_row.mean())
    torch.testing.assert_close(loss(s, t, weight=w, avg_factor=w.sum()), 0.5 * (per_row * w).sum() / w.sum())
    torch.testing.assert_close(loss(s, t, reduction_override='none'), 0.5 * per_row)  # mmdet's convention


def test_quality_focal_kd_gradient_reaches_the_student_only():
    s = torch.randn(4, 3, requires_grad=True)
    t = torch.randn(4, 3, requires_grad=True)
    QualityFocalKDLoss()(s, t).backward()
    assert t.grad is None and s.grad.abs().sum() > 0
    same = torch.randn(4, 3)
    assert QualityFocalKDLoss()(same, same) == 0  # no disagreement, no loss (the focus factor is 0)


def test_soft_positive_norm_sums_rows_and_divides_by_the_weights():
    torch.manual_seed(1)
    s, t = torch.randn(10, 4, dtype=torch.float64), torch.randn(10, 4, dtype=torch.float64)
    w = torch.rand(10, dtype=torch.float64) * 0.5
    inner = SigmoidKDLoss()
    per_row_sum = inner(s, t) * 10
    norm = SoftPositiveNorm(loss=dict(type='SigmoidKDLoss'))
    torch.testing.assert_close(norm(s, t, weight=w), per_row_sum / w.sum().clamp(min=1.0))
    torch.testing.assert_close(norm(s, t, weight=w * 10), per_row_sum / (w * 10).sum())
    torch.testing.assert_close(norm(s, t), inner(s, t))  # no weights: the plain mean


def test_relative_mse_is_scale_free():
    from fcfd_mm.losses import RelativeMSELoss
    torch.manual_seed(2)
    s, t = torch.randn(2, 3, 4, 4, dtype=torch.float64), torch.randn(2, 3, 4, 4, dtype=torch.float64)
    expected = ((s - t) ** 2).mean() / (t ** 2).mean()
    torch.testing.assert_close(RelativeMSELoss(loss_weight=2.0)(s, t), 2 * expected)
    torch.testing.assert_close(RelativeMSELoss()(100 * s, 100 * t), expected)


def test_bridge_starts_with_the_receivers_channel_statistics():
    from fcfd_mm.connectors import FCFDBridge
    torch.manual_seed(3)
    bridge = FCFDBridge(4, 6).train()
    x = torch.randn(3, 4, 8, 8)
    target = torch.randn(3, 6, 8, 8) * torch.tensor([1.0, 10, 100, 0.1, 5, 50]).view(1, 6, 1, 1) + 7
    bridge.match_statistics(x, target)
    out = bridge(x)
    torch.testing.assert_close(out.mean((0, 2, 3)), target.mean((0, 2, 3)), rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(out.std((0, 2, 3)), target.std((0, 2, 3)), rtol=2e-2, atol=1e-3)
