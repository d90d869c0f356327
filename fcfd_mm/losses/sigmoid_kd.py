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
        s = preds_S if self.tau == 1 else preds_S / self.tau
        t = preds_T.detach() if self.tau == 1 else preds_T.detach() / self.tau
        # KL(Bern(p_t) || Bern(p_s)) = BCE(s; p_t) - BCE(t; p_t), with BCE(x; p) the binary cross
        # entropy of logit x against target probability p. Written with the fused, numerically
        # stable binary_cross_entropy_with_logits: one kernel forward and one backward instead of
        # a dozen elementwise passes (this loss runs on every anchor, ~16M elements per image at
        # 800x1333). The teacher's entropy term carries no gradient.
        with torch.no_grad():
            p_t = torch.sigmoid(t)
            entropy_t = F.binary_cross_entropy_with_logits(t, p_t, reduction='none')
        kl = (F.binary_cross_entropy_with_logits(s, p_t, reduction='none') - entropy_t).sum(dim=-1)
        if weight is None:
            loss = kl.mean()
        else:
            loss = (kl * weight).sum() / weight.sum().clamp(min=1e-12)
        return self.loss_weight * self.tau**2 * loss
