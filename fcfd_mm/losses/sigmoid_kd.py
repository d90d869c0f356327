"""Per-class binary (sigmoid) knowledge distillation with temperature, for dense-head scores."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS


@MODELS.register_module()
class SigmoidKDLoss(nn.Module):
    """``T^2 * sum_c KL(Bern(sigmoid(t_c / T)) || Bern(sigmoid(s_c / T)))``, averaged over rows.

    MMRazor's KD losses are softmax-based; a sigmoid classifier (RetinaNet, FCOS...) scores each
    class independently, so each class is a binary distribution.

    Args:
        tau: temperature T.
        loss_weight: multiplier.
    Forward:
        preds_S, preds_T: ``(N, C)`` logits (N anchors). ``weight``: optional ``(N,)`` per-row
        weights; the result is then ``sum_n w_n l_n / sum_n w_n``.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        preds_T = preds_T.detach()
        s, t = preds_S / self.tau, preds_T / self.tau
        p_t = torch.sigmoid(t)
        # KL(Bern(p_t) || Bern(p_s)) = p_t (log p_t - log p_s) + (1 - p_t)(log(1-p_t) - log(1-p_s)),
        # with log-sigmoids for stability: log(1 - sigmoid(x)) = logsigmoid(-x).
        kl = (p_t * (F.logsigmoid(t) - F.logsigmoid(s)) +
              (1 - p_t) * (F.logsigmoid(-t) - F.logsigmoid(-s))).sum(dim=-1)
        if weight is None:
            loss = kl.mean()
        else:
            loss = (kl * weight).sum() / weight.sum().clamp(min=1e-12)
        return self.loss_weight * self.tau**2 * loss
