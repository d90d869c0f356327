"""Dense heads whose outputs are the classes, a box branch and at most one quality score, in a
fixed order of the forward tuple (the plugin's own extension of FCFD's dense-head form,
docs/families.md): DDOD, PAA, TOOD, VarifocalNet, AutoAssign, FoveaBox, CenterNet-Update, the earlier
CenterNet, CornerNet and CentripetalNet, YOLOv3, SSD and RPN on its own.

Each adapter follows the closest existing one (ATSS for DDOD / PAA / TOOD, FCOS for VarifocalNet /
AutoAssign / CenterNet-Update, RetinaNet for FoveaBox / SSD / RPN, YOLOX for YOLOv3) and states, in
:class:`NamedDenseHead`'s declarative form,

* ``outputs``: the name of each position of the head's forward tuple; ``cls`` are per-class
  sigmoid logits (per-class sigmoid KD; SSD's softmax logits: softmax KL), ``reg`` the box branch
  (MSE), a quality score (IoU, centerness / objectness) one sigmoid logit per location (sigmoid KD);
* ``per_stride``: the outputs in input pixels, divided by the level's stride so that every level's
  rows have the same scale (box distances as FCOS's adapter does);
* :attr:`~DenseHeadBase.quality_output`: the output whose sigmoid multiplies the teacher's highest
  class probability in the row weights, as the head's ``predict`` ranks boxes.

Rows are the head's locations x priors of all levels it reads (one prior per location but for
YOLOv3's and RPN's 3 anchors and SSD's 4 or 6 by level). YOLOv3's and SSD's necks have different channels on
each level: each level's bridges map its own channels.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

from ..common import check_same, neck_level_strides
from ..registry import HEAD_ADAPTERS
from .dense_base import DenseHeadBase

_SIGMOID_KD = dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0)
_MSE = dict(type='WeightedMSELoss', loss_weight=1.0)
#: probabilities are clamped to [EPS, 1 - EPS] before their logit is taken (TOOD's joint scores)
EPS = 1e-6


class NamedDenseHead(DenseHeadBase):
    """A dense head whose forward tuple is ``outputs`` (names by position), per level
    ``(B, A * width, H, W)``; the maps named in ``per_stride`` are divided by the level's stride."""

    #: the name of each position of the head's forward tuple (``None``: not distilled)
    outputs: Tuple[str, ...] = ('cls', 'reg')
    #: outputs in input pixels, divided by the level's stride
    per_stride: Tuple[str, ...] = ()
    #: the exact head classes, by name in ``mmdet.models.dense_heads``
    head_names: Tuple[str, ...] = ()

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models import dense_heads
        return tuple(getattr(dense_heads, name) for name in cls.head_names)

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        maps = {}
        for name, per_level in zip(self.outputs, outputs):
            if name is None:
                continue
            per_level = list(per_level)
            if name in self.per_stride:
                per_level = [m / s for m, s in zip(per_level, self.strides)]
            maps[name] = per_level
        return maps


@HEAD_ADAPTERS.register_module()
class DDODHeadAdapter(NamedDenseHead):
    """DDOD (``DDODHead``): ``cls`` (C sigmoid logits), ``reg`` (4 box deltas per anchor), ``iou`` (1
    sigmoid logit of the predicted IoU). Rows are weighted as DDOD's ``predict`` ranks boxes:
    ``max_c p_c * sigmoid(iou)``."""

    family = 'a DDOD detector (SingleStageDetector + DDODHead: classes, box deltas, IoU)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE, iou=_SIGMOID_KD)
    outputs = ('cls', 'reg', 'iou')
    head_names = ('DDODHead',)
    quality_output = 'iou'
    sigmoid_classes = True


@HEAD_ADAPTERS.register_module()
class PAAHeadAdapter(DDODHeadAdapter):
    """PAA (``PAAHead``, an ATSS head): DDOD's outputs (``cls``, ``reg``, ``iou``), but rows are
    weighted as PAA's ``predict`` ranks boxes: ``sqrt(max_c p_c * sigmoid(iou))``."""

    family = 'a PAA detector (SingleStageDetector + PAAHead: classes, box deltas, IoU)'
    head_names = ('PAAHead',)

    def teacher_score(self, teacher_outputs: Dict[str, Tensor]) -> Tensor:
        # PAAHead._predict_by_feat_single: (scores * score_factor).sqrt()
        return super().teacher_score(teacher_outputs).sqrt()


