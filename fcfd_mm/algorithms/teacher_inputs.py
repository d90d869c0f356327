"""The teacher's own input normalisation: student-preprocessed images re-normalised for the teacher.

MMRazor's distillation algorithms preprocess a batch once, with the student's data preprocessor,
and hand the same tensor to the teacher. That is right when both configs normalise alike (an
R101 / R50 pair of one family), and silently wrong when they do not: mmdet's ``-caffe`` models
(FCOS R101-caffe, the teacher of MMRazor's FCOS -> RetinaNet pair) take BGR images minus the
caffe mean with unit std, the ``pytorch``-style ones RGB images standardised by the ImageNet
mean and std. :class:`TeacherNormalization` maps one to the other from the two data
preprocessors (mmengine's ``ImgDataPreprocessor`` family: mmdet's ``DetDataPreprocessor``,
mmpretrain's ``ClsDataPreprocessor``); it is not needed (``None``) when they agree.

With ``m_s, s_s`` / ``m_t, s_t`` the student's / teacher's per-channel mean and std and ``P`` the
channel flip where exactly one of them converts BGR <-> RGB, a student input ``x`` becomes::

    x_t = (P(x * s_s + m_s) - m_t) / s_t

and the padding the student's preprocessor added (right and bottom of each image's
``img_shape``) is set to the teacher's ``pad_value``, as the teacher's own preprocessor pads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor, nn


@dataclass
class Normalization:
    """One data preprocessor's normalisation: ``(x - mean) / std`` after an optional channel flip.

    Attributes:
        mean, std: ``(C, 1, 1)`` float tensors (0 / 1 when the preprocessor does not normalise).
        flips_channels: whether it converts BGR <-> RGB (``bgr_to_rgb`` / ``rgb_to_bgr`` / ``to_rgb``).
        pad_value: what it pads with, after normalising.
        normalizes: whether it has a ``mean`` / ``std`` at all (a model config without
            ``data_preprocessor`` gets a default one that does not, as in MMRazor's configs that
            preprocess at the algorithm).
    """

    mean: Tensor
    std: Tensor
    flips_channels: bool
    pad_value: float
    normalizes: bool = True

    @classmethod
    def of(cls, preprocessor: Optional[nn.Module]) -> Optional['Normalization']:
        """The normalisation of an mmengine ``ImgDataPreprocessor`` (or subclass), ``None`` for a
        preprocessor that does not say how it normalises."""
        if preprocessor is None or not hasattr(preprocessor, '_enable_normalize'):
            return None
        normalizes = bool(preprocessor._enable_normalize)
        if normalizes:
            mean, std = preprocessor.mean.detach().float().cpu(), preprocessor.std.detach().float().cpu()
        else:
            mean, std = torch.zeros(1, 1, 1), torch.ones(1, 1, 1)
        flips = bool(getattr(preprocessor, '_channel_conversion', False) or getattr(preprocessor, 'to_rgb', False))
        return cls(mean, std, flips, float(getattr(preprocessor, 'pad_value', 0)), normalizes)

    def same_as(self, other: 'Normalization') -> bool:
        return (self.flips_channels == other.flips_channels and self.pad_value == other.pad_value
                and _same(self.mean, other.mean) and _same(self.std, other.std))


def _same(a: Tensor, b: Tensor) -> bool:
    """Equal values, a 1-channel tensor against a C-channel one by broadcasting."""
    try:
        a, b = torch.broadcast_tensors(a.flatten(), b.flatten())
    except RuntimeError:
        return False
    return bool(torch.equal(a, b))


class TeacherNormalization(nn.Module):
    """Re-normalise student-preprocessed images for the teacher (see the module docstring).

    Build it with :meth:`between`, which returns ``None`` when the two preprocessors normalise
    alike or the teacher's does not normalise at all (its config leaves preprocessing to the
    algorithm's preprocessor), so that those pairs run exactly as before.

    Args:
        student, teacher: the two preprocessors' :class:`Normalization`.
    """

    def __init__(self, student: Normalization, teacher: Normalization) -> None:
        super().__init__()
        self.flip = student.flips_channels != teacher.flips_channels
        # not in the state dict: they are the configs' values, not trained ones
        self.register_buffer('student_mean', student.mean, persistent=False)
        self.register_buffer('student_std', student.std, persistent=False)
        self.register_buffer('teacher_mean', teacher.mean, persistent=False)
        self.register_buffer('teacher_std', teacher.std, persistent=False)
        self.pad_value = teacher.pad_value

    @classmethod
    def between(cls, student: Optional[nn.Module], teacher: Optional[nn.Module]) -> Optional['TeacherNormalization']:
        """The conversion from the algorithm's (the student's) data preprocessor to the teacher's,
        or ``None`` when they normalise alike or the teacher's does not normalise.

        Raises:
            ValueError: the teacher's preprocessor normalises but the student's does not say how it
                does (no conversion can be derived).
        """
        s, t = Normalization.of(student), Normalization.of(teacher)
        if t is None or not t.normalizes:  # the teacher's config leaves it to the algorithm's preprocessor
            return None
        if s is None:
            raise ValueError(f'FCFD: the teacher normalises its inputs ({type(teacher).__name__}) but the '
                             f'algorithm\'s data preprocessor ({type(student).__name__}) does not say how it does, '
                             f'so the teacher cannot be given its own normalisation. Give both models an mmengine / '
                             f'mmdet data preprocessor (e.g. DetDataPreprocessor with mean, std and bgr_to_rgb).')
        return None if s.same_as(t) else cls(s, t)

    def forward(self, inputs: Tensor, data_samples: Optional[Sequence] = None) -> Tensor:
        """``(B, C, H, W)`` student inputs -> the teacher's. ``data_samples``' ``img_shape`` (the image
        before padding) marks the padding, which gets the teacher's ``pad_value``; without data
        samples every pixel is converted."""
        raw = inputs * self.student_std.to(inputs) + self.student_mean.to(inputs)
        if self.flip:
            raw = raw.flip(1)
        out = (raw - self.teacher_mean.to(inputs)) / self.teacher_std.to(inputs)
        if data_samples:
            for i, sample in enumerate(data_samples):
                h, w = (int(v) for v in sample.metainfo.get('img_shape', out.shape[-2:])[:2])
                out[i, :, h:, :] = self.pad_value
                out[i, :, :, w:] = self.pad_value
        return out

    def extra_repr(self) -> str:
        return f'flip_channels={self.flip}, pad_value={self.pad_value}'
