"""Per-class binary (sigmoid) knowledge distillation with temperature, for dense-head scores."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS

from .row_loss import RowLoss


@MODELS.register_module()
class SigmoidKDLoss(RowLoss):
    """Row loss ``l_n = T^2 * sum_c KL(Bern(sigmoid(t_nc / T)) || Bern(sigmoid(s_nc / T)))``,
    weighted and reduced over rows as mmdet's losses are (:class:`~fcfd_mm.losses.row_loss.RowLoss`).

    MMRazor's KD losses are softmax-based; a sigmoid classifier (RetinaNet, FCOS...) scores each
    class independently, so each class is a binary distribution.

    Args:
        tau: temperature T.
        loss_weight, reduction: as :class:`~fcfd_mm.losses.row_loss.RowLoss`.
    Forward:
        pred, target: ``(N, C)`` logits (N anchors; ``target`` the teacher's); ``weight``: optional
        ``(N,)`` row weights, ``avg_factor``, ``reduction_override``: mmdet's.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(loss_weight, reduction)
        self.tau = tau

    def row_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        s = pred if self.tau == 1 else pred / self.tau
        t = target if self.tau == 1 else target / self.tau
        # KL(Bern(p_t) || Bern(p_s)) = BCE(s; p_t) - BCE(t; p_t), with BCE(x; p) the binary cross
        # entropy of logit x against target probability p. Written with the fused, numerically
        # stable binary_cross_entropy_with_logits: one kernel forward and one backward instead of
        # a dozen elementwise passes (this loss runs on every anchor, ~16M elements per image at
        # 800x1333). The teacher's entropy term carries no gradient.
        with torch.no_grad():
            p_t = torch.sigmoid(t)
            entropy_t = F.binary_cross_entropy_with_logits(t, p_t, reduction='none')
        kl = (F.binary_cross_entropy_with_logits(s, p_t, reduction='none') - entropy_t).sum(dim=-1)
        return self.tau ** 2 * kl