@HEAD_ADAPTERS.register_module()
class TOODHeadAdapter(NamedDenseHead):
    """TOOD (``TOODHead``): ``cls`` and ``reg`` from the task-aligned head.

    TOOD's forward returns class *probabilities* (the geometric mean of two sigmoids), which
    FCFD turns back into logits (``logit(p)``, ``p`` clamped to ``[1e-6, 1 - 1e-6]``) so that the
    per-class sigmoid KD compares the same Bernoulli distributions TOOD's ``predict`` scores with;
    its boxes are decoded ``(x1, y1, x2, y2)`` in units of the level's stride, compared by MSE (the
    location's prior cancels in the difference). Rows are weighted by the teacher's highest class
    probability, as TOOD's ``predict`` ranks boxes."""

    family = 'a TOOD detector (SingleStageDetector + TOODHead: aligned class scores, boxes per stride)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)
    head_names = ('TOODHead',)
    sigmoid_classes = True

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        check_same('TOOD anchor_type', student_head.anchor_type, teacher_head.anchor_type,
                   'Set bbox_head.anchor_type identically in both configs.')

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        maps = super().level_maps(outputs, training)
        maps['cls'] = [torch.logit(p, eps=EPS) for p in maps['cls']]
        return maps


@HEAD_ADAPTERS.register_module()
class VFNetHeadAdapter(NamedDenseHead):
    """VarifocalNet (``VFNetHead``): ``cls`` (C sigmoid logits of the IoU-aware class score), ``reg``
    (the refined distances to the 4 sides, stride units: the box ``predict`` uses). The initial
    distances, which the head returns in training only, are not distilled. Rows are weighted by the
    teacher's highest class probability, as VFNet's ``predict`` ranks boxes."""

    family = 'a VarifocalNet detector (VFNet + VFNetHead: IoU-aware classes, refined distances)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)
    head_names = ('VFNetHead',)
    per_stride = ('reg',)
    sigmoid_classes = True

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        # VFNetHead.forward_single: (cls, bbox_pred, bbox_pred_refine) in training, (cls, refine) in eval
        return super().level_maps((outputs[0], outputs[-1]), training)


@HEAD_ADAPTERS.register_module()
class AutoAssignHeadAdapter(NamedDenseHead):
    """AutoAssign (``AutoAssignHead``, an FCOS head): ``cls`` (C), ``reg`` (4 distances; the head
    gives pixels in both modes, FCFD stride units), ``centerness`` (1, AutoAssign's objectness).
    Rows are weighted as its ``predict`` (FCOS's) ranks boxes: ``max_c p_c * sigmoid(centerness)``."""

    family = 'an AutoAssign detector (AutoAssign + AutoAssignHead: classes, distances, objectness)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE, centerness=_SIGMOID_KD)
    outputs = ('cls', 'reg', 'centerness')
    head_names = ('AutoAssignHead',)
    per_stride = ('reg',)
    quality_output = 'centerness'


@HEAD_ADAPTERS.register_module()
class FoveaHeadAdapter(NamedDenseHead):
    """FoveaBox (``FoveaHead``): ``cls`` (C sigmoid logits), ``reg`` (4 log-space box offsets,
    normalised by the level's base edge, so already scale-free). Rows are weighted by the teacher's
    highest class probability, as FoveaBox's ``predict`` ranks boxes."""

    family = 'a FoveaBox detector (FOVEA + FoveaHead: classes, log-space box offsets)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)
    head_names = ('FoveaHead',)

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        check_same('FoveaBox base_edge_list', list(student_head.base_edge_list), list(teacher_head.base_edge_list),
                   'Set bbox_head.base_edge_list identically in both configs (it sets the scale of the box offsets).')


