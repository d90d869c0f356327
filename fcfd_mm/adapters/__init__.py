"""Model-family adapters of FCFD, in two registries (:mod:`.registry`):

* head adapters (``HEAD_ADAPTERS``, ``heads/``): how to run a family's head -- Faster R-CNN's RoI
  box head (``RoIBoxHeadAdapter``), RetinaNet's dense head (``DenseHeadAdapter``), an image
  classifier's head (``ClassifierHeadAdapter``);
* stage cutters (``STAGE_CUTTERS``, ``stages/``): where to cut a backbone at its stage boundaries --
  mmdet ``ResNet`` (``ResNetCutter``), mmdet ``MobileNetV2`` (``MobileNetV2Cutter``), the staged
  classification backbones (``StagedBackboneCutter``).

Config: ``fcfd.head=dict(type=...)`` names the head adapter, ``fcfd.stages.cutter=dict(type=...)``
the stage cutter; without ``type`` the most recently registered class whose ``supports(model)`` holds
is used (so a family registered by a user's module wins over a built-in one it specialises).
"""
from typing import Optional

from torch import nn

from .common import HeadContext, HeadOutputs, LevelContext, RoIContext, UnsupportedModelError
from .heads import ClassifierHeadAdapter, DenseHeadAdapter, HeadAdapter, RoIBoxHeadAdapter
from .registry import HEAD_ADAPTERS, STAGE_CUTTERS
from .stages import MobileNetV2Cutter, ResNetCutter, StageCutter, StagedBackboneCutter


def build_head_adapter(student: nn.Module, teacher: nn.Module, cfg: Optional[dict] = None) -> HeadAdapter:
    """Build the head adapter named by ``cfg['type']``, or the latest registered one that supports the student."""
    cfg = dict(cfg or {})
    name = cfg.pop('type', None)
    if name is None:
        HEAD_ADAPTERS.import_from_location()
        for cls in reversed(list(HEAD_ADAPTERS.module_dict.values())):  # the latest registered first
            if cls.supports(student):
                return cls(student, teacher, **cfg)
        head = getattr(student, 'roi_head', None) or getattr(student, 'bbox_head', None)
        with_head = f' with {type(head).__name__}' if head is not None else ''
        raise UnsupportedModelError(
            f'FCFD has no adapter for {type(student).__name__}{with_head}. Supported: Faster R-CNN-style '
            'two-stage detectors with FPN + StandardRoIHead (RoIBoxHeadAdapter), RetinaNet-style single-stage '
            'detectors with FPN + a sigmoid anchor head (DenseHeadAdapter), mmpretrain ImageClassifiers with a '
            'staged backbone (ClassifierHeadAdapter). Another family needs a head adapter registered with '
            '@HEAD_ADAPTERS.register_module() (fcfd_mm.adapters) in a module of custom_imports.')
    cls = HEAD_ADAPTERS.get(name)
    if cls is None:
        raise KeyError(f'fcfd.head.type={name!r} is unknown; choose one of {sorted(HEAD_ADAPTERS.module_dict)} '
                       f'or register one with @HEAD_ADAPTERS.register_module().')
    return cls(student, teacher, **cfg)


def build_stage_cutter(model: nn.Module, role: str, cfg: Optional[dict] = None) -> StageCutter:
    """Build the stage cutter named by ``cfg['type']``, or the latest registered one that supports
    ``model``'s backbone, and check that it can cut it (``role``: 'student' / 'teacher')."""
    cfg = dict(cfg or {})
    name = cfg.pop('type', None)
    if name is None:
        STAGE_CUTTERS.import_from_location()
        found = [cls for cls in reversed(list(STAGE_CUTTERS.module_dict.values())) if cls.supports(model)]
        if not found:
            backbone = type(getattr(model, 'backbone', None)).__name__
            raise UnsupportedModelError(
                f'stage switch points: the {role} backbone ({backbone}) has no stage cutter; FCFD can cut mmdet '
                f'ResNet-style backbones (ResNet, ResNeXt, Res2Net...), mmdet MobileNetV2 and the staged '
                f'backbones of fcfd_mm.models. Use fcfd.neck only for this pair, or register a cutter with '
                f'@STAGE_CUTTERS.register_module() (fcfd_mm.adapters).')
        cls = found[0]
    else:
        cls = STAGE_CUTTERS.get(name)
        if cls is None:
            raise KeyError(f'fcfd.stages.cutter.type={name!r} is unknown; choose one of '
                           f'{sorted(STAGE_CUTTERS.module_dict)}.')
    cutter = cls(**cfg)
    cutter.check(model, role)
    return cutter


__all__ = ['HEAD_ADAPTERS', 'STAGE_CUTTERS', 'HeadAdapter', 'StageCutter', 'RoIBoxHeadAdapter', 'DenseHeadAdapter',
           'ClassifierHeadAdapter', 'ResNetCutter', 'MobileNetV2Cutter', 'StagedBackboneCutter', 'HeadContext',
           'RoIContext', 'LevelContext', 'HeadOutputs', 'UnsupportedModelError',
           'build_head_adapter', 'build_stage_cutter']
