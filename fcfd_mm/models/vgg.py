"""RepDistiller's CIFAR VGG with BatchNorm (vgg.py, ``vggN_bn``) cut into FCFD stages."""
from __future__ import annotations

from collections import OrderedDict
from typing import List

from mmpretrain.registry import MODELS
from torch import nn

from .staged import StagedBackbone
from .utils import kaiming_init_, lookup_arch


def _vgg_block(cfg: List[int], in_channels: int) -> nn.Sequential:
    """vgg.py ``_make_layers(batch_norm=True)``: (conv3x3 with bias, BN, ReLU) per entry, last ReLU dropped."""
    layers: List[nn.Module] = []
    for v in cfg:
        layers += [nn.Conv2d(in_channels, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
        in_channels = v
    return nn.Sequential(*layers[:-1])


@MODELS.register_module()
class RepCifarVGG(StagedBackbone):
    """RepDistiller's VGG-BN (vgg.py; the ``vggN`` names of its model_dict are ``vggN_bn``), 5 stages.

    Stage 0 = ``block0``; stage k (1-4) = ReLU -> max-pool 2x2 -> ``block{k}``, except that at
    32 px there is no pool before ``block4`` (RepDistiller applies ``pool3`` only when the input is
    64 px; its ``pool4`` is the global average pool, i.e. the neck). Every block ends with BN (its
    last ReLU is removed), so the positions are pre-ReLU and ``receives_post_relu`` is False.

    Args:
        arch: ``vgg8``, ``vgg11``, ``vgg13``, ``vgg16``, ``vgg19``.
        input_size: 32 (CIFAR) or 64 (RepDistiller's 64 px case: max-pool before ``block4`` too).

    Input ``(B, 3, 32, 32)``; positions ``(B, 128, 16, 16)``, ``(B, 256, 8, 8)``, ``(B, 512, 4, 4)``,
    ``(B, 512, 4, 4)``.
    """
    receives_post_relu = False
    cfgs = {
        'S': [[64], [128], [256], [512], [512]],
        'A': [[64], [128], [256, 256], [512, 512], [512, 512]],
        'B': [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
        'D': [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
        'E': [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
    }
    arch_settings = {'vgg8': 'S', 'vgg11': 'A', 'vgg13': 'B', 'vgg16': 'D', 'vgg19': 'E'}

    def __init__(self, arch: str, input_size: int = 32, init_cfg=None) -> None:
        super().__init__(init_cfg)
        cfg = self.cfgs[lookup_arch(type(self).__name__, arch, self.arch_settings)]
        if input_size not in (32, 64):
            raise ValueError(f'{type(self).__name__}: input_size must be 32 or 64, got {input_size!r}.')
        self.arch = arch
        self.stages.append(nn.Sequential(OrderedDict(block=_vgg_block(cfg[0], 3))))
        for k in range(1, 5):
            stage = OrderedDict(relu=nn.ReLU())  # not in place: its input is the previous position
            if k < 4 or input_size == 64:
                stage['pool'] = nn.MaxPool2d(kernel_size=2, stride=2)
            stage['block'] = _vgg_block(cfg[k], cfg[k - 1][-1])
            self.stages.append(nn.Sequential(stage))
        self.position_channels = [c[-1] for c in cfg[1:]]
        kaiming_init_(self)
