"""Mean squared error with optional per-row weights (box deltas of weighted anchors)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
from mmrazor.registry import MODELS


@MODELS.register_module()
class WeightedMSELoss(nn.Module):
    """``mean((s - t)^2)`` over all elements; with ``weight`` (``(N,)`` for ``(N, D)`` inputs),
    ``sum_n w_n mean_d (s_nd - t_nd)^2 / sum_n w_n``.

    Without weights it equals MMRazor's ``L2Loss(normalize=False, div_element=True)``, which the
    Faster R-CNN configs use; MMRazor has no weighted form, which the dense-head tail needs when
    anchors are weighted by the teacher's score.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        sq = (preds_S - preds_T.detach()).pow(2)
        if weight is None:
            return self.loss_weight * sq.mean()
        per_row = sq.reshape(sq.shape[0], -1).mean(dim=1)
        return self.loss_weight * (per_row * weight).sum() / weight.sum().clamp(min=1e-12)
