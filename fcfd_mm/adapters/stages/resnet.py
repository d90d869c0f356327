"""Stage switch points of mmdet ResNet-style backbones (``res_layers``: ResNet, ResNeXt, Res2Net...).

Positions ``1..N`` are the outputs of ``layer1..layerN`` (post-ReLU); the stem (conv, BN, ReLU,
max-pool) is stage 0. Running "after position k" means ``layer{k+1}..layerN``; the FPN then reads
every position it is built for (positions <= k come from the bridges; docs/method.md, "Loss terms
at the stage switch points").
"""
from __future__ import annotations

from typing import List

from torch import Tensor, nn

from ..common import UnsupportedModelError
from ..registry import STAGE_CUTTERS
from .base import StageCutter


@STAGE_CUTTERS.register_module()
class ResNetCutter(StageCutter):
    """Detectors whose backbone has ``res_layers`` (mmdet ResNet family)."""

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        return getattr(getattr(model, 'backbone', None), 'res_layers', None) is not None

    def check(self, model: nn.Module, role: str) -> None:
        backbone = getattr(model, 'backbone', None)
        layers = getattr(backbone, 'res_layers', None)
        if layers is None:
            raise UnsupportedModelError(
                f'stage switch points: the {role} backbone ({type(backbone).__name__}) has no res_layers; FCFD can '
                f'cut mmdet ResNet-style backbones (ResNet, ResNeXt, Res2Net...). Use fcfd.neck only for this pair.')
        if tuple(backbone.out_indices) != tuple(range(len(layers))):
            raise UnsupportedModelError(
                f'stage switch points: the {role} backbone returns stages {tuple(backbone.out_indices)}; set '
                f'backbone.out_indices={tuple(range(len(layers)))} so every stage is a position '
                f'(neck.in_channels must list all of them, neck.start_level picks what the FPN uses).')

    def run_from(self, model: nn.Module, k: int, h: Tensor) -> List[Tensor]:
        backbone = model.backbone
        outs = []
        for name in backbone.res_layers[k:]:
            h = getattr(backbone, name)(h)
            outs.append(h)
        return outs
