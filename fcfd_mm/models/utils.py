"""Small helpers shared by the staged backbones: arch look-up and RepDistiller-style init."""
from __future__ import annotations

from typing import Dict, TypeVar

from torch import nn

T = TypeVar('T')


def lookup_arch(cls_name: str, arch, table: Dict[str, T]) -> T:
    """``table[arch]``, or a ValueError that lists the valid names."""
    if arch not in table:
        raise ValueError(f'{cls_name}: unknown arch {arch!r}; valid archs: '
                         f'{", ".join(repr(k) for k in sorted(table, key=str))}.')
    return table[arch]


def kaiming_init_(module: nn.Module) -> None:
    """The initialisation of RepDistiller's resnet/wrn/vgg/mobilenetv2 (and torchvision's ResNet).

    Conv weights ~ N(0, 2 / (k*k*out_channels)) (= kaiming normal, fan_out, relu), conv biases 0,
    BatchNorm weight 1 / bias 0. Linear layers (none in the backbones) are left alone.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1,
            relu: bool = True) -> nn.Sequential:
    """``Conv2d(bias=False) -> BatchNorm2d [-> ReLU]`` as an ``nn.Sequential`` (keys ``0``, ``1``)."""
    layers = [nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
              nn.BatchNorm2d(out_ch)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)
