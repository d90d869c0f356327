"""RepDistiller's wide ResNets (wrn.py, pre-activation blocks) cut into FCFD stages."""
from __future__ import annotations

from collections import OrderedDict

import torch
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from .staged import StagedBackbone
from .utils import kaiming_init_, lookup_arch


class WRNBlock(nn.Module):
    """Pre-activation block of wrn.py (``BasicBlock``, dropRate 0).

    Same channels: ``x + conv2(relu2(bn2(conv1(relu1(bn1(x))))))``; otherwise the shortcut is
    ``convShortcut`` applied to ``relu1(bn1(x))``.
    """

    def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equalInOut = in_planes == out_planes
        self.convShortcut = (None if self.equalInOut else
                             nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        act = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(act))))
        return torch.add(x if self.equalInOut else self.convShortcut(act), out)


@MODELS.register_module()
class RepCifarWRN(StagedBackbone):
    """RepDistiller's WideResNet-depth-k (wrn.py), cut into 4 stages.

    Stage 0 = ``conv1`` (3x3, 16 channels); stages 1-3 = ``block1``-``block3`` (n = (depth-4)/6
    pre-activation blocks each); stage 3 also holds the network's final ``bn1`` (its ReLU is the
    neck's). The positions are pre-activation features (the next stage starts with BN + ReLU),
    so ``receives_post_relu`` is False.

    Args:
        arch: ``wrn_16_1``, ``wrn_16_2``, ``wrn_40_1``, ``wrn_40_2``.

    Input ``(B, 3, 32, 32)``; positions ``(B, 16k, 32, 32)``, ``(B, 32k, 16, 16)``,
    ``(B, 64k, 8, 8)`` (k = widen factor).
    """
    receives_post_relu = False
    arch_settings = {'wrn_16_1': (16, 1), 'wrn_16_2': (16, 2), 'wrn_40_1': (40, 1), 'wrn_40_2': (40, 2)}

    def __init__(self, arch: str, init_cfg=None) -> None:
        super().__init__(init_cfg)
        depth, k = lookup_arch(type(self).__name__, arch, self.arch_settings)
        self.arch = arch
        n = (depth - 4) // 6
        ch = [16, 16 * k, 32 * k, 64 * k]
        self.stages.append(nn.Sequential(OrderedDict(conv1=nn.Conv2d(3, ch[0], 3, 1, 1, bias=False))))
        for i in range(3):
            blocks = [WRNBlock(ch[i] if j == 0 else ch[i + 1], ch[i + 1], (1 if i == 0 else 2) if j == 0 else 1)
                      for j in range(n)]
            stage = OrderedDict(layer=nn.Sequential(*blocks))
            if i == 2:
                stage['bn1'] = nn.BatchNorm2d(ch[3])
            self.stages.append(nn.Sequential(stage))
        self.position_channels = ch[1:]
        kaiming_init_(self)
