"""Anchor-free dense heads: FCOS, YOLOX and RTMDet (the plugin's own extension of FCFD's
dense-head form, docs/families.md).

Each head runs on the whole (bridged) neck tuple; its maps are flattened to one row per location
(all levels). Outputs and their distances:

* ``cls``: per-class sigmoid logits -> per-class sigmoid KD (``SigmoidKDLoss``);
* ``reg``: the box branch -> MSE (``WeightedMSELoss``). FCOS and RTMDet predict distances to the
  four sides, which mmdet scales by the level's stride (RTMDet always, FCOS in eval mode or
  without ``norm_on_bbox``); FCFD divides them by the stride, so every level's ``reg`` is in
  stride units and the mode the head ran in does not matter. YOLOX's raw (dx, dy, log w, log h)
  are already per stride;
* ``centerness`` (FCOS) / ``obj`` (YOLOX): one sigmoid logit per location -> sigmoid KD.

Rows are weighted by the teacher's detection score (``anchor_weighting='teacher_score'``, the
default), the score each head's ``predict`` ranks boxes by: FCOS ``max_c p_c * centerness``,
YOLOX ``max_c p_c * objectness``, RTMDet ``max_c p_c``.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from torch import Tensor, nn

from ..common import check_same
from ..registry import HEAD_ADAPTERS
from .dense_base import DenseHeadBase

_SIGMOID_KD = dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0)
_MSE = dict(type='WeightedMSELoss', loss_weight=1.0)


def _per_stride(maps: List[Tensor], strides: List[int]) -> List[Tensor]:
    return [m / s for m, s in zip(maps, strides)]


@HEAD_ADAPTERS.register_module()
class FCOSHeadAdapter(DenseHeadBase):
    """FCOS (``FCOSHead``, ``NASFCOSHead``): ``cls`` (C), ``reg`` (4 distances, stride units),
    ``centerness`` (1)."""

    family = 'an FCOS detector (SingleStageDetector + FCOSHead / NASFCOSHead: classes, distances, centerness)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE, centerness=_SIGMOID_KD)
    quality_output = 'centerness'

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models.dense_heads import FCOSHead, NASFCOSHead
        return (FCOSHead, NASFCOSHead)

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        cls_scores, bbox_preds, centernesses = outputs[:3]
        bbox_preds = list(bbox_preds)
        # FCOSHead.forward_single: norm_on_bbox -> stride units in training, pixels in eval;
        # without it exp() gives pixels in both modes
        if not (self._student_head.norm_on_bbox and training):
            bbox_preds = _per_stride(bbox_preds, self.strides)
        return dict(cls=list(cls_scores), reg=bbox_preds, centerness=list(centernesses))

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        check_same('FCOS norm_on_bbox', student_head.norm_on_bbox, teacher_head.norm_on_bbox,
                   'Set bbox_head.norm_on_bbox identically in both configs (it changes what the box branch predicts).')


@HEAD_ADAPTERS.register_module()
class YOLOXHeadAdapter(DenseHeadBase):
    """YOLOX (``YOLOXHead``, decoupled head on ``YOLOXPAFPN``): ``cls`` (C), ``reg`` (4 raw
    offsets / log sizes per stride), ``obj`` (1)."""

    family = 'a YOLOX detector (YOLOX + YOLOXPAFPN + YOLOXHead: classes, boxes, objectness)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE, obj=_SIGMOID_KD)
    quality_output = 'obj'

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models.dense_heads import YOLOXHead
        return (YOLOXHead,)

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        cls_scores, bbox_preds, objectnesses = outputs[:3]
        return dict(cls=list(cls_scores), reg=list(bbox_preds), obj=list(objectnesses))


@HEAD_ADAPTERS.register_module()
class RTMDetHeadAdapter(DenseHeadBase):
    """RTMDet (``RTMDetSepBNHead`` / ``RTMDetHead`` on ``CSPNeXtPAFPN``; the box part of
    ``RTMDetInsSepBNHead``): ``cls`` (C; with ``with_objectness`` already the joint score the head
    returns), ``reg`` (4 distances, stride units). Levels come from the head's prior generator
    and the neck's actual outputs (``CSPNeXtPAFPN`` has no ``num_outs``)."""

    family = ('an RTMDet detector (RTMDet + CSPNeXtPAFPN + RTMDetSepBNHead / RTMDetHead; RTMDet-Ins: its box '
              'part)')
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models.dense_heads import RTMDetHead, RTMDetInsSepBNHead, RTMDetSepBNHead
        return (RTMDetSepBNHead, RTMDetHead, RTMDetInsSepBNHead)

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        cls_scores, bbox_preds = outputs[:2]
        return dict(cls=list(cls_scores), reg=_per_stride(list(bbox_preds), self.strides))
