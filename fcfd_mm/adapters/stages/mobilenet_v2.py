"""Stage switch points of mmdet's ``MobileNetV2`` backbone.

Its forward runs ``conv1`` then ``layers`` (``layer1..layer7``, ``conv2``) and returns the outputs
of the layers in ``out_indices``: these are the positions ``1..N``. Running "after position k"
means the layers after ``out_indices[k-1]`` up to the last out index, returning the outputs at
``out_indices[k:]``. The inverted-residual layers end with a linear (no activation) projection,
so the stages do not take post-ReLU inputs: bridges into a MobileNetV2 end without LeakyReLU.
"""
from __future__ import annotations

from typing import List

from torch import Tensor, nn

from ..common import UnsupportedModelError
from ..registry import STAGE_CUTTERS
from .base import StageCutter


@STAGE_CUTTERS.register_module()
class MobileNetV2Cutter(StageCutter):
    """Detectors whose backbone is mmdet's ``MobileNetV2`` (``layers`` + ``out_indices``)."""

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        from mmdet.models.backbones import MobileNetV2
        return isinstance(getattr(model, 'backbone', None), MobileNetV2)

    def check(self, model: nn.Module, role: str) -> None:
        backbone = getattr(model, 'backbone', None)
        if not self.supports(model):
            raise UnsupportedModelError(f'stage switch points: the {role} backbone ({type(backbone).__name__}) is '
                                        f'not an mmdet MobileNetV2.')
        indices = tuple(backbone.out_indices)
        if list(indices) != sorted(set(indices)):
            raise UnsupportedModelError(f'stage switch points: the {role} MobileNetV2 out_indices {indices} must be '
                                        f'increasing (each out index is a position).')

    def run_from(self, model: nn.Module, k: int, h: Tensor) -> List[Tensor]:
        backbone = model.backbone
        indices = list(backbone.out_indices)
        outs = []
        for i in range(indices[k - 1] + 1, indices[-1] + 1):
            h = getattr(backbone, backbone.layers[i])(h)
            if i in indices:
                outs.append(h)
        return outs

    def receives_post_relu(self, model: nn.Module) -> bool:
        return False
