"""Loss forms under study for the dense-head output terms
(benchmarks/efficacy.py variants; no shipped config uses them).

* :class:`QualityFocalKDLoss`: per-class sigmoid KD with quality focal loss's modulating factor.
* :class:`SoftPositiveNorm`: reduces a row loss like a dense head reduces its own classification
  loss: summed over every row and divided by the number of (soft) positives, here the sum of the
  row weights the switch passes (the teacher's scores).
"""
from __future__ import annotations

from typing import Optional, Union

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor, nn

from .row_loss import RowLoss


@MODELS.register_module()
class QualityFocalKDLoss(RowLoss):
    """Row loss ``l_n = sum_c |sigmoid(s_nc / T) - sigmoid(t_nc / T)|^beta * BCE(s_nc / T; sigmoid(t_nc / T))``.

    Quality focal loss (GFL) with the teacher's per-class probability as the soft target: classes
    where student and teacher agree contribute little, disagreements dominate. Weighted and reduced
    over rows as mmdet's losses are (:class:`~fcfd_mm.losses.row_loss.RowLoss`).

    Args:
        beta: focusing exponent (GFL: 2).
        tau: temperature T.
        loss_weight, reduction: as :class:`~fcfd_mm.losses.row_loss.RowLoss`.
    Forward:
        pred, target: ``(N, C)`` logits; ``weight`` ``(N,)``, ``avg_factor``, ``reduction_override``.
    """

    def __init__(self, beta: float = 2.0, tau: float = 1.0, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(loss_weight, reduction)
        self.beta, self.tau = float(beta), float(tau)

    def row_loss(self, pred: Tensor, target: Tensor) -> Tensor:
        s, t = pred / self.tau, target / self.tau
        p_t = t.sigmoid()
        focus = (s.sigmoid() - p_t).abs().pow(self.beta)
        return (F.binary_cross_entropy_with_logits(s, p_t, reduction='none') * focus).sum(dim=-1)


@MODELS.register_module()
class SoftPositiveNorm(nn.Module):
    """``sum_n l_n / max(1, sum_n w_n)``: the wrapped row loss summed over every row, unweighted,
    divided by the sum of the row weights (the teacher's scores: a soft count of positives), as a
    dense head divides its classification loss, summed over all anchors, by the number of positives.
    Without row weights: the plain mean.

    Args:
        loss: the wrapped loss's config (mmdet's convention: it takes ``avg_factor``).
    """

    def __init__(self, loss: dict) -> None:
        super().__init__()
        self.loss = MODELS.build(loss)

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None) -> Tensor:
        if weight is None:
            return self.loss(pred, target)
        count = weight.sum().clamp(min=1.0) if avg_factor is None else torch.as_tensor(avg_factor).clamp(min=1.0)
        return self.loss(pred, target, None, avg_factor=count)
