"""Loss forms under study for the dense-head output terms (benchmarks/efficacy.py diagnosis).

* :class:`QualityFocalKDLoss`: per-class sigmoid KD with quality focal loss's modulating factor.
* :class:`SoftPositiveNorm`: reduces a row loss like a dense head reduces its own classification
  loss: summed over every row and divided by the number of (soft) positives, here the sum of the
  per-row weights the switch passes (the teacher's scores).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS


@MODELS.register_module()
class QualityFocalKDLoss(nn.Module):
    """``l_n = sum_c |sigmoid(s_nc / T) - sigmoid(t_nc / T)|^beta * BCE(s_nc / T; sigmoid(t_nc / T))``.

    Quality focal loss (GFL) with the teacher's per-class probability as the soft target: rows and
    classes where student and teacher agree contribute little, disagreements dominate. Reduced over
    rows as ``sum_n w_n l_n / sum_n w_n`` (``weight``) or the mean.

    Args:
        beta: focusing exponent (GFL: 2).
        tau: temperature T.
        loss_weight: multiplier.
    Forward:
        preds_S, preds_T: ``(N, C)`` logits; ``weight``: optional ``(N,)``.
    """

    def __init__(self, beta: float = 2.0, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.beta, self.tau, self.loss_weight = float(beta), float(tau), loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        s, t = preds_S / self.tau, preds_T.detach() / self.tau
        p_t = t.sigmoid()
        focus = (s.sigmoid() - p_t).abs().pow(self.beta)
        per_row = (F.binary_cross_entropy_with_logits(s, p_t, reduction='none') * focus).sum(dim=-1)
        if weight is None:
            loss = per_row.mean()
        else:
            loss = (per_row * weight).sum() / weight.sum().clamp(min=1e-12)
        return self.loss_weight * loss


@MODELS.register_module()
class SoftPositiveNorm(nn.Module):
    """``sum_n l_n / sum_n w_n``: ``loss`` summed over every row, unweighted, divided by the sum of the
    row weights (the teacher's scores: a soft count of positives), as a dense head divides its
    classification loss, summed over all anchors, by the number of positives.

    Args:
        loss: the row loss's config (its unweighted mean is taken and multiplied by ``N``).
    """

    def __init__(self, loss: dict) -> None:
        super().__init__()
        self.loss = MODELS.build(loss)

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        total = self.loss(preds_S, preds_T) * preds_S.shape[0]
        if weight is None:
            return total / max(preds_S.shape[0], 1)
        return total / weight.sum().clamp(min=1.0)


@MODELS.register_module()
class RelativeMSELoss(nn.Module):
    """``mean((s - t)^2) / mean(t^2)``: the MSE relative to the target's mean square, so the term does
    not depend on the features' scale (an appearance term for necks whose outputs are far from unit
    scale). The denominator carries no gradient.

    Args:
        loss_weight: multiplier.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
        t = preds_T.detach()
        return self.loss_weight * (preds_S - t).pow(2).mean() / t.pow(2).mean().clamp(min=1e-12)
