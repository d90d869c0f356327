"""Backbones cut into explicit stages for FCFD (``StagedBackbone``), registered in mmpretrain's
``MODELS``: RepDistiller's CIFAR-100 networks (``RepCifarResNet``, ``RepCifarResNet50``,
``RepCifarWRN``, ``RepCifarVGG``, ``RepCifarMobileNetV2``, ``RepCifarShuffleNetV1``,
``RepCifarShuffleNetV2``), the ImageNet students ``StagedResNet`` and ``MobileNetV1``, and the
``ReLUGlobalAveragePooling`` neck. ``REPDISTILLER_MODELS`` / ``REPDISTILLER_FEAT_DIM`` name the 13
CRD-benchmark networks; :func:`convert_repdistiller_state_dict` loads their checkpoints.
"""
try:
    import mmpretrain  # noqa: F401
except ImportError as exc:  # detection-only install
    raise ImportError('fcfd_mm.models (the staged classification backbones) needs mmpretrain: '
                      '`pip install -r requirements/classification.txt` (mmpretrain==1.2.0).') from exc

from .convert import convert_repdistiller_state_dict  # noqa: E402
from .mobilenet import MobileNetV1, RepCifarMobileNetV2  # noqa: E402
from .necks import ReLUGlobalAveragePooling  # noqa: E402
from .resnet import RepCifarResNet, RepCifarResNet50, StagedResNet  # noqa: E402
from .shufflenet import RepCifarShuffleNetV1, RepCifarShuffleNetV2  # noqa: E402
from .staged import StagedBackbone  # noqa: E402
from .vgg import RepCifarVGG  # noqa: E402
from .wrn import RepCifarWRN  # noqa: E402
from .zoo import (  # noqa: E402
    FEAT_DIM,
    IMAGENET_MODELS,
    REPDISTILLER_EXTRA_MODELS,
    REPDISTILLER_FEAT_DIM,
    REPDISTILLER_MODELS,
    backbone_cfg,
    classifier_cfg,
)

__all__ = [
    'StagedBackbone', 'RepCifarResNet', 'RepCifarResNet50', 'RepCifarWRN', 'RepCifarVGG',
    'RepCifarMobileNetV2', 'RepCifarShuffleNetV1', 'RepCifarShuffleNetV2', 'StagedResNet', 'MobileNetV1',
    'ReLUGlobalAveragePooling', 'REPDISTILLER_MODELS', 'REPDISTILLER_FEAT_DIM', 'REPDISTILLER_EXTRA_MODELS',
    'IMAGENET_MODELS', 'FEAT_DIM', 'backbone_cfg', 'classifier_cfg', 'convert_repdistiller_state_dict',
]
