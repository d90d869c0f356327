"""Stage switch points of the staged classification backbones (``fcfd_mm.models.StagedBackbone``:
RepDistiller's CIFAR-100 networks, the ImageNet students). Their stages are explicit
(``forward_from``); the classifier after them reads only the last position, and there is no switch
after position N (docs/method.md, "Switch points"). mmpretrain is imported only when asked.
"""
from __future__ import annotations

from typing import List, Optional

from torch import Tensor, nn

from ..common import UnsupportedModelError
from ..registry import STAGE_CUTTERS
from .base import StageCutter


def _is_staged(backbone: Optional[nn.Module]) -> bool:
    try:
        from ...models.staged import StagedBackbone  # the package needs mmpretrain
    except ImportError:
        return False
    return isinstance(backbone, StagedBackbone)


@STAGE_CUTTERS.register_module()
class StagedBackboneCutter(StageCutter):
    """Classifiers whose backbone is a ``StagedBackbone`` (built for stage switch points).

    Args:
        probe_size: input side of the shape probe (32 for CIFAR, 224 for ImageNet).
    """

    def __init__(self, probe_size: int = 32) -> None:
        super().__init__(probe_size)

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        return _is_staged(getattr(model, 'backbone', None))

    def check(self, model: nn.Module, role: str) -> None:
        if not self.supports(model):
            raise UnsupportedModelError(f'stage switch points: the {role} backbone '
                                        f'({type(getattr(model, "backbone", None)).__name__}) is not a '
                                        f'fcfd_mm.models.StagedBackbone.')

    def run_from(self, model: nn.Module, k: int, h: Tensor) -> List[Tensor]:
        return list(model.backbone.forward_from(k, h))

    def max_switch(self, num_positions: int) -> int:
        return num_positions - 1  # no switch after position N: the classifier follows directly

    def neck_reads(self, model: nn.Module) -> Optional[List[int]]:
        return None

    def receives_post_relu(self, model: nn.Module) -> bool:
        return bool(model.backbone.receives_post_relu)
