"""Image classifiers (mmpretrain ``ImageClassifier`` with a :class:`StagedBackbone`): the general
FCFD form of spec §1. Positions are the backbone's stage outputs; the head is
neck (ReLU + global average pooling) + linear classifier; outputs ``{'cls': (B, num_classes)}``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from torch import Tensor, nn

from .base import FCFDTail, HeadOutputs, UnsupportedModelError, check_same


class ImageClassifierTail(FCFDTail):
    """mmpretrain ``ImageClassifier`` whose backbone is a ``fcfd_mm.models.StagedBackbone``.

    Args:
        tau: default temperature of the KL output losses (per-pair, spec §2.3).
        probe_size: input side used to read the position shapes (32 for CIFAR, 224 for ImageNet).
    """

    has_neck_switch = False

    def __init__(self, student: nn.Module, teacher: nn.Module, tau: float = 4.0, probe_size: int = 32) -> None:
        self.tau = float(tau)
        self.probe_size = int(probe_size)
        super().__init__(student, teacher)

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        try:
            from mmpretrain.models.classifiers import ImageClassifier
        except ImportError:  # pragma: no cover - mmpretrain is part of the pinned stack
            return False
        from ..models.staged import StagedBackbone
        return isinstance(model, ImageClassifier) and isinstance(getattr(model, 'backbone', None), StagedBackbone)

    def check_pair(self, student: nn.Module, teacher: nn.Module) -> None:
        for role, model in (('student', student), ('teacher', teacher)):
            if not self.supports(model):
                raise UnsupportedModelError(
                    f'ImageClassifierTail: the {role} ({type(model).__name__} with '
                    f'{type(getattr(model, "backbone", None)).__name__}) is not an mmpretrain ImageClassifier with a '
                    f'staged backbone (fcfd_mm.models, e.g. RepCifarResNet, StagedResNet).')
        check_same('number of classes', student.head.num_classes, teacher.head.num_classes,
                   'Both classifiers must predict the same classes.')

    def check_stages(self, model: nn.Module, role: str) -> None:
        return None  # StagedBackbone is built for it

    def default_output_losses(self) -> Dict[str, dict]:
        return dict(cls=dict(type='KLDivergence', tau=self.tau, loss_weight=1.0, reduction='batchmean'))

    def default_paths(self) -> Tuple[str, ...]:
        return ()

    def student_recorders(self) -> Dict[str, dict]:
        return dict(head=dict(type='ModuleOutputs', source='head'))

    def student_outputs(self, records, context: Any) -> HeadOutputs:
        return dict(cls=records.get_recorder('head').get_record_data(0))

    def teacher_forward(self, teacher: nn.Module, batch_inputs: Tensor):
        return tuple(teacher.backbone(batch_inputs)), ()

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: Any) -> HeadOutputs:
        return dict(cls=model.head(model.neck(tuple(feats))))

    def max_switch(self, num_positions: int) -> int:
        return num_positions - 1  # spec §1.1: no switch after position N

    def neck_reads(self, model: nn.Module) -> Optional[List[int]]:
        return None

    def receives_post_relu(self, model: nn.Module) -> bool:
        return bool(model.backbone.receives_post_relu)

    def run_stages_from(self, model: nn.Module, k: int, h: Tensor) -> List[Tensor]:
        return list(model.backbone.forward_from(k, h))

    def run_from_stage(self, model: nn.Module, k: int, bridged: Dict[int, Tensor],
                       context: Any) -> Tuple[List[Tensor], List[Tensor], HeadOutputs]:
        later = self.run_stages_from(model, k, bridged[k])
        return later, [], self.run_head(model, later or [bridged[k]], context)
