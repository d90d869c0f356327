"""The stage-cutter interface: where FCFD cuts one backbone family at its stage boundaries.

Stage switch points (docs/method.md, "Switch points" and "Loss terms at the stage switch points")
are positions ``1..N``, the outputs of the backbone's stages. Per backbone family FCFD needs: the
position shapes (probed once), a check that the backbone can be cut, how to run it *after*
position ``k`` on (bridged) features, which positions the part after the backbone reads, whether
its stages take post-ReLU inputs, and the last position a hybrid path may switch at.

A cutter is built for one model (student or teacher: the two may be of different families,
e.g. a ResNet teacher and a MobileNetV2 student). The defaults here are those of a detector
backbone followed by an FPN.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Tuple

import torch
from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor, nn


class StageCutter(metaclass=ABCMeta):
    """Cuts one model's backbone at its stage boundaries.

    Args:
        probe_size: input side used to probe the position shapes (channels, resolution ratios);
            64 suits detectors, 32 CIFAR and 224 ImageNet classifiers.
    """

    def __init__(self, probe_size: int = 64) -> None:
        self.probe_size = int(probe_size)

    @classmethod
    @abstractmethod
    def supports(cls, model: nn.Module) -> bool:
        """True if this cutter can cut ``model``'s backbone."""

    @abstractmethod
    def check(self, model: nn.Module, role: str) -> None:
        """Raise :class:`~fcfd_mm.adapters.UnsupportedModelError` if ``model``'s backbone cannot
        be run from a stage boundary as configured (``role``: 'student' / 'teacher', for the message)."""

    @abstractmethod
    def run_from(self, model: nn.Module, k: int, h: Tensor) -> List[Tensor]:
        """Run ``model``'s backbone after position ``k`` on ``h`` (a position-``k`` feature):
        returns the position features ``k+1..N``."""

    def recorders(self) -> Dict[str, dict]:
        """MMRazor recorder of the (student's) backbone outputs: the position features."""
        return dict(backbone=dict(type='ModuleOutputs', source='backbone'))

    def recorded_positions(self, records: RecorderManager) -> Tuple[Tensor, ...]:
        """The student's position features ``1..N`` recorded in its loss pass (with graph)."""
        return tuple(records.get_recorder('backbone').get_record_data(0))

    def _probe(self, model: nn.Module) -> List[Tensor]:
        """``model``'s position features for a zero ``probe_size`` square input, its backbone in eval
        mode (no running statistics change) and then back in its previous mode."""
        backbone = model.backbone
        was_training = backbone.training
        backbone.eval()
        try:
            return list(backbone(torch.zeros(1, 3, self.probe_size, self.probe_size)))
        finally:
            backbone.train(was_training)

    @torch.no_grad()
    def probe_positions(self, model: nn.Module) -> List[Tuple[int, int, int]]:
        """``(C, H, W)`` of each position feature for a ``probe_size`` square input (eval mode)."""
        return [tuple(o.shape[1:]) for o in self._probe(model)]

    @torch.enable_grad()
    def frozen_positions(self, model: nn.Module) -> List[int]:
        """Positions (1-based) whose features no trainable parameter of ``model``'s backbone
        produces, e.g. 1 under mmdet's ``frozen_stages=1`` (stem and stage 1 frozen): found by a
        probe with autograd on (eval mode, so no running statistics change)."""
        return [i + 1 for i, o in enumerate(self._probe(model)) if not o.requires_grad]

    def max_switch(self, num_positions: int) -> int:
        """Last position a hybrid path may switch at (a neck still follows the backbone: N)."""
        return num_positions

    def neck_reads(self, model: nn.Module) -> Optional[List[int]]:
        """Positions the part after the backbone reads (``None``: only the last, as a classifier)."""
        neck = model.neck
        start = int(getattr(neck, 'start_level', 0))
        end = getattr(neck, 'backbone_end_level', len(neck.in_channels))
        return list(range(start + 1, int(end) + 1))

    def receives_post_relu(self, model: nn.Module) -> bool:
        """Whether ``model``'s stages take post-ReLU inputs (then bridges into it get LeakyReLU)."""
        return bool(getattr(model.backbone, 'receives_post_relu', True))