@HEAD_ADAPTERS.register_module()
class CenterNetUpdateHeadAdapter(NamedDenseHead):
    """CenterNet-Update (``CenterNetUpdateHead``, an FCOS-style head): ``cls`` (C sigmoid logits),
    ``reg`` (4 distances in stride units: the head gives them so in training and in pixels in eval,
    FCFD divides those by the stride). Rows are weighted by the teacher's highest class
    probability, as its ``predict`` ranks boxes."""

    family = 'a CenterNet-Update detector (CenterNet + CenterNetUpdateHead: classes, distances)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)
    head_names = ('CenterNetUpdateHead',)

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        maps = super().level_maps(outputs, training)
        if not training:  # CenterNetUpdateHead.forward_single: bbox_pred *= stride in eval mode only
            maps['reg'] = [m / s for m, s in zip(maps['reg'], self.strides)]
        return maps


@HEAD_ADAPTERS.register_module()
class CenterNetHeadAdapter(NamedDenseHead):
    """CenterNet, the earlier one (``CenterNetHead`` on the one stride-4 map of ``CTResNetNeck``):
    ``cls`` (the C centre-heatmap probabilities, which the head's forward returns after its sigmoid;
    FCFD takes them back to logits, as TOOD's, for the per-class sigmoid KD), ``reg`` (2 box sizes
    and 2 centre offsets, in output-map units as the head predicts them: MSE). Rows are the map's
    locations, weighted by the teacher's highest heatmap probability, as its ``predict`` ranks the
    heatmap's peaks. The head has no prior generator: the map's stride is read from the neck (a dry
    run)."""

    family = 'a CenterNet detector (CenterNet + CenterNetHead: centre heatmaps, box sizes, offsets)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)
    head_names = ('CenterNetHead',)

    def head_strides(self, model: nn.Module) -> List[int]:
        return neck_level_strides(model)[:1]  # CenterNetHead reads the neck's first (only) map

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        heatmaps, sizes, offsets = outputs
        return dict(cls=[torch.logit(p, eps=EPS) for p in heatmaps],
                    reg=[torch.cat([wh, off], dim=1) for wh, off in zip(sizes, offsets)])


@HEAD_ADAPTERS.register_module()
class CornerHeadAdapter(NamedDenseHead):
    """CornerNet (``CornerHead`` on the hourglass stacks' outputs; the detector has no neck, so the
    switch point is the backbone's outputs, one level per stack): ``cls`` (the top-left and the
    bottom-right corner heatmaps, 2 x C sigmoid logits: per-class sigmoid KD), ``reg`` (the two
    corners' sub-pixel offsets, 4, output-map units: MSE). Rows are the locations of every stack's
    map (the head trains each; its ``predict`` reads the last), weighted by the teacher's highest
    corner probability there. The associative embeddings are not distilled: only their distances
    within one network's image group its corners, so their values are not comparable between two
    networks. The map's stride is read from the backbone (a dry run)."""

    family = ('a CornerNet detector (CornerNet + CornerHead on an hourglass backbone: corner heatmaps, offsets; '
              'embeddings not distilled)')
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)
    head_names = ('CornerHead',)

    def head_strides(self, model: nn.Module) -> List[int]:
        return neck_level_strides(model)[:int(model.bbox_head.num_feat_levels)]

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        tl_heats, br_heats, _, _, tl_offs, br_offs = outputs[:6]  # embeddings (positions 2, 3) left out
        return dict(cls=[torch.cat(pair, 1) for pair in zip(tl_heats, br_heats)],
                    reg=[torch.cat(pair, 1) for pair in zip(tl_offs, br_offs)])


@HEAD_ADAPTERS.register_module()
class CentripetalHeadAdapter(CornerHeadAdapter):
    """CentripetalNet (``CentripetalHead``, a CornerNet head without embeddings): CornerNet's ``cls``
    and ``reg``, and ``shift``: the two corners' guiding and centripetal shifts (8, output-map units
    as the head predicts them: MSE), which pair its corners in place of embeddings."""

    family = ('a CentripetalNet detector (CornerNet + CentripetalHead: corner heatmaps, offsets, guiding and '
              'centripetal shifts)')
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE, shift=_MSE)
    head_names = ('CentripetalHead',)

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        tl_heats, br_heats, tl_offs, br_offs, tl_guiding, br_guiding, tl_centripetal, br_centripetal = outputs[:8]
        return dict(cls=[torch.cat(pair, 1) for pair in zip(tl_heats, br_heats)],
                    reg=[torch.cat(pair, 1) for pair in zip(tl_offs, br_offs)],
                    shift=[torch.cat(maps, 1) for maps in zip(tl_guiding, br_guiding, tl_centripetal, br_centripetal)])


