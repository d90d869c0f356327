"""The interface FCFD's classification adapter needs from a backbone: explicit stages.

A network is split into code stages ``0..n-1`` (stage 0 = stem). FCFD's positions
``1..N`` (``N = n - 1``) are the outputs of stages ``1..n-1`` (docs/method.md, "Switch points").
"""
from __future__ import annotations

from typing import List, Tuple

from mmengine.model import BaseModule
from torch import Tensor, nn


class StagedBackbone(BaseModule):
    """Base class of the backbones FCFD can switch inside.

    Subclasses fill ``self.stages`` (an ``nn.ModuleList`` of ``n`` modules, stage 0 = stem) and set:

    * ``receives_post_relu`` (bool): True when the network's stages take post-ReLU inputs
      ("afterrelu" in the official code); a bridge *into* this network then ends with LeakyReLU(0.1);
    * ``position_channels`` (list of N ints): channels of the features at positions 1..N.

    ``forward(x)`` returns the N position features as a tuple ``(F^1, ..., F^N)`` (mmpretrain
    backbones return tuples; the neck/head read the last one). ``forward_from(k, h)`` runs the
    stages after position ``k`` on ``h`` (a position-``k`` feature) and returns
    ``(F^{k+1}, ..., F^N)``.
    """

    receives_post_relu: bool = False
    position_channels: List[int] = []

    def __init__(self, init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.stages = nn.ModuleList()

    @property
    def num_positions(self) -> int:
        return len(self.stages) - 1

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stages[0](x)
        outs = []
        for stage in self.stages[1:]:
            x = stage(x)
            outs.append(x)
        return tuple(outs)

    def forward_from(self, k: int, h: Tensor) -> Tuple[Tensor, ...]:
        if not 1 <= k <= self.num_positions:
            raise ValueError(f'{type(self).__name__}: position {k} does not exist; positions are '
                             f'1..{self.num_positions}.')
        outs = []
        for stage in self.stages[k + 1:]:
            h = stage(h)
            outs.append(h)
        return tuple(outs)
