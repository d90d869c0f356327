"""Softmax KL over the bins of each box side, for distribution (GFL-style) box branches."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS

from .row_loss import RowLoss


@MODELS.register_module()
class DistributionKLLoss(RowLoss):
    """KL divergence between the teacher's and the prediction's distributions over the bins of
    each box side, as localization distillation does for GFL-style heads.

    A GFL-style box branch predicts, for each of the 4 sides of a box, logits over ``num_bins``
    discretised distances (``reg_max + 1``); the box is the expectation of each softmax. Matching
    those logits with an MSE would compare unnormalised numbers whose offset per side is
    meaningless, so each side is compared as a distribution. Row loss:

    ``l_n = T^2 / K * sum_k sum_b p_t(n,k,b) log(p_t(n,k,b) / p_x(n,k,b))``,
    ``p(n,k,.) = softmax(z(n,k,.) / T)`` over the bins of side ``k`` of row ``n`` (``K`` sides, the
    row's loss is the mean over its sides of the per-side KL, summed over bins), weighted and
    reduced over rows as mmdet's losses are (:class:`~fcfd_mm.losses.row_loss.RowLoss`).

    Args:
        num_bins: bins per side (``reg_max + 1`` of the head; 17 for mmdet's GFL configs).
        tau: temperature T.
        loss_weight, reduction: as :class:`~fcfd_mm.losses.row_loss.RowLoss`.
    Forward:
        pred, target: ``(N, K * num_bins)`` logits, side-major (the bins of side 0, then side 1,
        ...), as mmdet's ``GFLHead`` lays out its ``4 * (reg_max + 1)`` channels; ``target`` is the
        teacher's. ``weight`` (``(N,)``), ``avg_factor``, ``reduction_override``: mmdet's.
    """

    def __init__(self, num_bins: int, tau: float = 1.0, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        if int(num_bins) != num_bins or num_bins < 2:
            raise ValueError(f'DistributionKLLoss: num_bins must be an integer >= 2 (reg_max + 1), got {num_bins!r}.')
        super().__init__(loss_weight, reduction)
        self.num_bins, self.tau = int(num_bins), float(tau)

    def row_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        n, width = pred.shape[0], pred.shape[-1]
        if pred.shape != target.shape or width % self.num_bins:
            raise ValueError(f'DistributionKLLoss: predictions {tuple(pred.shape)} and targets '
                             f'{tuple(target.shape)} must be equal (N, K * num_bins) shapes with num_bins='
                             f'{self.num_bins}; set num_bins to the head\'s reg_max + 1.')
        s = pred.reshape(n, -1, self.num_bins) / self.tau
        t = target.reshape(n, -1, self.num_bins) / self.tau
        log_p_t = F.log_softmax(t, dim=-1)
        kl = (log_p_t.exp() * (log_p_t - F.log_softmax(s, dim=-1))).sum(dim=-1)  # (N, K)
        return self.tau ** 2 * kl.mean(dim=-1)
