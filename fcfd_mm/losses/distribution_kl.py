"""Softmax KL over the bins of each box side, for distribution (GFL-style) box branches."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS

REDUCTIONS = ('none', 'mean', 'sum')


@MODELS.register_module()
class DistributionKLLoss(nn.Module):
    """KL divergence between the teacher's and the prediction's distributions over the bins of
    each box side, as localization distillation does for GFL-style heads.

    A GFL-style box branch predicts, for each of the 4 sides of a box, logits over ``num_bins``
    discretised distances (``reg_max + 1``); the box is the expectation of each softmax. Matching
    those logits with an MSE would compare unnormalised numbers whose offset per side is
    meaningless, so each side is compared as a distribution:

    ``l_n = T^2 / K * sum_k sum_b p_t(n,k,b) log(p_t(n,k,b) / p_x(n,k,b))``,
    ``p(n,k,.) = softmax(z(n,k,.) / T)`` over the bins of side ``k`` of row ``n`` (``K`` sides, the
    row's loss is the mean over its sides of the per-side KL, summed over bins).

    Reduction over rows (mmdet style): ``'mean'`` (default) gives ``sum_n w_n l_n / sum_n w_n``
    (``w_n = 1`` without ``weight``: the plain mean; with ``weight`` the same normalised weighted
    mean as FCFD's other row-weighted losses), or ``sum_n w_n l_n / avg_factor`` when
    ``avg_factor`` is given; ``'sum'`` gives ``sum_n w_n l_n``; ``'none'`` the ``(N,)`` vector
    ``w_n l_n``. Multiplied by ``loss_weight``.

    Args:
        num_bins: bins per side (``reg_max + 1`` of the head; 17 for mmdet's GFL configs).
        tau: temperature T.
        loss_weight: multiplier.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
    Forward:
        preds_S, preds_T: ``(N, K * num_bins)`` logits, side-major (the bins of side 0, then side
        1, ...), as mmdet's ``GFLHead`` lays out its ``4 * (reg_max + 1)`` channels. ``preds_T`` is
        the target (no gradient). ``weight``: optional ``(N,)`` per-row weights.
    """

    def __init__(self, num_bins: int, tau: float = 1.0, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__()
        if int(num_bins) != num_bins or num_bins < 2:
            raise ValueError(f'DistributionKLLoss: num_bins must be an integer >= 2 (reg_max + 1), got {num_bins!r}.')
        if reduction not in REDUCTIONS:
            raise ValueError(f'DistributionKLLoss: reduction must be one of {REDUCTIONS}, got {reduction!r}.')
        self.num_bins, self.tau, self.loss_weight, self.reduction = int(num_bins), float(tau), loss_weight, reduction

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> torch.Tensor:
        reduction = reduction_override or self.reduction
        if reduction not in REDUCTIONS:
            raise ValueError(f'DistributionKLLoss: reduction_override must be one of {REDUCTIONS}, got {reduction!r}.')
        n, width = preds_S.shape[0], preds_S.shape[-1]
        if preds_S.shape != preds_T.shape or width % self.num_bins:
            raise ValueError(f'DistributionKLLoss: predictions {tuple(preds_S.shape)} and targets '
                             f'{tuple(preds_T.shape)} must be equal (N, K * num_bins) shapes with num_bins='
                             f'{self.num_bins}; set num_bins to the head\'s reg_max + 1.')
        s = preds_S.reshape(n, -1, self.num_bins) / self.tau
        t = preds_T.detach().reshape(n, -1, self.num_bins) / self.tau
        log_p_t = F.log_softmax(t, dim=-1)
        kl = (log_p_t.exp() * (log_p_t - F.log_softmax(s, dim=-1))).sum(dim=-1)  # (N, K)
        per_row = self.tau ** 2 * kl.mean(dim=-1)
        if weight is not None:
            per_row = per_row * weight
        if reduction == 'none':
            return self.loss_weight * per_row
        total = per_row.sum()
        if reduction == 'mean':
            if avg_factor is not None:
                total = total / avg_factor
            elif weight is not None:
                total = total / weight.sum().clamp(min=1e-12)
            else:
                total = total / max(n, 1)
        return self.loss_weight * total
