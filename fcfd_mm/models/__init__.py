"""Backbones cut into explicit stages for FCFD (``StagedBackbone``), registered in mmpretrain's
``MODELS``: RepDistiller's CIFAR-100 networks (``RepCifarResNet``, ``RepCifarResNet50``,
``RepCifarWRN``, ``RepCifarVGG``, ``RepCifarMobileNetV2``, ``RepCifarShuffleNetV1``,
``RepCifarShuffleNetV2``), the ImageNet students ``StagedResNet`` and ``MobileNetV1``, and the
``ReLUGlobalAveragePooling`` neck. ``REPDISTILLER_MODELS`` / ``REPDISTILLER_FEAT_DIM`` name the 13
CRD-benchmark networks; :func:`convert_repdistiller_state_dict` loads their checkpoints.
"""
from .convert import convert_repdistiller_state_dict
from .mobilenet import MobileNetV1, RepCifarMobileNetV2
from .necks import ReLUGlobalAveragePooling
from .resnet import RepCifarResNet, RepCifarResNet50, StagedResNet
from .shufflenet import RepCifarShuffleNetV1, RepCifarShuffleNetV2
from .staged import StagedBackbone
from .vgg import RepCifarVGG
from .wrn import RepCifarWRN
from .zoo import (FEAT_DIM, IMAGENET_MODELS, REPDISTILLER_EXTRA_MODELS, REPDISTILLER_FEAT_DIM,
                  REPDISTILLER_MODELS, backbone_cfg, classifier_cfg)

__all__ = [
    'StagedBackbone', 'RepCifarResNet', 'RepCifarResNet50', 'RepCifarWRN', 'RepCifarVGG',
    'RepCifarMobileNetV2', 'RepCifarShuffleNetV1', 'RepCifarShuffleNetV2', 'StagedResNet', 'MobileNetV1',
    'ReLUGlobalAveragePooling', 'REPDISTILLER_MODELS', 'REPDISTILLER_FEAT_DIM', 'REPDISTILLER_EXTRA_MODELS',
    'IMAGENET_MODELS', 'FEAT_DIM', 'backbone_cfg', 'classifier_cfg', 'convert_repdistiller_state_dict',
]
