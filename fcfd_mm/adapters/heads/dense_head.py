"""One-stage anchor-based dense detectors (RetinaNet and its relatives, ATSS): FCFD-style function
consistency at the dense head.

**This adapter is the plugin's own extension** (docs/method.md, "Switch points"): the official
FCFD code has no RetinaNet. The dense head runs on a (bridged) FPN tuple; its per-level outputs
``(B, A*C, H, W)`` / ``(B, A*4, H, W)`` are flattened to one row per anchor:
``cls (B * sum_l H_l W_l A, C)`` sigmoid logits and ``reg (..., 4)`` box deltas.

Defaults (docs/method.md, "Loss terms at the FPN switch point (detectors)"): paths ``s`` / ``st`` /
``ts``, anchors weighted by the teacher's max class probability, per-class sigmoid KD (T=1, weight
5) on scores and MSE (weight 1) on deltas -- the setting chosen on the RetinaNet demo.

Served heads (exact types, whose first two outputs are these maps): ``RetinaHead``,
``RetinaSepBNHead``, ``FreeAnchorRetinaHead``, ``FSAFHead``, ``PISARetinaHead``, and ``YOLOFHead``
(one level; its class scores are already combined with its objectness). ATSS
(:class:`ATSSHeadAdapter`) adds its centerness output. Heads that subclass ``AnchorHead`` but
predict something else in the box branch (``GFLHead``: a distribution over bins; ``RTMDetHead``:
distances in pixels...) have their own adapters or are refused.

Overhead control: with ``fcfd.neck.levels`` the consistency terms run the head on those FPN
levels only (a :class:`LevelContext`); RetinaNet's head is shared across levels, so a level left
out costs nothing.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from torch import Tensor, nn

from ..registry import HEAD_ADAPTERS
from .dense_base import ANCHOR_WEIGHTINGS, DenseHeadBase

__all__ = ['DenseHeadAdapter', 'ATSSHeadAdapter', 'ANCHOR_WEIGHTINGS']

#: heads that run the same layers on every level (no per-level scale / conv)
_SHARED = ('RetinaHead', 'FreeAnchorRetinaHead', 'FSAFHead', 'PISARetinaHead')
_SERVED = _SHARED + ('RetinaSepBNHead', 'YOLOFHead')


@HEAD_ADAPTERS.register_module()
class DenseHeadAdapter(DenseHeadBase):
    """RetinaNet-style detectors: ``SingleStageDetector`` + FPN + an anchor head with sigmoid
    classes whose box branch predicts 4 deltas per anchor.

    Args:
        anchor_weighting: ``'teacher_score'`` (default: each anchor's losses weighted by the
            teacher's max class probability) or ``None`` (all anchors equal).
    """

    family = ('a RetinaNet-style detector (SingleStageDetector + FPN + RetinaHead / RetinaSepBNHead / '
              'FreeAnchorRetinaHead / FSAFHead / PISARetinaHead with sigmoid classes; YOLOF\'s YOLOFHead on its '
              'single DilatedEncoder level)')
    # per-class sigmoid KD with temperature on scores (weight 5), MSE on deltas; both averaged
    # over anchors (weighted when anchor_weighting is set)
    output_losses = dict(cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=5.0),
                         reg=dict(type='WeightedMSELoss', loss_weight=1.0))
    sigmoid_classes = True

    def __init__(self, student: nn.Module, teacher: nn.Module, anchor_weighting='teacher_score') -> None:
        super().__init__(student, teacher, anchor_weighting)
        self.box_code_size = int(student.bbox_head.bbox_coder.encode_size)

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models import dense_heads
        return tuple(getattr(dense_heads, name) for name in _SERVED)

    @classmethod
    def shared_across_levels(cls, head: nn.Module) -> bool:
        return type(head).__name__ in _SHARED

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        return dict(cls=list(outputs[0]), reg=list(outputs[1]))


@HEAD_ADAPTERS.register_module()
class ATSSHeadAdapter(DenseHeadBase):
    """ATSS (``ATSSHead``, also under DyHead necks): ``cls`` (C sigmoid logits), ``reg`` (4 box deltas
    per anchor), ``centerness`` (1 sigmoid logit). Rows (anchors) are weighted by the teacher's
    detection score as ATSS's ``predict`` ranks boxes: ``max_c p_c * centerness``.

    Args:
        anchor_weighting: as :class:`DenseHeadBase`.
    """

    family = 'an ATSS detector (SingleStageDetector + ATSSHead: classes, box deltas, centerness)'
    output_losses = dict(cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0),
                         reg=dict(type='WeightedMSELoss', loss_weight=1.0),
                         centerness=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0))
    quality_output = 'centerness'
    sigmoid_classes = True

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models.dense_heads import ATSSHead
        return (ATSSHead,)

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        cls_scores, bbox_preds, centernesses = outputs[:3]
        return dict(cls=list(cls_scores), reg=list(bbox_preds), centerness=list(centernesses))
