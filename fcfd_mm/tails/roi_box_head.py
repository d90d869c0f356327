"""Two-stage detectors (Faster R-CNN): FCFD's function consistency at the RoI box head (spec §3.2).

The box head (RoIAlign on P2-P5 -> shared FCs -> cls / reg predictors) runs on the RoIs the
*student's* RoI head sampled in its loss pass (recorded, so the RoIs are the same ones the
student's detection loss used). Outputs per RoI: class logits ``(N_roi, num_classes + 1)`` and
class-specific box deltas ``(N_roi, 4 * num_classes)``.
"""
from __future__ import annotations

from typing import Any, Dict, Sequence

from torch import Tensor, nn

from .base import FCFDTail, HeadOutputs, UnsupportedModelError, _num_classes, check_same
from .detector_stages import DetectorStagesMixin


class RoIBoxHeadTail(DetectorStagesMixin, FCFDTail):
    """Faster R-CNN style detectors: ``TwoStageDetector`` + FPN + ``StandardRoIHead`` with a box head."""

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        from mmdet.models.detectors import TwoStageDetector
        from mmdet.models.roi_heads import StandardRoIHead
        roi_head = getattr(model, 'roi_head', None)
        # Cascade / HTC heads subclass StandardRoIHead's siblings but run several box heads.
        return (isinstance(model, TwoStageDetector) and type(roi_head) is StandardRoIHead
                and getattr(roi_head, 'with_bbox', False))

    def check_pair(self, student: nn.Module, teacher: nn.Module) -> None:
        for role, model in (('student', student), ('teacher', teacher)):
            if not self.supports(model):
                raise UnsupportedModelError(
                    f'RoIBoxHeadTail: the {role} ({type(model).__name__}) is not a two-stage detector with an '
                    'FPN neck and a StandardRoIHead (Faster R-CNN). Use a Faster R-CNN config, or '
                    'fcfd.tail=dict(type=\'DenseHeadTail\') for RetinaNet-style detectors.')
        self.neck_channels(student), self.neck_channels(teacher)
        check_same('number of classes', _num_classes(student.roi_head.bbox_head),
                   _num_classes(teacher.roi_head.bbox_head),
                   'FCFD matches class logits, so both detectors must be trained on the same classes.')
        check_same('box-regression layout (reg_class_agnostic)', student.roi_head.bbox_head.reg_class_agnostic,
                   teacher.roi_head.bbox_head.reg_class_agnostic,
                   'Set roi_head.bbox_head.reg_class_agnostic identically in both configs.')
        check_same('number of RoI-extractor input levels', student.roi_head.bbox_roi_extractor.num_inputs,
                   teacher.roi_head.bbox_roi_extractor.num_inputs,
                   'Use the same roi_head.bbox_roi_extractor.featmap_strides in both configs.')

    def default_output_losses(self) -> Dict[str, dict]:
        # spec §3.2: KL at T=1 on the (num_classes + 1)-way logits, batch mean over RoIs;
        # MSE over all elements of the class-specific deltas. Both exist in MMRazor.
        return dict(cls=dict(type='KLDivergence', tau=1.0, loss_weight=1.0, reduction='batchmean'),
                    reg=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0))

    def head_levels(self, model: nn.Module) -> int:
        return int(model.roi_head.bbox_roi_extractor.num_inputs)  # P2-P5 of P2-P6

    def student_recorders(self) -> Dict[str, dict]:
        return dict(
            neck=dict(type='ModuleOutputs', source='neck'),
            # inputs of the RoI extractor = (FPN tuple, rois (N, 5) [batch_idx, x1, y1, x2, y2])
            roi_extractor=dict(type='ModuleInputs', source='roi_head.bbox_roi_extractor'),
            # outputs of the box head = (cls_score, bbox_pred) on those rois
            box_head=dict(type='ModuleOutputs', source='roi_head.bbox_head'))

    def head_context(self, records) -> Tensor:
        recorder = records.get_recorder('roi_extractor')
        if len(recorder.data_buffer) != 1:
            raise RuntimeError(f'RoIBoxHeadTail expected the student RoI head to run its box RoI extractor once '
                               f'per loss pass, saw {len(recorder.data_buffer)} calls.')
        return recorder.get_record_data(0, 1).detach()  # rois: proposals carry no gradient in mmdet

    def student_outputs(self, records, context: Any) -> HeadOutputs:
        cls_score, bbox_pred = records.get_recorder('box_head').get_record_data(0)
        return dict(cls=cls_score, reg=bbox_pred)

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: Tensor) -> HeadOutputs:
        out = model.roi_head._bbox_forward(tuple(feats), context)
        return dict(cls=out['cls_score'], reg=out['bbox_pred'])
