"""Model-family adapters of FCFD, in two registries (:mod:`.registry`):

* head adapters (``HEAD_ADAPTERS``, ``heads/``): how to run a family's head -- the RoI box heads
  (``heads/roi_box_head.py``: Faster R-CNN's and Mask R-CNN's ``RoIBoxHeadAdapter``, PISA's,
  CrowdDet's multi-instance, TridentNet's and Grid R-CNN's), the cascades' stage box heads
  (``heads/cascade.py``: Cascade R-CNN, HTC, SCNet), the dense heads of RetinaNet and ATSS
  (``heads/dense_head.py``), FCOS, YOLOX and RTMDet (``heads/anchor_free.py``), GFL (``heads/gfl.py``),
  DDOD, PAA, TOOD, VarifocalNet, AutoAssign, FoveaBox, CenterNet-Update, CenterNet, CornerNet,
  CentripetalNet, YOLOv3, SSD and RPN (``heads/quality_dense.py``), RepPoints, SABL RetinaNet and
  Guided Anchoring (``heads/box_encodings.py``), the box heads of CondInst / BoxInst and YOLACT and
  SOLO's category grid (``heads/instance_seg.py``), a teacher and a student of different families
  (``CrossFamilyHeadAdapter``), an image classifier's head (``ClassifierHeadAdapter``); families FCFD
  cannot serve (DETR-style set prediction, ...) are refused with the reason (``refusals.py``;
  docs/families.md);
* stage cutters (``STAGE_CUTTERS``, ``stages/``): where to cut a backbone at its stage boundaries --
  mmdet ``ResNet`` (``ResNetCutter``), mmdet ``MobileNetV2`` (``MobileNetV2Cutter``), the staged
  classification backbones (``StagedBackboneCutter``).

Config: ``fcfd.head=dict(type=...)`` names the head adapter, ``fcfd.stages.cutter=dict(type=...)``
the stage cutter; without ``type`` the most recently registered class whose ``supports(model)`` holds
is used (so a family registered by a user's module wins over a built-in one it specialises).
"""
from typing import Optional

from torch import nn

from .common import (
    HeadContext,
    HeadOutputs,
    LevelContext,
    RoIContext,
    StagedRoIContext,
    UnsupportedModelError,
    has_neck,
    neck_level_channels,
    neck_level_strides,
    num_neck_levels,
)
from .heads import (
    ATSSHeadAdapter,
    AutoAssignHeadAdapter,
    CascadeRoIHeadAdapter,
    CenterNetHeadAdapter,
    CenterNetUpdateHeadAdapter,
    CentripetalHeadAdapter,
    ClassifierHeadAdapter,
    CondInstHeadAdapter,
    CornerHeadAdapter,
    CrossFamilyHeadAdapter,
    DDODHeadAdapter,
    DenseHeadAdapter,
    DenseHeadBase,
    FCOSHeadAdapter,
    FoveaHeadAdapter,
    GFLHeadAdapter,
    GridRoIBoxHeadAdapter,
    GuidedAnchorHeadAdapter,
    HeadAdapter,
    HTCRoIHeadAdapter,
    MultiInstanceRoIBoxHeadAdapter,
    PAAHeadAdapter,
    PISARoIBoxHeadAdapter,
    RepPointsHeadAdapter,
    RoIBoxHeadAdapter,
    RPNHeadAdapter,
    RTMDetHeadAdapter,
    SABLRetinaHeadAdapter,
    SCNetRoIHeadAdapter,
    SOLOHeadAdapter,
    SSDHeadAdapter,
    TOODHeadAdapter,
    TridentRoIBoxHeadAdapter,
    VFNetHeadAdapter,
    YOLACTHeadAdapter,
    YOLOV3HeadAdapter,
    YOLOXHeadAdapter,
)
from .refusals import refusal_reason
from .registry import HEAD_ADAPTERS, STAGE_CUTTERS, find_head_adapter
from .stages import MobileNetV2Cutter, ResNetCutter, StageCutter, StagedBackboneCutter


def supported_families() -> str:
    """The families the registered head adapters serve, one ``family (Adapter)`` per adapter."""
    HEAD_ADAPTERS.import_from_location()
    return '; '.join(f'{getattr(cls, "family", name)} ({name})' for name, cls in HEAD_ADAPTERS.module_dict.items())


