"""Dense heads whose box branch has an encoding of its own: RepPoints (a set of points), SABL
(side-aware buckets) and Guided Anchoring (deltas from anchors each network shapes itself). The
plugin's own extension of FCFD's dense-head form (docs/families.md), each following the RetinaNet
adapter's rows (one per location of every level the head reads) and class distance (per-class
sigmoid KD).

* RepPoints: the box its ``predict`` uses is the refined point set turned into a box by the head's
  own ``points2bbox`` (``moment``: the points' mean +- their spread times a learned transfer);
  FCFD compares those boxes, in units of the level's stride (the head's point unit), by MSE. The
  head returns the point sets in training and the box in eval; the adapter turns either into the
  same box, each head with its own transfer. The initial point set only guides the refinement and
  is not distilled.
* SABL: each of the box's four sides is a softmax over ``side_num`` buckets (compared as
  distributions, softmax KL per side, as GFL's box bins) plus one offset per bucket, in units of
  the bucket width (MSE over all buckets).
* Guided Anchoring: each location's anchor is a square of the level's size reshaped by the
  network's own shape branch, and the box branch predicts deltas from that anchor, so two
  networks' raw deltas are relative to different anchors. FCFD compares the decoded boxes (as the
  head's ``predict`` decodes them: square -> guided anchor with the shape prediction detached, as
  mmdet does, -> box), relative to the location and in units of the level's stride (MSE), and the
  anchor shape predictions themselves (MSE; both relative to the same square). The anchor-location
  logit is compared by sigmoid KD and scales the row weight, as a quality score.
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np
import torch
from torch import Tensor, nn

from ..common import check_same
from ..registry import HEAD_ADAPTERS
from .quality_dense import NamedDenseHead

_SIGMOID_KD = dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0)
_MSE = dict(type='WeightedMSELoss', loss_weight=1.0)


def square_anchor_strides(head: nn.Module) -> List[int]:
    """The level strides of a head laid out on square anchors and without a ``prior_generator``
    (SABL, Guided Anchoring): its ``square_anchor_generator``'s."""
    return [int(s[0]) if isinstance(s, (tuple, list, np.ndarray)) else int(s)
            for s in head.square_anchor_generator.strides]


@HEAD_ADAPTERS.register_module()
class RepPointsHeadAdapter(NamedDenseHead):
    """RepPoints (``RepPointsDetector`` + ``RepPointsHead``): ``cls`` (C sigmoid logits), ``reg``
    (the refined point set's box ``(x1, y1, x2, y2)`` relative to the location, stride units, from
    the head's own ``points2bbox`` as its eval forward gives it). Rows are weighted by the teacher's
    highest class probability, as RepPoints' ``predict`` ranks boxes."""

    family = 'a RepPoints detector (RepPointsDetector + RepPointsHead: classes, refined point sets as boxes)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)
    head_names = ('RepPointsHead',)
    sigmoid_classes = True

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        for key in ('transform_method', 'num_points', 'use_grid_points'):
            check_same(f'RepPoints {key}', getattr(student_head, key), getattr(teacher_head, key),
                       f'Set bbox_head.{key} identically in both configs (it sets what the point sets mean).')

    def head_maps(self, head: nn.Module, outputs: tuple) -> Dict[str, List[Tensor]]:
        if head.training:  # RepPointsHead.forward_single: (cls, pts_init, pts_refine) in training
            cls_maps, refined = outputs[0], outputs[2]
            boxes = [head.points2bbox(pts) for pts in refined]  # as its eval forward turns them into boxes
        else:  # (cls, points2bbox(pts_refine)) in eval
            cls_maps, boxes = outputs[0], outputs[1]
        return dict(cls=list(cls_maps), reg=list(boxes))

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        raise NotImplementedError('RepPointsHeadAdapter reads the head itself: head_maps')


@HEAD_ADAPTERS.register_module()
class SABLRetinaHeadAdapter(NamedDenseHead):
    """SABL RetinaNet (``RetinaNet`` + ``SABLRetinaHead``): ``cls`` (C sigmoid logits), ``bucket``
    (4 x ``side_num`` bucket logits, a softmax per side as the head's bucketing coder decodes them:
    softmax KL per side) and ``offset`` (4 x ``side_num`` offsets in bucket widths: MSE). Rows
    (one square anchor per location) are weighted by the teacher's highest class probability, as
    SABL's ``predict`` ranks boxes."""

    family = 'a SABL RetinaNet (RetinaNet + SABLRetinaHead: classes, side buckets, bucket offsets)'
    head_names = ('SABLRetinaHead',)
    sigmoid_classes = True

    def __init__(self, student: nn.Module, teacher: nn.Module, anchor_weighting='teacher_score') -> None:
        super().__init__(student, teacher, anchor_weighting)
        self.side_num = int(student.bbox_head.side_num)

    def default_output_losses(self) -> Dict[str, dict]:
        return dict(cls=dict(_SIGMOID_KD),
                    bucket=dict(type='DistributionKLLoss', num_bins=self.side_num, tau=1.0, loss_weight=1.0),
                    offset=dict(_MSE))

    def head_strides(self, model: nn.Module) -> List[int]:
        return square_anchor_strides(model.bbox_head)

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        check_same('SABL num_buckets', student_head.num_buckets, teacher_head.num_buckets,
                   'Set bbox_head.bbox_coder.num_buckets identically in both configs.')

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        cls_scores, bbox_preds = outputs[:2]  # bbox_preds: per level (bucket logits, bucket offsets)
        return dict(cls=list(cls_scores), bucket=[b[0] for b in bbox_preds], offset=[b[1] for b in bbox_preds])


