"""A scale-free feature distance: the MSE relative to the target's mean square."""
from __future__ import annotations

from mmrazor.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class RelativeMSELoss(nn.Module):
    """``mean((s - t)^2) / mean(t^2)``: the MSE relative to the target's mean square, so the term does
    not depend on the features' scale. The dense-head families' default appearance term: neck
    outputs can be far from unit scale (the AdamW-trained demo teachers' FPN levels have mean squares
    of 50-5000), where the plain MSE outweighs every detection loss by orders of magnitude; for a
    teacher whose features have a mean square of 1 it is the plain MSE. The denominator carries no
    gradient.

    Args:
        loss_weight: multiplier.
    Forward:
        preds_S, preds_T: tensors of one shape (e.g. ``(B, C, H, W)`` features).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        t = preds_T.detach()
        return self.loss_weight * (preds_S - t).pow(2).mean() / t.pow(2).mean().clamp(min=1e-12)
