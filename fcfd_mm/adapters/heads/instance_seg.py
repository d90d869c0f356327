"""The detection part of one-stage instance-segmentation families (``SingleStageInstanceSegmentor``):
CondInst / BoxInst and YOLACT (their box heads), SOLO / SOLOv2 (their category grid). The plugin's
own extension of FCFD's dense-head form (docs/families.md).

What is distilled, and what is not:

* CondInst / BoxInst: the FCOS box head (``cls``, ``reg`` in stride units, ``centerness``), as the
  FCOS adapter does. Its fourth output, the parameters of each location's dynamic mask filters,
  is not distilled: they are weights of a small network applied to the mask branch's features.
* YOLACT: ``cls`` (C + 1 softmax logits per anchor, background last: softmax KL, as SSD's) and
  ``reg`` (4 box deltas per anchor: MSE), 3 anchors per location. Its mask coefficients are not
  distilled: they are coordinates in the basis of prototype masks that the protonet computes.
* SOLO / SOLOv2 / decoupled SOLO: ``cls``, the C sigmoid logits of every cell of each level's S x S
  category grid (rows: grid cells, not feature-map locations), per-class sigmoid KD. In eval mode
  SOLO's and decoupled SOLO's forward already returns the grid's probabilities after their
  local-maximum filter: FCFD takes them back to logits (probabilities clamped to
  ``[1e-6, 1 - 1e-6]``, so a filtered cell has a large negative logit). The masks of each cell
  (SOLO: S^2 full-resolution maps per level; SOLOv2: dynamic kernels) are not distilled.
  SOLO's predictions carry empty boxes (mmdet fills them with zeros), so the hybrid *box* mAP of
  FCFDValLoop says nothing for SOLO; its mask mAP does.

Mask branches keep their own training: the detector's loss trains them as before. Every adapter's
``predict_on_features`` is ``SingleStageInstanceSegmentor.predict`` after ``extract_feat`` (boxes,
then masks from the results, as the detector does).
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..common import check_same
from ..registry import HEAD_ADAPTERS
from .anchor_free import FCOSHeadAdapter
from .dense_base import DenseHeadBase
from .quality_dense import EPS, SoftmaxClassesHead

__all__ = ['InstanceSegmentorHead', 'CondInstHeadAdapter', 'YOLACTHeadAdapter', 'SOLOHeadAdapter']


class InstanceSegmentorHead(DenseHeadBase):
    """A dense head of a ``SingleStageInstanceSegmentor``: served detectors and the prediction
    (boxes and masks, as the detector predicts)."""

    @classmethod
    def detector_types(cls) -> Tuple[type, ...]:
        from mmdet.models.detectors.single_stage_instance_seg import SingleStageInstanceSegmentor
        return (SingleStageInstanceSegmentor,)

    def predict_on_features(self, model: nn.Module, feats: Sequence[Tensor], data_samples: list) -> list:
        """``SingleStageInstanceSegmentor.predict`` after ``extract_feat``."""
        feats = tuple(feats)
        results = None
        if model.with_bbox:  # boxes stay in the network's input space until the mask head rescales them
            results = model.bbox_head.predict(feats, data_samples, rescale=not model.with_mask)
        results = model.mask_head.predict(feats, data_samples, rescale=True, results_list=results)
        return model.add_pred_to_datasample(data_samples, results)


@HEAD_ADAPTERS.register_module()
class CondInstHeadAdapter(InstanceSegmentorHead, FCOSHeadAdapter):
    """CondInst and BoxInst (``CondInstBboxHead`` / ``BoxInstBboxHead``, FCOS heads): the FCOS
    adapter's ``cls``, ``reg`` (stride units) and ``centerness``, rows weighted by
    ``max_c p_c * sigmoid(centerness)``; the dynamic mask-filter parameters are not distilled."""

    family = ('the box head of CondInst / BoxInst (CondInst / BoxInst + CondInstBboxHead / BoxInstBboxHead: '
              'classes, distances, centerness)')

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models.dense_heads import BoxInstBboxHead, CondInstBboxHead
        return (CondInstBboxHead, BoxInstBboxHead)


@HEAD_ADAPTERS.register_module()
class YOLACTHeadAdapter(InstanceSegmentorHead, SoftmaxClassesHead):
    """YOLACT (``YOLACTHead``): ``cls`` (C + 1 softmax logits per anchor, background last) and ``reg``
    (4 box deltas per anchor), 3 anchors per location; rows weighted by the teacher's highest
    foreground softmax probability, as YOLACT's ``predict`` ranks boxes. The mask coefficients
    (the head's third output) are not distilled."""

    family = 'the box head of YOLACT (YOLACT + YOLACTHead: softmax classes, box deltas per anchor)'
    outputs = ('cls', 'reg', None)
    head_names = ('YOLACTHead',)

    @classmethod
    def head_ok(cls, head: nn.Module) -> bool:
        return not getattr(head, 'use_sigmoid_cls', False)  # the softmax classes it is configured with

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        check_same('YOLACT anchors per location', student_head.num_base_priors, teacher_head.num_base_priors,
                   'Use the same anchor_generator in both configs.')


@HEAD_ADAPTERS.register_module()
class SOLOHeadAdapter(InstanceSegmentorHead):
    """SOLO, SOLOv2 and decoupled SOLO (``SOLOHead``, ``SOLOV2Head``, ``DecoupledSOLOHead``,
    ``DecoupledSOLOLightHead``, the detector's ``mask_head``): ``cls``, C sigmoid logits per cell of
    each level's category grid; rows are the grid cells of every level, weighted by the teacher's
    highest class probability, as SOLO's ``predict`` ranks cells. Masks and kernels are not distilled."""

    family = ('the category grid of SOLO / SOLOv2 (SOLO / SOLOv2 + SOLOHead / SOLOV2Head / DecoupledSOLOHead / '
              'DecoupledSOLOLightHead: per-cell classes)')
    output_losses = dict(cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0))
    head_attr = 'mask_head'
    #: head class name -> position of the category grid in its forward tuple
    CLS_POSITION = dict(SOLOHead=1, SOLOV2Head=1, DecoupledSOLOHead=2, DecoupledSOLOLightHead=2)
    #: heads whose eval forward returns probabilities after the local-maximum filter
    EVAL_PROBABILITIES = ('SOLOHead', 'DecoupledSOLOHead', 'DecoupledSOLOLightHead')

    def __init__(self, student: nn.Module, teacher: nn.Module, anchor_weighting='teacher_score') -> None:
        super().__init__(student, teacher, anchor_weighting)
        self.head_name = type(self.dense_head(student)).__name__

    @classmethod
    def head_types(cls) -> Tuple[type, ...]:
        from mmdet.models import dense_heads
        return tuple(getattr(dense_heads, name) for name in cls.CLS_POSITION)

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        check_same('SOLO head type', type(student_head).__name__, type(teacher_head).__name__,
                   'Use the same mask_head type in both configs (their outputs differ).')
        check_same('SOLO num_grids', list(student_head.num_grids), list(teacher_head.num_grids),
                   'Set mask_head.num_grids identically in both configs: FCFD compares the grids cell by cell.')

    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        grids = list(outputs[self.CLS_POSITION[self.head_name]])
        if not training and self.head_name in self.EVAL_PROBABILITIES:
            grids = [torch.logit(p, eps=EPS) for p in grids]
        return dict(cls=grids)
