"""Model-family adapters: where to cut a detector and how to run its head (see base.py)."""
from typing import Optional

from torch import nn

from .base import FCFDTail, UnsupportedModelError
from .classifier import ImageClassifierTail
from .dense_head import DenseHeadTail
from .roi_box_head import RoIBoxHeadTail

TAILS = {'RoIBoxHeadTail': RoIBoxHeadTail, 'DenseHeadTail': DenseHeadTail, 'ImageClassifierTail': ImageClassifierTail}


def build_tail(student: nn.Module, teacher: nn.Module, cfg: Optional[dict] = None) -> FCFDTail:
    """Build the adapter named by ``cfg['type']``, or pick the one that supports the student."""
    cfg = dict(cfg or {})
    name = cfg.pop('type', None)
    if name is None:
        for cls in TAILS.values():
            if cls.supports(student):
                return cls(student, teacher, **cfg)
        head = getattr(student, 'roi_head', None) or getattr(student, 'bbox_head', None)
        with_head = f' with {type(head).__name__}' if head is not None else ''
        raise UnsupportedModelError(
            f'FCFD has no adapter for {type(student).__name__}{with_head}. Supported: Faster R-CNN-style '
            'two-stage detectors with FPN + StandardRoIHead (RoIBoxHeadTail), RetinaNet-style single-stage '
            'detectors with FPN + a sigmoid anchor head (DenseHeadTail), mmpretrain ImageClassifiers with a '
            'staged backbone (ImageClassifierTail).')
    if name not in TAILS:
        raise KeyError(f'fcfd.tail.type={name!r} is unknown; choose one of {sorted(TAILS)}.')
    return TAILS[name](student, teacher, **cfg)


__all__ = ['FCFDTail', 'UnsupportedModelError', 'RoIBoxHeadTail', 'DenseHeadTail', 'ImageClassifierTail', 'TAILS',
           'build_tail']
