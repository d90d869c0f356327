"""Backbone configs of the RepDistiller / CRD CIFAR-100 networks and of the ImageNet students.

``REPDISTILLER_MODELS[name]`` is the backbone config of the RepDistiller network ``name`` (the 13
names of the CRD benchmark) and ``REPDISTILLER_FEAT_DIM[name]`` the channels its FC reads; with
:func:`classifier_cfg` they give the ``ImageClassifier`` (backbone, ``ReLUGlobalAveragePooling``,
``LinearClsHead``) whose logits equal the RepDistiller network's.
"""
from __future__ import annotations

import copy
from typing import Dict, Optional

REPDISTILLER_MODELS: Dict[str, dict] = {
    'resnet8x4': dict(type='RepCifarResNet', arch='resnet8x4'),
    'resnet32x4': dict(type='RepCifarResNet', arch='resnet32x4'),
    'resnet20': dict(type='RepCifarResNet', arch='resnet20'),
    'resnet56': dict(type='RepCifarResNet', arch='resnet56'),
    'wrn_16_2': dict(type='RepCifarWRN', arch='wrn_16_2'),
    'wrn_40_1': dict(type='RepCifarWRN', arch='wrn_40_1'),
    'wrn_40_2': dict(type='RepCifarWRN', arch='wrn_40_2'),
    'vgg8': dict(type='RepCifarVGG', arch='vgg8'),
    'vgg13': dict(type='RepCifarVGG', arch='vgg13'),
    'MobileNetV2': dict(type='RepCifarMobileNetV2', arch='mobile_half'),
    'ShuffleV1': dict(type='RepCifarShuffleNetV1', arch='ShuffleV1'),
    'ShuffleV2': dict(type='RepCifarShuffleNetV2', arch='ShuffleV2'),
    'ResNet50': dict(type='RepCifarResNet50', arch='ResNet50'),
}

REPDISTILLER_FEAT_DIM: Dict[str, int] = {
    'resnet8x4': 256, 'resnet32x4': 256, 'resnet20': 64, 'resnet56': 64,
    'wrn_16_2': 128, 'wrn_40_1': 64, 'wrn_40_2': 128,
    'vgg8': 512, 'vgg13': 512,
    'MobileNetV2': 1280, 'ShuffleV1': 960, 'ShuffleV2': 1024, 'ResNet50': 2048,
}

#: Other networks of RepDistiller's ``model_dict`` the backbones also build (``mobile_half`` is
#: RepDistiller's own name for CRD's "MobileNetV2").
REPDISTILLER_EXTRA_MODELS: Dict[str, dict] = {
    **{f'resnet{d}': dict(type='RepCifarResNet', arch=f'resnet{d}') for d in (8, 14, 32, 44, 110)},
    'wrn_16_1': dict(type='RepCifarWRN', arch='wrn_16_1'),
    **{f'vgg{d}': dict(type='RepCifarVGG', arch=f'vgg{d}') for d in (11, 16, 19)},
    'mobile_half': dict(type='RepCifarMobileNetV2', arch='mobile_half'),
}

#: ImageNet students and the checkpoint layouts they load (converter arch names).
IMAGENET_MODELS: Dict[str, dict] = {
    **{f'torchvision_resnet{d}': dict(type='StagedResNet', depth=d) for d in (18, 34, 50, 101, 152)},
    'mobilenet_v1': dict(type='MobileNetV1'),
}


#: Feature channels (the FC's input) of every name above.
FEAT_DIM: Dict[str, int] = {
    **REPDISTILLER_FEAT_DIM,
    **{f'resnet{d}': 64 for d in (8, 14, 32, 44, 110)}, 'wrn_16_1': 64,
    **{f'vgg{d}': 512 for d in (11, 16, 19)}, 'mobile_half': 1280,
    'torchvision_resnet18': 512, 'torchvision_resnet34': 512,
    **{f'torchvision_resnet{d}': 2048 for d in (50, 101, 152)}, 'mobilenet_v1': 1024,
}


#: ``init_cfg`` of the ``LinearClsHead`` that gives the classifier the initialisation of the
#: network's own FC layer (``None``: PyTorch's default ``nn.Linear`` init, kept as built):
#: RepDistiller's resnet / ResNet50 / ShuffleNets and torchvision's ResNets leave it at the default,
#: its WRNs zero only the bias, its vgg and MobileNetV2 draw N(0, 0.01) with zero bias (which is
#: also mmpretrain's ``LinearClsHead`` default). Names not listed keep mmpretrain's default.
_DEFAULT_LINEAR = None
_NORMAL_001 = dict(type='Normal', layer='Linear', std=0.01, bias=0.0)
_ZERO_BIAS = dict(type='ZeroBias', layer='Linear')
HEAD_INIT: Dict[str, Optional[dict]] = {
    **{f'resnet{d}': _DEFAULT_LINEAR for d in (8, 14, 20, 32, 44, 56, 110)},
    'resnet8x4': _DEFAULT_LINEAR, 'resnet32x4': _DEFAULT_LINEAR, 'ResNet50': _DEFAULT_LINEAR,
    'ShuffleV1': _DEFAULT_LINEAR, 'ShuffleV2': _DEFAULT_LINEAR,
    **{f'wrn_{d}': _ZERO_BIAS for d in ('16_1', '16_2', '40_1', '40_2')},
    **{f'vgg{d}': _NORMAL_001 for d in (8, 11, 13, 16, 19)},
    'MobileNetV2': _NORMAL_001, 'mobile_half': _NORMAL_001,
    **{f'torchvision_resnet{d}': _DEFAULT_LINEAR for d in (18, 34, 50, 101, 152)},
}


def head_init_cfg(name: str) -> Optional[dict]:
    """The ``LinearClsHead.init_cfg`` reproducing network ``name``'s own FC init (see ``HEAD_INIT``)."""
    if name not in HEAD_INIT:
        raise KeyError(f'no official classifier init known for {name!r}; known: {", ".join(sorted(HEAD_INIT))}.')
    return copy.deepcopy(HEAD_INIT[name])


def all_model_cfgs() -> Dict[str, dict]:
    """Every name the converter knows -> backbone config (copies)."""
    return copy.deepcopy({**REPDISTILLER_MODELS, **REPDISTILLER_EXTRA_MODELS, **IMAGENET_MODELS})


def backbone_cfg(name: str) -> dict:
    cfgs = all_model_cfgs()
    if name not in cfgs:
        raise ValueError(f'unknown model name {name!r}; known: {", ".join(sorted(cfgs))}.')
    return cfgs[name]


def classifier_cfg(name: str, num_classes: int = 100) -> dict:
    """mmpretrain ``ImageClassifier`` config = backbone ``name`` + ``ReLUGlobalAveragePooling`` +
    ``LinearClsHead(num_classes, in_channels=FEAT_DIM[name])`` with the network's own FC init."""
    backbone = backbone_cfg(name)
    in_channels = FEAT_DIM[name]
    head = dict(type='LinearClsHead', num_classes=num_classes, in_channels=in_channels,
                loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
    if name in HEAD_INIT:
        head['init_cfg'] = head_init_cfg(name)
    return dict(_scope_='mmpretrain', type='ImageClassifier', backbone=backbone,
                neck=dict(type='ReLUGlobalAveragePooling'), head=head)
