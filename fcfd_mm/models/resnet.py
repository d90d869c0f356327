"""ResNets cut into FCFD stages: RepDistiller's CIFAR ResNets (resnet.py, resnetv2.py) and the
torchvision-layout ImageNet ResNet.

Inside each stage the module names are the original ones (``conv1``, ``bn1``, ``layerK.i.conv1``,
``downsample`` / ``shortcut``), so a checkpoint of the original network maps onto ours by a prefix
rename (:mod:`fcfd_mm.models.convert`). All three are "post-ReLU" networks: every stage ends with
the residual ReLU, and the neck's ReLU (``ReLUGlobalAveragePooling``) is then a no-op.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional

import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from .staged import StagedBackbone
from .utils import kaiming_init_, lookup_arch


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)


def _projection(in_planes: int, out_planes: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride, bias=False), nn.BatchNorm2d(out_planes))


class BasicBlock(nn.Module):
    """Post-activation basic block (RepDistiller resnet.py = torchvision ``BasicBlock``).

    ``relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x))``.
    """
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """torchvision's ``Bottleneck`` (stride on the 3x3 conv, ``downsample`` projection)."""
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class ShortcutBottleneck(nn.Module):
    """RepDistiller resnetv2.py ``Bottleneck``: like torchvision's, the projection is ``shortcut``
    (an empty ``nn.Sequential`` when it is the identity)."""
    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes * 4:
            self.shortcut = _projection(in_planes, planes * 4, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


def _make_layer(block, inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    """torchvision / RepDistiller resnet.py ``_make_layer`` (``downsample`` projection)."""
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = _projection(inplanes, planes * block.expansion, stride)
    layers = [block(inplanes, planes, stride, downsample)]
    layers += [block(planes * block.expansion, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


@MODELS.register_module()
class RepCifarResNet(StagedBackbone):
    """RepDistiller's CIFAR ResNet (resnet.py, BasicBlock, depth = 6n + 2), cut into 4 stages.

    Stage 0 = ``conv1`` (3x3) + ``bn1`` + ReLU; stages 1-3 = ``layer1``-``layer3`` (n blocks each).

    Args:
        arch: ``resnet8/14/20/32/44/56/110`` (widths 16-16-32-64) or ``resnet8x4`` / ``resnet32x4``
            (widths 32-64-128-256).

    Input ``(B, 3, 32, 32)``; positions ``(B, w1, 32, 32)``, ``(B, w2, 16, 16)``, ``(B, w3, 8, 8)``
    (e.g. 64/128/256 for resnet8x4, 16/32/64 for resnet20), all post-ReLU.
    """
    receives_post_relu = True
    arch_settings = {
        **{f'resnet{d}': (d, (16, 16, 32, 64)) for d in (8, 14, 20, 32, 44, 56, 110)},
        'resnet8x4': (8, (32, 64, 128, 256)),
        'resnet32x4': (32, (32, 64, 128, 256)),
    }

    def __init__(self, arch: str, init_cfg=None) -> None:
        super().__init__(init_cfg)
        depth, widths = lookup_arch(type(self).__name__, arch, self.arch_settings)
        self.arch = arch
        n = (depth - 2) // 6
        self.stages.append(nn.Sequential(OrderedDict(
            conv1=_conv3x3(3, widths[0]), bn1=nn.BatchNorm2d(widths[0]), relu=nn.ReLU(inplace=True))))
        inplanes = widths[0]
        for i, planes in enumerate(widths[1:]):
            self.stages.append(_make_layer(BasicBlock, inplanes, planes, n, 1 if i == 0 else 2))
            inplanes = planes
        self.position_channels = list(widths[1:])
        kaiming_init_(self)


@MODELS.register_module()
class RepCifarResNet50(StagedBackbone):
    """RepDistiller's CIFAR ``ResNet50`` (resnetv2.py), cut into 5 stages.

    Stage 0 = ``conv1`` (3x3, stride 1) + ``bn1`` + ReLU (no max-pool); stages 1-4 =
    ``layer1``-``layer4`` (Bottleneck x [3, 4, 6, 3], projection named ``shortcut``).

    Input ``(B, 3, 32, 32)``; positions ``(B, 256, 32, 32)``, ``(B, 512, 16, 16)``,
    ``(B, 1024, 8, 8)``, ``(B, 2048, 4, 4)``, all post-ReLU.
    """
    receives_post_relu = True
    arch_settings = {'ResNet50': (3, 4, 6, 3)}

    def __init__(self, arch: str = 'ResNet50', init_cfg=None) -> None:
        super().__init__(init_cfg)
        num_blocks = lookup_arch(type(self).__name__, arch, self.arch_settings)
        self.arch = arch
        self.stages.append(nn.Sequential(OrderedDict(
            conv1=_conv3x3(3, 64), bn1=nn.BatchNorm2d(64), relu=nn.ReLU(inplace=True))))
        in_planes = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), num_blocks)):
            layers = []
            for j in range(n):
                layers.append(ShortcutBottleneck(in_planes, planes, (1 if i == 0 else 2) if j == 0 else 1))
                in_planes = planes * 4
            self.stages.append(nn.Sequential(*layers))
        self.position_channels = [256, 512, 1024, 2048]
        kaiming_init_(self)


@MODELS.register_module()
class StagedResNet(StagedBackbone):
    """ImageNet ResNet in torchvision's layout, cut into 5 stages.

    Stage 0 = ``conv1`` (7x7, stride 2) + ``bn1`` + ReLU + ``maxpool``; stages 1-4 =
    ``layer1``-``layer4``. Module names inside the stages are torchvision's
    (``stages.0.conv1`` = ``conv1``, ``stages.K`` = ``layerK``); the parameter count with a 1000-class
    FC equals ``torchvision.models.resnetNN``'s.

    Args:
        depth: 18, 34 (BasicBlock), 50, 101, 152 (Bottleneck).

    Input ``(B, 3, 224, 224)``; positions ``(B, 64e, 56, 56)``, ``(B, 128e, 28, 28)``,
    ``(B, 256e, 14, 14)``, ``(B, 512e, 7, 7)`` with e = 1 (18/34) or 4 (50+), all post-ReLU.
    """
    receives_post_relu = True
    arch_settings = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)),
                     50: (Bottleneck, (3, 4, 6, 3)), 101: (Bottleneck, (3, 4, 23, 3)),
                     152: (Bottleneck, (3, 8, 36, 3))}

    def __init__(self, depth: int, init_cfg=None) -> None:
        super().__init__(init_cfg)
        block, num_blocks = lookup_arch(type(self).__name__, depth, self.arch_settings)
        self.depth = depth
        self.stages.append(nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 64, 7, 2, 3, bias=False), bn1=nn.BatchNorm2d(64), relu=nn.ReLU(inplace=True),
            maxpool=nn.MaxPool2d(3, 2, 1))))
        inplanes = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), num_blocks)):
            self.stages.append(_make_layer(block, inplanes, planes, n, 1 if i == 0 else 2))
            inplanes = planes * block.expansion
        self.position_channels = [c * block.expansion for c in (64, 128, 256, 512)]
        kaiming_init_(self)
