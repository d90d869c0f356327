"""The loss convention of FCFD's own output losses: mmdet's (``weight`` / ``avg_factor`` /
``reduction_override``, ``loss_weight`` applied last), on one loss value per row."""
from __future__ import annotations

from typing import Optional, Union

import torch
from mmdet.models.losses import weight_reduce_loss
from torch import Tensor, nn

REDUCTIONS = ('none', 'mean', 'sum')


def check_reduction(reduction: Optional[str], owner: str, key: str = 'reduction') -> Optional[str]:
    """``reduction`` if it is ``None`` or one of :data:`REDUCTIONS`, else a ``ValueError`` naming ``key``."""
    if reduction is not None and reduction not in REDUCTIONS:
        raise ValueError(f'{owner}: {key} must be one of {REDUCTIONS}, got {reduction!r}.')
    return reduction


class RowLoss(nn.Module):
    """An output loss of FCFD as an ordinary mmdet loss: a subclass computes one value per row
    (:meth:`row_loss`, ``(N,)`` for ``(N, ...)`` predictions; a row is a RoI, an anchor or an image)
    and mmdet's ``weight_reduce_loss`` weights and reduces them.

    Forward ``(pred, target, weight=None, avg_factor=None, reduction_override=None)``:
    ``'mean'`` gives ``sum_n w_n l_n / avg_factor`` (the plain mean of ``w_n l_n`` without
    ``avg_factor``; ``w_n = 1`` without ``weight``), ``'sum'`` the sum, ``'none'`` the ``(N,)``
    vector ``w_n l_n``; then times ``loss_weight``. FCFD's switch points pass the teacher-score row
    weights with ``avg_factor = sum_n w_n`` (the weighted mean over rows), and neither without them.
    ``target`` is detached (the teacher's side gets no gradient).

    Args:
        loss_weight: multiplier, applied last.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
    """

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.reduction = check_reduction(reduction, type(self).__name__)

    def row_loss(self, pred: Tensor, target: Tensor) -> Tensor:
        """``(N,)``: the loss of each row (``target`` already detached)."""
        raise NotImplementedError

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> torch.Tensor:
        reduction = check_reduction(reduction_override, type(self).__name__, 'reduction_override') or self.reduction
        return self.loss_weight * weight_reduce_loss(self.row_loss(pred, target.detach()), weight, reduction,
                                                     avg_factor)
