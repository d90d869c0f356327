"""RepDistiller's CIFAR ShuffleNets (ShuffleNetv1.py, ShuffleNetv2.py) cut into FCFD stages."""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from .staged import StagedBackbone
from .utils import lookup_arch


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """``[N, C, H, W] -> [N, g, C/g, H, W] -> [N, C/g, g, H, W] -> [N, C, H, W]``."""
    n, c, h, w = x.size()
    return x.view(n, groups, c // groups, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class ShuffleV1Block(nn.Module):
    """ShuffleNetv1.py ``Bottleneck`` with its output ReLU moved to its input.

    ``x = relu(x)``; ``out = bn3(gconv3(relu(bn2(dwconv2(shuffle(relu(bn1(gconv1(x)))))))))``;
    returns ``cat([out, avgpool3x3s2(x)])`` (stride 2) or ``out + x`` -- the original block's
    pre-activation ``preact``. A chain of these computes the original chain, ReLUs shifted by one.
    """

    def __init__(self, in_planes: int, out_planes: int, stride: int, groups: int) -> None:
        super().__init__()
        self.stride = stride
        mid_planes = int(out_planes / 4)
        self.g = 1 if in_planes == 24 else groups  # RepDistiller: no grouping on the 24-channel stem output
        self.conv1 = nn.Conv2d(in_planes, mid_planes, 1, groups=self.g, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_planes)
        self.conv2 = nn.Conv2d(mid_planes, mid_planes, 3, stride, 1, groups=mid_planes, bias=False)
        self.bn2 = nn.BatchNorm2d(mid_planes)
        self.conv3 = nn.Conv2d(mid_planes, out_planes, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride == 2:
            self.shortcut = nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(x)
        out = channel_shuffle(F.relu(self.bn1(self.conv1(x))), self.g)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        res = self.shortcut(x)
        return torch.cat([out, res], 1) if self.stride == 2 else out + res


@MODELS.register_module()
class RepCifarShuffleNetV1(StagedBackbone):
    """RepDistiller's ShuffleNet-V1 (ShuffleNetv1.py, ``ShuffleV1``: g=3), cut into 4 stages.

    Stage 0 = ``conv1`` (1x1, 24 channels) + ``bn1`` (the stem's ReLU moved into the first block);
    stages 1-3 = ``layer1``-``layer3`` (4 / 8 / 4 blocks, the first of each stride 2 with a
    concatenated avg-pool shortcut). Each block applies the ReLU at its input, so the positions are
    the pre-ReLU block outputs: ``receives_post_relu`` is False.

    Input ``(B, 3, 32, 32)``; positions ``(B, 240, 16, 16)``, ``(B, 480, 8, 8)``, ``(B, 960, 4, 4)``.
    """
    receives_post_relu = False
    arch_settings = {'ShuffleV1': dict(out_planes=(240, 480, 960), num_blocks=(4, 8, 4), groups=3)}

    def __init__(self, arch: str = 'ShuffleV1', init_cfg=None) -> None:
        super().__init__(init_cfg)
        cfg = lookup_arch(type(self).__name__, arch, self.arch_settings)
        self.arch = arch
        self.stages.append(nn.Sequential(OrderedDict(conv1=nn.Conv2d(3, 24, 1, bias=False),
                                                     bn1=nn.BatchNorm2d(24))))
        in_planes = 24
        for out_planes, n in zip(cfg['out_planes'], cfg['num_blocks']):
            layers = []
            for i in range(n):
                cat_planes = in_planes if i == 0 else 0
                layers.append(ShuffleV1Block(in_planes, out_planes - cat_planes, 2 if i == 0 else 1,
                                             cfg['groups']))
                in_planes = out_planes
            self.stages.append(nn.Sequential(*layers))
        self.position_channels = list(cfg['out_planes'])


class ShuffleV2BasicBlock(nn.Module):
    """ShuffleNetv2.py ``BasicBlock``: split in halves, ``relu(bn3(conv3(bn2(dw2(relu(bn1(conv1(x2))))))))``
    on the second, concatenate, shuffle (g=2)."""

    def __init__(self, in_channels: int, split_ratio: float = 0.5) -> None:
        super().__init__()
        self.split_ratio = split_ratio
        c = int(in_channels * split_ratio)
        self.conv1 = nn.Conv2d(c, c, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x: Tensor) -> Tensor:
        c = int(x.size(1) * self.split_ratio)
        x1, x2 = x[:, :c], x[:, c:]
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(torch.cat([x1, out], 1), 2)


class ShuffleV2DownBlock(nn.Module):
    """ShuffleNetv2.py ``DownBlock`` (stride 2, both branches, concatenate, shuffle)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        mid = out_channels // 2
        # left
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 2, 1, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        # right
        self.conv3 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, 3, 2, 1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x: Tensor) -> Tensor:
        out1 = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        out2 = F.relu(self.bn3(self.conv3(x)))
        out2 = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(out2)))))
        return channel_shuffle(torch.cat([out1, out2], 1), 2)


@MODELS.register_module()
class RepCifarShuffleNetV2(StagedBackbone):
    """RepDistiller's ShuffleNet-V2 1x (ShuffleNetv2.py, ``ShuffleV2``), cut into 4 stages.

    Stage 0 = ``conv1`` (1x1, 24 channels) + ``bn1`` + ReLU; stages 1-2 = ``layer1``, ``layer2``;
    stage 3 = ``layer3`` + ``conv2`` (1x1 to 1024) + ``bn2`` + ReLU. Every block ends with ReLU'd
    (or passed-through post-ReLU) channels: ``receives_post_relu`` is True.

    Input ``(B, 3, 32, 32)``; positions ``(B, 116, 16, 16)``, ``(B, 232, 8, 8)``, ``(B, 1024, 4, 4)``.
    """
    receives_post_relu = True
    arch_settings = {'ShuffleV2': dict(out_channels=(116, 232, 464, 1024), num_blocks=(3, 7, 3))}

    def __init__(self, arch: str = 'ShuffleV2', init_cfg=None) -> None:
        super().__init__(init_cfg)
        cfg = lookup_arch(type(self).__name__, arch, self.arch_settings)
        self.arch = arch
        out_channels, num_blocks = cfg['out_channels'], cfg['num_blocks']
        self.stages.append(nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 24, 1, bias=False), bn1=nn.BatchNorm2d(24), relu=nn.ReLU(inplace=True))))
        in_channels = 24
        layers = []
        for c, n in zip(out_channels[:3], num_blocks):
            blocks = [ShuffleV2DownBlock(in_channels, c)] + [ShuffleV2BasicBlock(c) for _ in range(n)]
            layers.append(nn.Sequential(*blocks))
            in_channels = c
        self.stages.extend(layers[:2])
        self.stages.append(nn.Sequential(OrderedDict(
            layer=layers[2], conv2=nn.Conv2d(out_channels[2], out_channels[3], 1, bias=False),
            bn2=nn.BatchNorm2d(out_channels[3]), relu=nn.ReLU(inplace=True))))
        self.position_channels = [out_channels[0], out_channels[1], out_channels[3]]