def unsupported_message(model: nn.Module) -> str:
    """Why no head adapter serves ``model``, with the fix: the family's own reason where FCFD
    rules it out (:func:`refusal_reason`), else the supported families and how to add one."""
    reason = refusal_reason(model)
    if reason is not None:
        return reason
    head = getattr(model, 'roi_head', None) or getattr(model, 'bbox_head', None)
    neck = getattr(model, 'neck', None)
    parts = [type(m).__name__ for m in (neck, head) if m is not None]
    with_parts = f' (with {" + ".join(parts)})' if parts else ''
    return (f'FCFD has no adapter for {type(model).__name__}{with_parts}. Supported: {supported_families()}. '
            f'To distil another family, register a head adapter for it with @HEAD_ADAPTERS.register_module() '
            f'(fcfd_mm.adapters; a dense head can subclass DenseHeadBase) in a module of custom_imports; see '
            f'docs/families.md.')


def build_head_adapter(student: nn.Module, teacher: nn.Module, cfg: Optional[dict] = None) -> HeadAdapter:
    """Build the head adapter named by ``cfg['type']``, or the latest registered one that supports the student."""
    cfg = dict(cfg or {})
    name = cfg.pop('type', None)
    for role, model in (('student', student), ('teacher', teacher)):  # families FCFD rules out, named first
        reason = refusal_reason(model)
        if reason is not None:
            raise UnsupportedModelError(reason if role == 'student' else f'The teacher: {reason}')
    if name is None:
        cls = find_head_adapter(student)
        if cls is None:
            raise UnsupportedModelError(unsupported_message(student))
        if cls.supports(teacher) or find_head_adapter(teacher) is None:
            return cls(student, teacher, **cfg)  # one family (or a teacher no adapter serves: check_pair says so)
        # teacher and student of different families, each served by its own adapter
        return CrossFamilyHeadAdapter(student, teacher, teacher_head=cfg or None)
    cls = HEAD_ADAPTERS.get(name)
    if cls is None:
        raise KeyError(f'fcfd.head.type={name!r} is unknown; choose one of {sorted(HEAD_ADAPTERS.module_dict)} '
                       f'or register one with @HEAD_ADAPTERS.register_module().')
    return cls(student, teacher, **cfg)


def build_stage_cutter(model: nn.Module, role: str, cfg: Optional[dict] = None) -> StageCutter:
    """Build the stage cutter named by ``cfg['type']``, or the latest registered one that supports
    ``model``'s backbone, and check that it can cut it (``role``: 'student' / 'teacher')."""
    from mmdet.models.detectors.base import BaseDetector
    if isinstance(model, BaseDetector) and not has_neck(model):
        raise UnsupportedModelError(
            f'stage switch points: the {role} ({type(model).__name__}) has no neck, so its head reads the '
            f'backbone\'s outputs directly and no network part follows the backbone stages but the head. Use '
            f'fcfd.neck only for this pair (its switch point is then the backbone\'s outputs).')
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


__all__ = ['HEAD_ADAPTERS', 'STAGE_CUTTERS', 'HeadAdapter', 'StageCutter', 'RoIBoxHeadAdapter', 'PISARoIBoxHeadAdapter',
           'DenseHeadAdapter', 'ATSSHeadAdapter', 'DenseHeadBase', 'CascadeRoIHeadAdapter', 'FCOSHeadAdapter',
           'HTCRoIHeadAdapter', 'SCNetRoIHeadAdapter', 'MultiInstanceRoIBoxHeadAdapter',
           'TridentRoIBoxHeadAdapter', 'GridRoIBoxHeadAdapter',
           'YOLOXHeadAdapter', 'RTMDetHeadAdapter', 'GFLHeadAdapter', 'DDODHeadAdapter', 'PAAHeadAdapter',
           'TOODHeadAdapter', 'VFNetHeadAdapter', 'AutoAssignHeadAdapter', 'FoveaHeadAdapter',
           'CenterNetHeadAdapter', 'CenterNetUpdateHeadAdapter', 'CornerHeadAdapter', 'CentripetalHeadAdapter',
           'YOLOV3HeadAdapter', 'SSDHeadAdapter',
           'RPNHeadAdapter', 'RepPointsHeadAdapter', 'SABLRetinaHeadAdapter', 'GuidedAnchorHeadAdapter',
           'CondInstHeadAdapter',
           'YOLACTHeadAdapter', 'SOLOHeadAdapter',
           'ClassifierHeadAdapter', 'CrossFamilyHeadAdapter',
           'ResNetCutter', 'MobileNetV2Cutter', 'StagedBackboneCutter', 'HeadContext',
           'RoIContext', 'StagedRoIContext', 'LevelContext', 'HeadOutputs', 'UnsupportedModelError',
           'build_head_adapter', 'build_stage_cutter', 'neck_level_channels', 'neck_level_strides',
           'num_neck_levels',
           'supported_families', 'unsupported_message', 'refusal_reason']
