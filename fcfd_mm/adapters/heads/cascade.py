"""Cascade R-CNN: FCFD's function consistency at every stage's box head (the plugin's own
extension of the official Faster R-CNN form, docs/families.md).

The cascade's stage ``i`` box head (RoIAlign on P2-P5 -> FCs -> cls / reg) runs on the RoIs the
*student* sampled for its own loss at that stage (recorded from its loss pass: stage 0 samples
the RPN proposals, stage ``i > 0`` the boxes stage ``i - 1`` refined). Outputs per stage ``i``:
``cls{i}``, the ``(num_classes + 1)`` logits, and ``reg{i}``, the box deltas (class-agnostic in
mmdet's cascade configs). Their default losses are those of Faster R-CNN (KL at T = 1, MSE),
weighted like the cascade's own stage losses (``roi_head.stage_loss_weights``, 1 / 0.5 / 0.25).

Cascade Mask R-CNN: the box heads are distilled, the mask heads are not. The overhead controls
of :class:`RoIBoxHeadAdapter` (``consistency_rois``, ``fcfd.neck.levels``) apply to every stage.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import torch
from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor, nn

from ..common import HeadOutputs, RoIContext, StagedRoIContext, check_same, num_classes
from ..registry import HEAD_ADAPTERS
from .roi_box_head import RoIBoxHeadAdapter, check_box_head_pair, is_bucketing_head


@HEAD_ADAPTERS.register_module()
class CascadeRoIHeadAdapter(RoIBoxHeadAdapter):
    """Cascade R-CNN style detectors: ``TwoStageDetector`` + FPN + ``CascadeRoIHead`` (box heads with
    deltas; a SABL cascade, whose heads predict side buckets, is not served).

    Args:
        consistency_rois, seed: as :class:`RoIBoxHeadAdapter`, per image and stage.
    """

    family = ('a Cascade R-CNN detector (TwoStageDetector + FPN + CascadeRoIHead: every stage\'s box head; '
              'Cascade Mask R-CNN: its box heads)')

    def __init__(self, student: nn.Module, teacher: nn.Module, consistency_rois: Optional[int] = None,
                 seed: int = 0) -> None:
        super().__init__(student, teacher, consistency_rois, seed)
        self.num_stages = int(student.roi_head.num_stages)
        self.stage_loss_weights = [float(w) for w in student.roi_head.stage_loss_weights]
        #: (cls, reg) widths per stage, for the empty outputs of a stage without RoIs
        self.widths = [(num_classes(h) + 1, 4 if h.reg_class_agnostic else 4 * num_classes(h))
                       for h in student.roi_head.bbox_head]

    @classmethod
    def roi_head_types(cls) -> tuple:
        from mmdet.models.roi_heads import CascadeRoIHead
        return (CascadeRoIHead,)

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        return super().supports(model) and not any(map(is_bucketing_head, model.roi_head.bbox_head))

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        s_rh, t_rh = student.roi_head, teacher.roi_head
        check_same('number of cascade stages', s_rh.num_stages, t_rh.num_stages,
                   'FCFD compares the box heads stage by stage; use the same roi_head.num_stages.')
        for i in range(s_rh.num_stages):
            check_box_head_pair(s_rh.bbox_head[i], t_rh.bbox_head[i], s_rh.bbox_roi_extractor[i],
                                t_rh.bbox_roi_extractor[i], f' (stage {i})')

    def default_output_losses(self) -> Dict[str, dict]:
        losses = {}
        for i, w in enumerate(self.stage_loss_weights):
            losses[f'cls{i}'] = dict(type='KLDivergence', tau=1.0, loss_weight=w, reduction='batchmean')
            losses[f'reg{i}'] = dict(type='L2Loss', normalize=False, div_element=True, loss_weight=w)
        return losses

    def num_head_levels(self, model: nn.Module) -> int:
        return int(model.roi_head.bbox_roi_extractor[0].num_inputs)

    def student_recorders(self) -> Dict[str, dict]:
        recorders = dict(neck=self.switch_recorder())
        for i in range(self.num_stages):
            recorders[f'roi_extractor{i}'] = dict(type='ModuleInputs', source=f'roi_head.bbox_roi_extractor.{i}')
            recorders[f'box_head{i}'] = dict(type='ModuleOutputs', source=f'roi_head.bbox_head.{i}')
        return recorders

    def consistency_context(self, records: RecorderManager, student: nn.Module,
                            levels: Optional[Sequence[int]] = None) -> StagedRoIContext:
        """Per stage: the RoIs the student sampled at that stage (the first call of the stage's
        box RoI extractor: a Cascade Mask R-CNN sharing it calls it again for the mask), then the
        overhead controls as for Faster R-CNN. A stage the loss pass did not reach (mmdet stops
        the cascade when a stage has no proposal) has no RoI: its terms are zero."""
        stages = []
        for i in range(self.num_stages):
            recorder = records.get_recorder(f'roi_extractor{i}')
            if not recorder.data_buffer:
                stages.append(RoIContext(torch.zeros((0, 5), device=self._device(student))))
                continue
            stages.append(self.limit_rois(recorder.get_record_data(0, 1), student.roi_head.bbox_roi_extractor[i],
                                          levels))
        return StagedRoIContext(stages)

    @staticmethod
    def _device(model: nn.Module) -> torch.device:
        return next(model.parameters()).device

    def _empty(self, stage: int, like: Tensor):
        """``(cls, reg)`` with no row, for a stage without RoIs."""
        cls_width, reg_width = self.widths[stage]
        return like.new_zeros((0, cls_width)), like.new_zeros((0, reg_width))

    def student_outputs(self, records: RecorderManager, context: StagedRoIContext) -> HeadOutputs:
        out = {}
        for i, stage in enumerate(context.stages):
            recorder = records.get_recorder(f'box_head{i}')
            if not recorder.data_buffer:
                cls_score, bbox_pred = self._empty(i, stage.rois)
            else:
                # (cls, reg); SCNet's box heads also return their shared feature for the mask relay
                cls_score, bbox_pred = recorder.get_record_data(0)[:2]
                if stage.index is not None:
                    cls_score, bbox_pred = cls_score[stage.index], bbox_pred[stage.index]
            out[f'cls{i}'], out[f'reg{i}'] = cls_score, bbox_pred
        return out

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: StagedRoIContext) -> HeadOutputs:
        """Every stage's box head on that stage's RoIs (``CascadeRoIHead._bbox_forward``)."""
        out: Dict[str, Tensor] = {}
        feats = tuple(feats)
        extras = self.bbox_forward_inputs(model, feats) if any(st.rois.shape[0] for st in context.stages) else {}
        for i, stage in enumerate(context.stages):
            if stage.rois.shape[0] == 0:
                out[f'cls{i}'], out[f'reg{i}'] = self._empty(i, feats[0])
                continue
            res = model.roi_head._bbox_forward(i, feats, stage.rois, **extras)
            out[f'cls{i}'], out[f'reg{i}'] = res['cls_score'], res['bbox_pred']
        return out

    def bbox_forward_inputs(self, model: nn.Module, feats: Tuple[Tensor, ...]) -> Dict[str, Tensor]:
        """What ``model``'s RoI head passes its ``_bbox_forward`` besides the features and RoIs,
        computed from ``feats`` as its own forward does: nothing for Cascade R-CNN."""
        return {}


@HEAD_ADAPTERS.register_module()
class HTCRoIHeadAdapter(CascadeRoIHeadAdapter):
    """Hybrid Task Cascade (``HybridTaskCascadeRoIHead``; also DetectoRS's, HRNet's and Res2Net's HTC
    configs): every stage's box head, as :class:`CascadeRoIHeadAdapter`. Where the RoI head fuses a
    semantic feature into the box features (``with_semantic``, ``'bbox'`` in ``semantic_fusion``),
    each network's semantic head runs on the features it is given (its own, or the bridged ones of
    a hybrid), as HTC's forward does; the mask branches train on their own loss."""

    family = ('a Hybrid Task Cascade detector (HybridTaskCascade + HybridTaskCascadeRoIHead: every stage\'s box '
              'head, with its semantic fusion)')

    @classmethod
    def roi_head_types(cls) -> tuple:
        from mmdet.models.roi_heads import HybridTaskCascadeRoIHead
        return (HybridTaskCascadeRoIHead,)

    def bbox_forward_inputs(self, model: nn.Module, feats: Tuple[Tensor, ...]) -> Dict[str, Tensor]:
        roi_head = model.roi_head
        if not roi_head.with_semantic:
            return {}
        return dict(semantic_feat=roi_head.semantic_head(feats)[1])  # HybridTaskCascadeRoIHead.loss / predict


@HEAD_ADAPTERS.register_module()
class SCNetRoIHeadAdapter(HTCRoIHeadAdapter):
    """SCNet (``SCNetRoIHead``, a cascade): every stage's box head, as :class:`CascadeRoIHeadAdapter`,
    with the semantic feature (``with_semantic``) and the global context feature (``with_glbctx``)
    that SCNet fuses into the box features, each computed by the network's own semantic / global
    context head from the features it is given, as SCNet's forward does. The mask, feature-relay
    and context branches train on their own losses."""

    family = ('an SCNet detector (SCNet + SCNetRoIHead: every stage\'s box head, with its semantic and global '
              'context fusion)')

    @classmethod
    def roi_head_types(cls) -> tuple:
        from mmdet.models.roi_heads import SCNetRoIHead
        return (SCNetRoIHead,)

    def bbox_forward_inputs(self, model: nn.Module, feats: Tuple[Tensor, ...]) -> Dict[str, Tensor]:
        roi_head = model.roi_head  # SCNetRoIHead.loss / predict: each head's second output
        extras = super().bbox_forward_inputs(model, feats)
        if roi_head.with_glbctx:
            extras['glbctx_feat'] = roi_head.glbctx_head(feats)[1]
        return extras
