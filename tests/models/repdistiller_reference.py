"""Independent, un-cut reference versions of the RepDistiller / CRD CIFAR-100 networks.

Re-written for the tests from the structure of github.com/HobbitLong/RepDistiller ``models/``
(resnet.py, resnetv2.py, wrn.py, vgg.py, mobilenetv2.py, ShuffleNetv1.py, ShuffleNetv2.py):
same module names (so their ``state_dict`` keys are RepDistiller's), same layer order, same
ReLU placement and pooling as the original ``forward`` (``is_feat=False`` path). They share no
code with ``fcfd_mm.models``: the tests compare the staged backbones against them (parameter
counts, and logits after :func:`fcfd_mm.models.convert.convert_repdistiller_state_dict`).

Also here: the standard ImageNet MobileNet-V1 (``model`` = ``nn.Sequential`` of conv_bn /
13 conv_dw blocks / AvgPool2d(7), ``fc``), the layout MobileNet-V1 checkpoints of the KD code
bases use.

``build(name, num_classes=100)`` builds one by its RepDistiller ``model_dict`` name.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------- resnet.py


class ResBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        out += residual
        return F.relu(out)


class CifarResNet(nn.Module):
    """resnet.py ``ResNet`` with BasicBlock (depth = 6n + 2)."""

    def __init__(self, depth, num_filters, num_classes=100):
        super().__init__()
        n = (depth - 2) // 6
        self.inplanes = num_filters[0]
        self.conv1 = nn.Conv2d(3, num_filters[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(num_filters[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(num_filters[1], n)
        self.layer2 = self._make_layer(num_filters[2], n, stride=2)
        self.layer3 = self._make_layer(num_filters[3], n, stride=2)
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(num_filters[3], num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes))
        layers = [ResBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [ResBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)
        return self.fc(x.view(x.size(0), -1))


# --------------------------------------------------------------------------- resnetv2.py


class V2Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, 4 * planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != 4 * planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, 4 * planes, 1, stride, bias=False),
                                          nn.BatchNorm2d(4 * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        return F.relu(out)


class CifarResNetV2(nn.Module):
    """resnetv2.py ``ResNet`` (CIFAR stem: 3x3 conv, stride 1, no max-pool)."""

    def __init__(self, num_blocks=(3, 4, 6, 3), num_classes=100):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make_layer(64, num_blocks[0], 1)
        self.layer2 = self._make_layer(128, num_blocks[1], 2)
        self.layer3 = self._make_layer(256, num_blocks[2], 2)
        self.layer4 = self._make_layer(512, num_blocks[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(2048, num_classes)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(V2Bottleneck(self.in_planes, planes, s))
            self.in_planes = 4 * planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = self.avgpool(out)
        return self.linear(out.view(out.size(0), -1))


# --------------------------------------------------------------------------- wrn.py


class WRNBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equalInOut = in_planes == out_planes
        self.convShortcut = None if self.equalInOut else nn.Conv2d(in_planes, out_planes, 1, stride, 0,
                                                                   bias=False)

    def forward(self, x):
        if self.equalInOut:
            out = self.relu1(self.bn1(x))
            out = self.relu2(self.bn2(self.conv1(out)))
            return torch.add(x, self.conv2(out))
        x = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(x)))
        return torch.add(self.convShortcut(x), self.conv2(out))


class NetworkBlock(nn.Module):
    def __init__(self, nb_layers, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(*[WRNBlock(in_planes if i == 0 else out_planes, out_planes,
                                              stride if i == 0 else 1) for i in range(nb_layers)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, widen_factor, num_classes=100):
        super().__init__()
        ch = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(ch[3], num_classes)
        self.nChannels = ch[3]

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        out = F.avg_pool2d(out, 8)
        return self.fc(out.view(-1, self.nChannels))


# --------------------------------------------------------------------------- vgg.py

VGG_CFG = {
    'A': [[64], [128], [256, 256], [512, 512], [512, 512]],
    'B': [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    'D': [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    'E': [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
    'S': [[64], [128], [256], [512], [512]],
}


class VGG(nn.Module):
    """vgg.py ``VGG`` with batch_norm=True (the ``vggN`` entries of RepDistiller's model_dict)."""

    def __init__(self, cfg, num_classes=100):
        super().__init__()
        in_ch = [3] + [c[-1] for c in cfg[:-1]]
        for i in range(5):
            setattr(self, f'block{i}', self._make_layers(cfg[i], in_ch[i]))
        self.pool0 = nn.MaxPool2d(2, 2)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.pool3 = nn.MaxPool2d(2, 2)
        self.pool4 = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(512, num_classes)

    @staticmethod
    def _make_layers(cfg, in_channels):
        layers = []
        for v in cfg:
            layers += [nn.Conv2d(in_channels, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            in_channels = v
        return nn.Sequential(*layers[:-1])

    def forward(self, x):
        h = x.shape[2]
        x = F.relu(self.block0(x))
        x = self.pool0(x)
        x = F.relu(self.block1(x))
        x = self.pool1(x)
        x = F.relu(self.block2(x))
        x = self.pool2(x)
        x = F.relu(self.block3(x))
        if h == 64:
            x = self.pool3(x)
        x = F.relu(self.block4(x))
        x = self.pool4(x)
        return self.classifier(x.view(x.size(0), -1))


# --------------------------------------------------------------------------- mobilenetv2.py


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        self.use_res_connect = stride == 1 and inp == oup
        hid = inp * expand_ratio
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hid, 1, 1, 0, bias=False), nn.BatchNorm2d(hid), nn.ReLU(inplace=True),
            nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid),
            nn.ReLU(inplace=True),
            nn.Conv2d(hid, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """mobilenetv2.py ``MobileNetV2`` (``mobile_half`` = T=6, width 0.5; stem stride 2)."""

    def __init__(self, T=6, feature_dim=100, input_size=32, width_mult=0.5):
        super().__init__()
        setting = [[1, 16, 1, 1], [T, 24, 2, 1], [T, 32, 3, 2], [T, 64, 4, 2], [T, 96, 3, 1],
                   [T, 160, 3, 2], [T, 320, 1, 1]]
        inp = int(32 * width_mult)
        self.conv1 = nn.Sequential(nn.Conv2d(3, inp, 3, 2, 1, bias=False), nn.BatchNorm2d(inp),
                                   nn.ReLU(inplace=True))
        self.blocks = nn.ModuleList()
        for t, c, n, s in setting:
            oup = int(c * width_mult)
            layers = []
            for stride in [s] + [1] * (n - 1):
                layers.append(InvertedResidual(inp, oup, stride, t))
                inp = oup
            self.blocks.append(nn.Sequential(*layers))
        self.last_channel = int(1280 * width_mult) if width_mult > 1.0 else 1280
        self.conv2 = nn.Sequential(nn.Conv2d(inp, self.last_channel, 1, 1, 0, bias=False),
                                   nn.BatchNorm2d(self.last_channel), nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(nn.Linear(self.last_channel, feature_dim))
        self.avgpool = nn.AvgPool2d(input_size // 16, ceil_mode=True)

    def forward(self, x):
        out = self.conv1(x)
        for b in self.blocks:
            out = b(out)
        out = self.avgpool(self.conv2(out))
        return self.classifier(out.view(out.size(0), -1))


# --------------------------------------------------------------------------- ShuffleNetv1.py


def channel_shuffle(x, g):
    n, c, h, w = x.size()
    return x.view(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class V1Bottleneck(nn.Module):
    def __init__(self, in_planes, out_planes, stride, groups):
        super().__init__()
        self.stride = stride
        mid = int(out_planes / 4)
        self.g = 1 if in_planes == 24 else groups
        self.conv1 = nn.Conv2d(in_planes, mid, 1, groups=self.g, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_planes, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride == 2:
            self.shortcut = nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, x):
        out = channel_shuffle(F.relu(self.bn1(self.conv1(x))), self.g)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        res = self.shortcut(x)
        return F.relu(torch.cat([out, res], 1) if self.stride == 2 else out + res)


class ShuffleNetV1(nn.Module):
    def __init__(self, out_planes=(240, 480, 960), num_blocks=(4, 8, 4), groups=3, num_classes=100):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_planes = 24
        for i in range(3):
            setattr(self, f'layer{i + 1}', self._make_layer(out_planes[i], num_blocks[i], groups))
        self.linear = nn.Linear(out_planes[2], num_classes)

    def _make_layer(self, out_planes, num_blocks, groups):
        layers = []
        for i in range(num_blocks):
            cat = self.in_planes if i == 0 else 0
            layers.append(V1Bottleneck(self.in_planes, out_planes - cat, 2 if i == 0 else 1, groups))
            self.in_planes = out_planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# --------------------------------------------------------------------------- ShuffleNetv2.py


class V2BasicBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        c = in_channels // 2
        self.conv1 = nn.Conv2d(c, c, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x):
        c = int(x.size(1) * 0.5)
        x1, x2 = x[:, :c], x[:, c:]
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(torch.cat([x1, out], 1), 2)


class V2DownBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        mid = out_channels // 2
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 2, 1, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, 3, 2, 1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x):
        out1 = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        out2 = F.relu(self.bn3(self.conv3(x)))
        out2 = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(out2)))))
        return channel_shuffle(torch.cat([out1, out2], 1), 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, out_channels=(116, 232, 464, 1024), num_blocks=(3, 7, 3), num_classes=100):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_channels = 24
        for i in range(3):
            layers = [V2DownBlock(self.in_channels, out_channels[i])]
            layers += [V2BasicBlock(out_channels[i]) for _ in range(num_blocks[i])]
            self.in_channels = out_channels[i]
            setattr(self, f'layer{i + 1}', nn.Sequential(*layers))
        self.conv2 = nn.Conv2d(out_channels[2], out_channels[3], 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels[3])
        self.linear = nn.Linear(out_channels[3], num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# --------------------------------------------------------------------------- ImageNet MobileNet-V1


class MobileNetV1Ref(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()

        def conv_bn(inp, oup, stride):
            return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup),
                                 nn.ReLU(inplace=True))

        def conv_dw(inp, oup, stride):
            return nn.Sequential(nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
                                 nn.BatchNorm2d(inp), nn.ReLU(inplace=True),
                                 nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup),
                                 nn.ReLU(inplace=True))

        cfg = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)]
        cfg += [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
        self.model = nn.Sequential(conv_bn(3, 32, 2), *[conv_dw(*c) for c in cfg], nn.AvgPool2d(7))
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.model(x)
        return self.fc(x.view(-1, 1024))


# --------------------------------------------------------------------------- model_dict

_BUILDERS = {
    'resnet8': lambda nc: CifarResNet(8, [16, 16, 32, 64], nc),
    'resnet14': lambda nc: CifarResNet(14, [16, 16, 32, 64], nc),
    'resnet20': lambda nc: CifarResNet(20, [16, 16, 32, 64], nc),
    'resnet32': lambda nc: CifarResNet(32, [16, 16, 32, 64], nc),
    'resnet44': lambda nc: CifarResNet(44, [16, 16, 32, 64], nc),
    'resnet56': lambda nc: CifarResNet(56, [16, 16, 32, 64], nc),
    'resnet110': lambda nc: CifarResNet(110, [16, 16, 32, 64], nc),
    'resnet8x4': lambda nc: CifarResNet(8, [32, 64, 128, 256], nc),
    'resnet32x4': lambda nc: CifarResNet(32, [32, 64, 128, 256], nc),
    'ResNet50': lambda nc: CifarResNetV2((3, 4, 6, 3), nc),
    'wrn_16_1': lambda nc: WideResNet(16, 1, nc),
    'wrn_16_2': lambda nc: WideResNet(16, 2, nc),
    'wrn_40_1': lambda nc: WideResNet(40, 1, nc),
    'wrn_40_2': lambda nc: WideResNet(40, 2, nc),
    'vgg8': lambda nc: VGG(VGG_CFG['S'], nc),
    'vgg11': lambda nc: VGG(VGG_CFG['A'], nc),
    'vgg13': lambda nc: VGG(VGG_CFG['B'], nc),
    'vgg16': lambda nc: VGG(VGG_CFG['D'], nc),
    'vgg19': lambda nc: VGG(VGG_CFG['E'], nc),
    'MobileNetV2': lambda nc: MobileNetV2(6, nc, 32, 0.5),
    'ShuffleV1': lambda nc: ShuffleNetV1(num_classes=nc),
    'ShuffleV2': lambda nc: ShuffleNetV2(num_classes=nc),
    'mobilenet_v1': lambda nc: MobileNetV1Ref(nc),
}


def build(name: str, num_classes: int = 100) -> nn.Module:
    return _BUILDERS[name](num_classes)


def randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm non-trivial affine parameters and running statistics (eval-mode tests)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
    return model
