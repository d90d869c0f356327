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
