import torch

from fcfd_mm.losses import RelativeMSELoss


def test_relative_mse_is_scale_free():
    torch.manual_seed(2)
    s, t = torch.randn(2, 3, 4, 4, dtype=torch.float64), torch.randn(2, 3, 4, 4, dtype=torch.float64)
    expected = ((s - t) ** 2).mean() / (t ** 2).mean()
    torch.testing.assert_close(RelativeMSELoss(loss_weight=2.0)(s, t), 2 * expected)
    torch.testing.assert_close(RelativeMSELoss()(100 * s, 100 * t), expected)


def test_relative_mse_gradient_reaches_the_student_only():
    s = torch.randn(2, 3, 4, 4, requires_grad=True)
    t = torch.randn(2, 3, 4, 4, requires_grad=True)
    RelativeMSELoss()(s, t).backward()
    assert t.grad is None
    torch.testing.assert_close(s.grad, 2 * (s - t).detach() / s.numel() / t.detach().pow(2).mean())