@HEAD_ADAPTERS.register_module()
class RPNHeadAdapter(NamedDenseHead):
    """A region proposal network on its own (``RPN`` + ``RPNHead``): ``cls`` (1 sigmoid objectness
    logit per anchor), ``reg`` (4 box deltas per anchor). Rows (anchors) are weighted by the
    teacher's objectness probability, as its ``predict`` ranks proposals. (An RPN inside a two-stage
    detector is distilled through that detector's RoI head adapter.)"""

    family = 'a region proposal network (RPN + RPNHead: objectness, box deltas)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE)
    head_names = ('RPNHead',)
    sigmoid_classes = True


@HEAD_ADAPTERS.register_module()
class YOLOV3HeadAdapter(NamedDenseHead):
    """YOLOv3 (``YOLOV3Head``): one map per level with ``(x, y, w, h, objectness, C classes)`` per
    anchor, split into ``reg`` (the raw offsets and log sizes, per stride: MSE), ``obj`` (1 sigmoid
    logit) and ``cls`` (C sigmoid logits). Rows (anchors) are weighted as its ``predict`` ranks
    boxes: ``max_c p_c * sigmoid(obj)``."""

    family = 'a YOLOv3 detector (YOLOV3 + YOLOV3Neck + YOLOV3Head: boxes, objectness, classes per anchor)'
    output_losses = dict(cls=_SIGMOID_KD, reg=_MSE, obj=_SIGMOID_KD)
    head_names = ('YOLOV3Head',)
    quality_output = 'obj'

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        maps: Dict[str, List[Tensor]] = dict(cls=[], reg=[], obj=[])
        for pred in outputs[0]:  # (B, A * (5 + C), H, W), anchor-major as YOLOV3Head.predict_by_feat reads it
            b, _, h, w = pred.shape
            per_anchor = pred.view(b, self.num_priors, -1, h, w)
            for name, part in (('reg', per_anchor[:, :, :4]), ('obj', per_anchor[:, :, 4:5]),
                               ('cls', per_anchor[:, :, 5:])):
                maps[name].append(part.reshape(b, -1, h, w))
        return maps


class SoftmaxClassesHead(NamedDenseHead):
    """A dense head scoring ``C + 1`` *softmax* classes per prior, background last (SSD, YOLACT):
    ``cls`` compared as distributions (softmax KL, ``DistributionKLLoss`` over one group of C + 1
    classes), ``reg`` by MSE; rows weighted by the teacher's highest foreground softmax probability,
    as such heads' ``predict`` ranks boxes."""

    def default_output_losses(self) -> Dict[str, dict]:
        return dict(cls=dict(type='DistributionKLLoss', num_bins=self.num_classes + 1, tau=1.0, loss_weight=1.0),
                    reg=dict(_MSE))

    def teacher_score(self, teacher_outputs: Dict[str, Tensor]) -> Tensor:
        # the softmax's last class is the background
        return teacher_outputs['cls'].detach().softmax(dim=1)[:, :-1].max(dim=1).values


@HEAD_ADAPTERS.register_module()
class SSDHeadAdapter(SoftmaxClassesHead):
    """SSD and SSDLite (``SSDHead``): ``cls`` (C + 1 *softmax* logits per anchor, background last:
    softmax KL, ``DistributionKLLoss`` over one group of C + 1 classes) and ``reg`` (4 box deltas:
    MSE); 4 or 6 anchors per location, by level. Rows (anchors) are weighted by the teacher's
    highest foreground softmax probability, as SSD's ``predict`` ranks boxes."""

    family = 'an SSD detector (SingleStageDetector + SSDNeck + SSDHead: softmax classes, box deltas)'
    head_names = ('SSDHead',)

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        check_same('SSD anchors per location, by level', list(student_head.num_base_priors),
                   list(teacher_head.num_base_priors), 'Use the same anchor_generator in both configs.')
