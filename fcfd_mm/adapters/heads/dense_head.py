"""One-stage dense detectors (RetinaNet): FCFD-style function consistency at the dense head.

**This adapter is the plugin's own extension** (docs/method.md, "Switch points"): the official
FCFD code has no RetinaNet. The dense head runs on a (bridged) FPN tuple; its per-level outputs
``(B, A*C, H, W)`` / ``(B, A*4, H, W)`` are flattened to one row per anchor:
``cls (B * sum_l H_l W_l A, C)`` sigmoid logits and ``reg (..., 4)`` box deltas.

Defaults (docs/method.md, "Loss terms at the FPN switch point (detectors)"): paths ``s`` / ``st`` /
``ts``, anchors weighted by the teacher's max class probability, per-class sigmoid KD (T=1, weight
5) on scores and MSE (weight 1) on deltas -- the setting chosen on the RetinaNet demo.

Overhead control: with ``fcfd.neck.levels`` the consistency terms run the head on those FPN
levels only (a :class:`LevelContext`); the head is shared across levels, so a level left out
costs nothing.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor, nn

from ..common import HeadOutputs, LevelContext, UnsupportedModelError, check_same, num_classes
from ..registry import HEAD_ADAPTERS
from .base import HeadAdapter

ANCHOR_WEIGHTINGS = (None, 'teacher_score')


def _flatten_levels(per_level: List[Tensor], width: int) -> Tensor:
    """``[(B, A*width, H, W)]`` -> ``(B * sum(H*W*A), width)`` in (batch, level, y, x, anchor) order."""
    b = per_level[0].shape[0]
    return torch.cat([t.permute(0, 2, 3, 1).reshape(b, -1, width) for t in per_level], dim=1).reshape(-1, width)


@HEAD_ADAPTERS.register_module()
class DenseHeadAdapter(HeadAdapter):
    """RetinaNet-style detectors: ``SingleStageDetector`` + FPN + an anchor head with sigmoid classes.

    Args:
        anchor_weighting: ``'teacher_score'`` (default: each anchor's losses weighted by the
            teacher's max class probability) or ``None`` (all anchors equal).
    """

    def __init__(self, student: nn.Module, teacher: nn.Module,
                 anchor_weighting: Optional[str] = 'teacher_score') -> None:
        if anchor_weighting not in ANCHOR_WEIGHTINGS:
            raise ValueError(f"DenseHeadAdapter: anchor_weighting must be None or 'teacher_score', "
                             f'got {anchor_weighting!r}')
        self.anchor_weighting = anchor_weighting
        super().__init__(student, teacher)
        self.num_classes = num_classes(student.bbox_head)
        self.box_code_size = int(student.bbox_head.bbox_coder.encode_size)

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        from mmdet.models.dense_heads import AnchorHead
        from mmdet.models.detectors import SingleStageDetector
        head = getattr(model, 'bbox_head', None)
        return (isinstance(model, SingleStageDetector) and isinstance(head, AnchorHead)
                and getattr(head, 'use_sigmoid_cls', False))

    def check_pair(self, student: nn.Module, teacher: nn.Module) -> None:
        for role, model in (('student', student), ('teacher', teacher)):
            if not self.supports(model):
                raise UnsupportedModelError(
                    f'DenseHeadAdapter: the {role} ({type(model).__name__}) is not a single-stage detector with an '
                    'FPN neck and a sigmoid anchor head (RetinaNet). Use a RetinaNet config, or '
                    'fcfd.head=dict(type=\'RoIBoxHeadAdapter\') for Faster R-CNN.')
        self.neck_channels(student), self.neck_channels(teacher)
        check_same('number of classes', num_classes(student.bbox_head), num_classes(teacher.bbox_head),
                   'FCFD matches class scores, so both detectors must be trained on the same classes.')
        check_same('anchors per location', student.bbox_head.num_base_priors, teacher.bbox_head.num_base_priors,
                   'Use the same anchor_generator (scales, ratios) in both configs.')
        check_same('number of FPN levels', self.num_levels(student), self.num_levels(teacher),
                   'Use the same neck.num_outs and anchor strides in both configs.')

    def default_output_losses(self) -> Dict[str, dict]:
        # per-class sigmoid KD with temperature on scores (weight 5), MSE on deltas; both averaged
        # over anchors (weighted when anchor_weighting is set)
        return dict(cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=5.0),
                    reg=dict(type='WeightedMSELoss', loss_weight=1.0))

    def default_paths(self) -> Tuple[str, ...]:
        return ('s', 'st', 'ts')

    def student_recorders(self) -> Dict[str, dict]:
        return dict(neck=dict(type='ModuleOutputs', source='neck'),
                    dense_head=dict(type='ModuleOutputs', source='bbox_head'))

    def _to_rows(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor]) -> HeadOutputs:
        return dict(cls=_flatten_levels(list(cls_scores), self.num_classes),
                    reg=_flatten_levels(list(bbox_preds), self.box_code_size))

    def consistency_context(self, records: RecorderManager, student: nn.Module,
                            levels: Optional[Sequence[int]] = None) -> LevelContext:
        """All FPN levels, or only ``levels`` (0 = P3 for RetinaNet)."""
        return LevelContext(None if levels is None else tuple(sorted(levels)))

    def student_outputs(self, records: RecorderManager, context: LevelContext) -> HeadOutputs:
        recorder = records.get_recorder('dense_head')
        if len(recorder.data_buffer) != 1:
            raise RuntimeError(f'DenseHeadAdapter expected one student head forward per loss pass, '
                               f'saw {len(recorder.data_buffer)}.')
        cls_scores, bbox_preds = recorder.get_record_data(0)[:2]
        if context.levels is not None:
            cls_scores, bbox_preds = [cls_scores[lv] for lv in context.levels], [bbox_preds[lv] for lv in
                                                                                 context.levels]
        return self._to_rows(cls_scores, bbox_preds)

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: LevelContext) -> HeadOutputs:
        if context.levels is not None:
            feats = [feats[lv] for lv in context.levels]
        cls_scores, bbox_preds = model.bbox_head(tuple(feats))[:2]
        return self._to_rows(cls_scores, bbox_preds)

    def predict_on_features(self, model: nn.Module, feats: Sequence[Tensor], data_samples: list) -> list:
        """``SingleStageDetector.predict`` after ``extract_feat``: the dense head of ``model`` on
        ``feats`` (boxes rescaled to the original image)."""
        results = model.bbox_head.predict(tuple(feats), data_samples, rescale=True)
        return model.add_pred_to_datasample(data_samples, results)

    @property
    def row_weighted(self) -> bool:
        return self.anchor_weighting is not None

    def row_weights(self, teacher_outputs: HeadOutputs) -> Optional[Tensor]:
        if self.anchor_weighting == 'teacher_score':
            return teacher_outputs['cls'].detach().sigmoid().max(dim=1).values
        return None
