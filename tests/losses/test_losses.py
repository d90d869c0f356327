import pytest
import torch
from mmrazor.models.losses import L2Loss

from fcfd_mm.losses import SigmoidKDLoss, WeightedMSELoss


def binary_kl(p, q):
    return p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))


@pytest.mark.parametrize('tau', [1.0, 2.0, 4.0])
def test_sigmoid_kd_is_t2_times_per_class_binary_kl(tau):
    torch.manual_seed(0)
    s, t = torch.randn(7, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    expected = tau ** 2 * binary_kl(torch.sigmoid(t / tau), torch.sigmoid(s / tau)).sum(1).mean()
    torch.testing.assert_close(SigmoidKDLoss(tau=tau, loss_weight=1.0)(s, t), expected)
    torch.testing.assert_close(SigmoidKDLoss(tau=tau, loss_weight=0.5)(s, t), 0.5 * expected)


def test_sigmoid_kd_takes_row_weights_and_vanishes_on_equal_inputs():
    s, t = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    w = torch.rand(6, dtype=torch.float64)
    per_row = binary_kl(torch.sigmoid(t), torch.sigmoid(s)).sum(1)
    torch.testing.assert_close(SigmoidKDLoss()(s, t, weight=w, avg_factor=w.sum()), (per_row * w).sum() / w.sum())
    assert SigmoidKDLoss()(t, t).abs() < 1e-12


def test_sigmoid_kd_is_stable_and_does_not_backprop_into_teacher():
    s = torch.tensor([[30.0, -30.0]], requires_grad=True)
    t = torch.tensor([[-30.0, 30.0]], requires_grad=True)
    loss = SigmoidKDLoss()(s, t)
    assert torch.isfinite(loss) and loss > 50
    loss.backward()
    assert t.grad is None and s.grad is not None


def test_weighted_mse_equals_mmrazor_l2_without_weights():
    s, t = torch.randn(9, 4), torch.randn(9, 4)
    torch.testing.assert_close(WeightedMSELoss()(s, t), L2Loss(normalize=False, div_element=True)(s, t))
    w = torch.rand(9)
    torch.testing.assert_close(WeightedMSELoss(loss_weight=2.0)(s, t, weight=w, avg_factor=w.sum()),
                               2.0 * (((s - t) ** 2).mean(1) * w).sum() / w.sum())
