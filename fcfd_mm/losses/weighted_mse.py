"""Mean squared error per row, for box outputs of weighted rows (mmdet's loss convention)."""
from __future__ import annotations

import torch
from mmrazor.registry import MODELS

from .row_loss import RowLoss


@MODELS.register_module()
class WeightedMSELoss(RowLoss):
    """Row loss ``l_n = mean_d (s_nd - t_nd)^2``, weighted and reduced over rows as mmdet's losses
    are (:class:`~fcfd_mm.losses.row_loss.RowLoss`): without weights the mean over all elements,
    with row weights ``w`` and ``avg_factor = sum_n w_n`` the weighted mean ``sum_n w_n l_n / sum_n w_n``.

    Without weights it equals MMRazor's ``L2Loss(normalize=False, div_element=True)``, which the
    Faster R-CNN configs use; MMRazor has no weighted form, which the dense heads need when anchors
    are weighted by the teacher's score.

    Args:
        loss_weight, reduction: as :class:`~fcfd_mm.losses.row_loss.RowLoss`.
    """

    def row_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (pred - target).pow(2).reshape(pred.shape[0], -1).mean(dim=1)
