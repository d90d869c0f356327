"""MobileNets cut into FCFD stages: RepDistiller's CIFAR MobileNetV2 (mobilenetv2.py,
``mobile_half``) and the standard ImageNet MobileNet-V1."""
from __future__ import annotations

from collections import OrderedDict
from typing import List

from mmpretrain.registry import MODELS
from torch import Tensor, nn

from .staged import StagedBackbone
from .utils import conv_bn, kaiming_init_, lookup_arch


class InvertedResidual(nn.Module):
    """mobilenetv2.py ``InvertedResidual``: ``conv`` = pw (expand, also for t=1) / dw / pw-linear.

    The output is linear (BN, no ReLU); residual when stride 1 and in == out channels.
    """

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        self.conv = nn.Sequential(*conv_bn(inp, hidden, 1), *conv_bn(hidden, hidden, 3, stride, groups=hidden),
                                  *conv_bn(hidden, oup, 1, relu=False))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


@MODELS.register_module()
class RepCifarMobileNetV2(StagedBackbone):
    """RepDistiller's CIFAR MobileNetV2 (mobilenetv2.py), cut into 5 stages.

    RepDistiller keeps ImageNet's stride-2 stem at 32 px. Its 7 block groups ``blocks[0..6]``
    (t, c, n, s = [1,16,1,1], [T,24,2,1], [T,32,3,2], [T,64,4,2], [T,96,3,1], [T,160,3,2],
    [T,320,1,1], channels x width) are split as:

    * stage 0: ``conv1`` = conv3x3 stride 2 + BN (the stem's ReLU moved into stage 1);
    * stage 1: ReLU + ``blocks[0..1]``; stage 2: ``blocks[2]``; stage 3: ``blocks[3..4]``;
    * stage 4: ``blocks[5..6]`` + ``conv2`` (1x1 conv + BN to 1280; its ReLU is the neck's).

    All positions are linear (BN outputs), so ``receives_post_relu`` is False.

    Args:
        arch: ``mobile_half`` (T=6, width 0.5; CRD's "MobileNetV2").

    Input ``(B, 3, 32, 32)``; positions ``(B, 12, 16, 16)``, ``(B, 16, 8, 8)``, ``(B, 48, 4, 4)``,
    ``(B, 1280, 2, 2)``.
    """
    receives_post_relu = False
    arch_settings = {'mobile_half': (6, 0.5)}
    stage_groups = ((0, 1), (2,), (3, 4), (5, 6))

    def __init__(self, arch: str = 'mobile_half', init_cfg=None) -> None:
        super().__init__(init_cfg)
        T, width = lookup_arch(type(self).__name__, arch, self.arch_settings)
        self.arch = arch
        setting = [[1, 16, 1, 1], [T, 24, 2, 1], [T, 32, 3, 2], [T, 64, 4, 2], [T, 96, 3, 1],
                   [T, 160, 3, 2], [T, 320, 1, 1]]
        inp = int(32 * width)
        self.stages.append(nn.Sequential(OrderedDict(conv1=conv_bn(3, inp, 3, 2, relu=False))))
        groups: List[nn.Sequential] = []
        for t, c, n, s in setting:
            oup = int(c * width)
            layers = []
            for stride in [s] + [1] * (n - 1):
                layers.append(InvertedResidual(inp, oup, stride, t))
                inp = oup
            groups.append(nn.Sequential(*layers))
        last_channel = int(1280 * width) if width > 1.0 else 1280
        self.position_channels = []
        for k, idx in enumerate(self.stage_groups, start=1):
            stage = OrderedDict()
            if k == 1:
                stage['relu'] = nn.ReLU()  # the stem's ReLU; not in place (its input may be a position)
            stage['blocks'] = nn.Sequential(*[groups[i] for i in idx])
            if k == len(self.stage_groups):
                stage['conv2'] = conv_bn(inp, last_channel, 1, relu=False)
            self.stages.append(nn.Sequential(stage))
            self.position_channels.append(last_channel if k == len(self.stage_groups)
                                          else int(setting[idx[-1]][1] * width))
        kaiming_init_(self)


def _conv_dw(inp: int, oup: int, stride: int) -> nn.Sequential:
    """Depthwise-separable block: dw3x3 + BN + ReLU, pw1x1 + BN + ReLU (keys 0-5)."""
    return nn.Sequential(*conv_bn(inp, inp, 3, stride, groups=inp), *conv_bn(inp, oup, 1))


@MODELS.register_module()
class MobileNetV1(StagedBackbone):
    """The standard ImageNet MobileNet-V1 (``model`` = conv_bn(3, 32, s2) + 13 conv_dw blocks), 5 stages.

    Stage 0 = conv_bn 32 stride 2; stages 1-4 = conv_dw blocks ``model[1:4]``, ``model[4:6]``,
    ``model[6:12]``, ``model[12:14]``. Every block ends with ReLU: ``receives_post_relu`` is True.

    Input ``(B, 3, 224, 224)``; positions ``(B, 128, 56, 56)``, ``(B, 256, 28, 28)``,
    ``(B, 512, 14, 14)``, ``(B, 1024, 7, 7)``.
    """
    receives_post_relu = True
    #: (in, out, stride) of the 13 conv_dw blocks, model[1] .. model[13].
    dw_cfg = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2),
              (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 1024, 2),
              (1024, 1024, 1)]
    #: the ``model`` indices each stage starts at (stage 0 is model[0]).
    stage_starts = (0, 1, 4, 6, 12, 14)

    def __init__(self, init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.stages.append(conv_bn(3, 32, 3, 2))
        for a, b in zip(self.stage_starts[1:-1], self.stage_starts[2:]):
            self.stages.append(nn.Sequential(*[_conv_dw(*self.dw_cfg[i - 1]) for i in range(a, b)]))
        self.position_channels = [self.dw_cfg[b - 2][1] for b in self.stage_starts[2:]]
        kaiming_init_(self)