@HEAD_ADAPTERS.register_module()
class GuidedAnchorHeadAdapter(NamedDenseHead):
    """Guided Anchoring (``GARetinaHead``, ``GARPNHead`` on its own, ``GuidedAnchorHead``): ``cls`` (C
    sigmoid logits; 1 objectness logit for GA-RPN), ``reg`` (the decoded box relative to the
    location, ``(x1, y1, x2, y2)`` in stride units), ``shape`` (the 2 anchor shape deltas) and
    ``loc`` (1 anchor-location logit). Rows (one anchor per location) are weighted by
    ``max_c p_c * sigmoid(loc)``: the class probability where the teacher expects an anchor (its
    ``predict`` keeps the locations whose ``sigmoid(loc)`` passes ``loc_filter_thr``). A GA Faster
    R-CNN is distilled at its RoI head (:class:`RoIBoxHeadAdapter`)."""

    family = ('a Guided Anchoring detector (GA-RetinaNet, GA-RPN: classes, boxes from guided anchors, anchor '
              'shapes and locations)')
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE, shape=_MSE, loc=_SIGMOID_KD)
    head_names = ('GuidedAnchorHead', 'GARPNHead', 'GARetinaHead')
    quality_output = 'loc'
    sigmoid_classes = True

    def head_strides(self, model: nn.Module) -> List[int]:
        return square_anchor_strides(model.bbox_head)

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        for name in ('square_anchor_generator', 'anchor_coder', 'bbox_coder'):
            s_part, t_part = getattr(student_head, name), getattr(teacher_head, name)
            s_desc = {k: v for k, v in vars(s_part).items() if not k.startswith('_') and not torch.is_tensor(v)}
            t_desc = {k: v for k, v in vars(t_part).items() if not k.startswith('_') and not torch.is_tensor(v)}
            check_same(f'Guided Anchoring {name}', repr(s_desc), repr(t_desc),
                       f'Set bbox_head.{name} identically in both configs (it sets what the anchors and boxes are).')

    def head_maps(self, head: nn.Module, outputs: tuple) -> Dict[str, List[Tensor]]:
        cls_scores, bbox_preds, shape_preds, loc_preds = outputs[:4]
        boxes = [self.decoded_boxes(head, level, bbox, shape) for level, (bbox, shape)
                 in enumerate(zip(bbox_preds, shape_preds))]
        return dict(cls=list(cls_scores), reg=boxes, shape=list(shape_preds), loc=list(loc_preds))

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        raise NotImplementedError('GuidedAnchorHeadAdapter decodes boxes with the head itself: head_maps')

    def decoded_boxes(self, head: nn.Module, level: int, bbox_pred: Tensor, shape_pred: Tensor) -> Tensor:
        """``(B, 4, H, W)``: the level's boxes as ``head.predict`` decodes them (square anchors ->
        guided anchors with the detached shape prediction, ``GuidedAnchorHead._get_guided_anchors_single``
        -> ``bbox_coder.decode`` of the deltas), minus the location's centre, over the stride."""
        b, _, h, w = bbox_pred.shape
        squares = head.square_anchor_generator.single_level_grid_priors((h, w), level, device=bbox_pred.device)
        squares = squares.to(bbox_pred.dtype).repeat(b, 1)  # (B * H * W, 4), one square per location
        shape = shape_pred.detach().permute(0, 2, 3, 1).reshape(-1, 2)
        anchors = head.anchor_coder.decode(squares, torch.cat([torch.zeros_like(shape), shape], 1),
                                           wh_ratio_clip=1e-6)
        boxes = head.bbox_coder.decode(anchors, bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4))
        centres = ((squares[:, :2] + squares[:, 2:]) / 2).repeat(1, 2)
        rel = (boxes - centres) / self.strides[level]
        return rel.view(b, h, w, 4).permute(0, 3, 1, 2)


__all__ = ['RepPointsHeadAdapter', 'SABLRetinaHeadAdapter', 'GuidedAnchorHeadAdapter', 'square_anchor_strides']
