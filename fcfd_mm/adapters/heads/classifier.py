"""Image classifiers (mmpretrain ``ImageClassifier`` with a staged backbone): the general FCFD
form (docs/method.md, "Loss terms at the stage switch points"). The head is neck (ReLU + global
average pooling) + linear classifier; outputs ``{'cls': (B, num_classes)}``. The temperature of
the KL output loss is the output-loss config's ``tau`` (``fcfd.stages.output_losses.cls.tau``).
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor, nn

from ..common import HeadContext, HeadOutputs, check_same
from ..registry import HEAD_ADAPTERS
from .base import HeadAdapter

#: KL temperature when the config gives no output_losses (CIFAR-100 pairs use 4 or 8, ImageNet 1)
DEFAULT_TAU = 4.0


@HEAD_ADAPTERS.register_module()
class ClassifierHeadAdapter(HeadAdapter):
    """mmpretrain ``ImageClassifier`` whose backbone is a ``fcfd_mm.models.StagedBackbone``."""

    family = ('an mmpretrain ImageClassifier with a staged backbone of fcfd_mm.models (e.g. RepCifarResNet, '
              'StagedResNet)')
    switch_points = ('stages',)
    default_switch_points = ('stages',)
    reads_pooled_last = True

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        try:
            from mmpretrain.models.classifiers import ImageClassifier
        except ImportError:  # classification is optional (requirements/classification.txt)
            return False
        from ...models.staged import StagedBackbone
        return isinstance(model, ImageClassifier) and isinstance(getattr(model, 'backbone', None), StagedBackbone)

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        check_same('number of classes', student.head.num_classes, teacher.head.num_classes,
                   'Both classifiers must predict the same classes.')

    def default_output_losses(self) -> Dict[str, dict]:
        return dict(cls=dict(type='KLDivergence', tau=DEFAULT_TAU, loss_weight=1.0, reduction='batchmean'))

    def student_recorders(self) -> Dict[str, dict]:
        return dict(head=dict(type='ModuleOutputs', source='head'))

    def student_outputs(self, records: RecorderManager, context: Optional[HeadContext]) -> HeadOutputs:
        return dict(cls=records.get_recorder('head').get_record_data(0))

    def neck_features(self, model: nn.Module, positions: Sequence[Optional[Tensor]]) -> Tuple[()]:
        """None: there is no FPN switch point; the neck (GAP) is part of what the head runs."""
        return ()

    def head_features(self, positions: Sequence[Optional[Tensor]], neck: Sequence[Tensor]) -> Sequence[Tensor]:
        """The backbone positions: the neck (GAP) reads the last, the classifier the pooled vector."""
        return positions

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: Optional[HeadContext]) -> HeadOutputs:
        return dict(cls=model.head(model.neck(tuple(feats))))

    def predict_on_features(self, model: nn.Module, feats: Sequence[Tensor], data_samples: list) -> list:
        """``ImageClassifier.predict`` after its backbone: the neck (GAP) and the classifier head of
        ``model`` on ``feats`` (its backbone positions)."""
        return model.head.predict(model.neck(tuple(feats)), data_samples)
