"""GFL-style heads, whose box branch is a distribution over bins (the plugin's own extension of
FCFD's dense-head form, docs/families.md).

``GFLHead`` predicts, per location, quality-focal class scores (sigmoid logits of the joint
class x IoU score) and for each of the 4 box sides logits over ``reg_max + 1`` discretised
distances; the box is the expectation of each side's softmax. Outputs and distances:

* ``cls`` (C): per-class sigmoid KD (``SigmoidKDLoss``);
* ``reg`` (4 x (reg_max + 1) bin logits, side-major): softmax KL over the bins of each side
  (``DistributionKLLoss``, as localization distillation does), never an MSE on raw bin logits.

Rows (locations) are weighted by the teacher's highest class score (``anchor_weighting``).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from torch import Tensor, nn

from ..common import check_same
from ..registry import HEAD_ADAPTERS
from .dense_base import DenseHeadBase


@HEAD_ADAPTERS.register_module()
class GFLHeadAdapter(DenseHeadBase):
    """GFL (``GFLHead``): ``cls`` (C quality-focal logits), ``reg`` (``4 * (reg_max + 1)`` bin logits).

    Args:
        anchor_weighting: as :class:`DenseHeadBase`.
        tau: temperature of the per-side distribution KL (default 1).
    """

    family = 'a GFL detector (SingleStageDetector + GFLHead: quality-focal classes, box distributions over bins)'

    def __init__(self, student: nn.Module, teacher: nn.Module, anchor_weighting='teacher_score',
                 tau: float = 1.0) -> None:
        super().__init__(student, teacher, anchor_weighting)
        self.num_bins = int(student.bbox_head.reg_max) + 1
        self.tau = float(tau)

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models.dense_heads import GFLHead
        return (GFLHead,)

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        check_same('GFL reg_max (bins per box side)', student_head.reg_max, teacher_head.reg_max,
                   'Set bbox_head.reg_max identically in both configs: the box distributions are compared bin by bin.')

    def default_output_losses(self) -> Dict[str, dict]:
        return dict(cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0),
                    reg=dict(type='DistributionKLLoss', num_bins=self.num_bins, tau=self.tau, loss_weight=1.0))

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        cls_scores, bbox_preds = outputs[:2]
        return dict(cls=list(cls_scores), reg=list(bbox_preds))
