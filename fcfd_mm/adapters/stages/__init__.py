"""Stage cutters, one module per backbone family, registered in ``STAGE_CUTTERS``."""
from .base import StageCutter
from .mobilenet_v2 import MobileNetV2Cutter
from .resnet import ResNetCutter
from .staged import StagedBackboneCutter

__all__ = ['StageCutter', 'ResNetCutter', 'MobileNetV2Cutter', 'StagedBackboneCutter']
