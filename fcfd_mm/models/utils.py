"""Small helpers shared by the staged backbones: arch look-up and RepDistiller-style init."""
from __future__ import annotations

from typing import Dict, TypeVar

from mmengine.model.weight_init import BaseInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
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

    Conv weights ~ N(0, 2 / (k*k*out_channels)) (= kaiming normal, fan_out, relu), conv biases 0
    (only vgg's convs have biases, and RepDistiller zeroes them), BatchNorm weight 1 / bias 0.
    Linear layers (none in the backbones; the classifier is the head's) are left alone.
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


@WEIGHT_INITIALIZERS.register_module(name='ZeroBias')
class ZeroBiasInit(BaseInit):
    """``init_cfg=dict(type='ZeroBias', layer='Linear')``: set the biases of the ``layer`` modules
    to ``bias`` (default 0) and leave their weights as built (PyTorch's default init).

    MMEngine's initialisers all set the weight too; RepDistiller's WRNs zero only the FC bias.
    """

    def __call__(self, module: nn.Module) -> None:
        layers = set(self.layer or [])

        def init(m: nn.Module) -> None:
            names = {type(m).__name__} | {b.__name__ for b in type(m).__mro__}
            if (self.wholemodule or layers & names) and getattr(m, 'bias', None) is not None:
                nn.init.constant_(m.bias, self.bias)

        module.apply(init)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{type(self).__name__}: bias={self.bias}'
