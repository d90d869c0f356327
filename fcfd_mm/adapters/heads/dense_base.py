"""What every dense (one-stage) detector head shares in FCFD: the head runs on the whole
(bridged) FPN-like tuple, its per-level maps are flattened to one row per location and prior,
and each named output gets the distance that fits what it predicts (docs/families.md).

A family adapter subclasses :class:`DenseHeadBase` and says

* which head classes it serves (:meth:`DenseHeadBase.head_types`, exact types: a subclass that
  changes what the maps mean is refused until an adapter is registered for it);
* how the head's forward tuple becomes named per-level maps (:meth:`DenseHeadBase.level_maps`),
  e.g. box distances divided by the level's stride so that every level has the same scale;
* the default output losses of those names (:attr:`DenseHeadBase.output_losses`);
* optionally the output that scales the teacher's class score in its row weight
  (:attr:`DenseHeadBase.quality_output`, e.g. centerness), whether the head must score classes with
  sigmoids (:attr:`DenseHeadBase.sigmoid_classes`) and family checks of the two heads
  (:meth:`DenseHeadBase.check_heads`).

Levels and channels of the switch point come from the neck's actual outputs (a dry run where
the neck has no ``num_outs``) and the head's own prior generator, never from config keys.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor, nn

from ..common import HeadOutputs, LevelContext, UnsupportedModelError, check_same, num_classes, num_neck_levels
from .base import HeadAdapter

ANCHOR_WEIGHTINGS = (None, 'teacher_score')


def flatten_levels(per_level: Sequence[Tensor], width: int) -> Tensor:
    """``[(B, A*width, H, W)]`` -> ``(B * sum(H*W*A), width)`` in (batch, level, y, x, prior) order."""
    b = per_level[0].shape[0]
    return torch.cat([t.permute(0, 2, 3, 1).reshape(b, -1, width) for t in per_level], dim=1).reshape(-1, width)


def level_strides(head: nn.Module) -> List[int]:
    """The stride (input pixels per location, along x) of every level ``head`` reads."""
    gen = getattr(head, 'prior_generator', None)
    strides = getattr(gen, 'strides', None) or getattr(head, 'strides', None)
    if strides is None:
        raise UnsupportedModelError(f'{type(head).__name__} has no prior_generator.strides: FCFD cannot tell which '
                                    f'levels it reads.')
    return [int(s[0]) if isinstance(s, (tuple, list)) else int(s) for s in strides]


class DenseHeadBase(HeadAdapter):
    """A one-stage detector (``SingleStageDetector``) with a dense head on a multi-level neck.

    Output rows are the head's locations (times priors per location) over all levels read, in
    (image, level, y, x, prior) order; with ``fcfd.neck.levels`` only those levels' rows.

    Args:
        anchor_weighting: ``'teacher_score'`` (default): each row's output losses are weighted by
            the teacher's detection score there (:meth:`teacher_score`, no gradient), so that the
            many background locations do not swamp the few on objects; ``None``: all rows equal.
    """

    #: what the adapter serves, in words (error messages, docs/families.md)
    family: str = 'a dense detector head'
    #: ``{output name: default loss config}`` (``fcfd.neck.output_losses`` overrides)
    output_losses: Dict[str, dict] = {}
    #: the output whose sigmoid multiplies the teacher's highest class probability in the row
    #: weights, as the head's ``predict`` ranks boxes (``'centerness'``, ``'obj'``), or ``None``
    quality_output: Optional[str] = None
    #: serve only heads that score classes with sigmoids (``use_sigmoid_cls``)
    sigmoid_classes: bool = False
    #: the detector's attribute holding the dense head (``'mask_head'`` for SOLO's category grid)
    head_attr: str = 'bbox_head'

    def __init__(self, student: nn.Module, teacher: nn.Module,
                 anchor_weighting: Optional[str] = 'teacher_score') -> None:
        if anchor_weighting not in ANCHOR_WEIGHTINGS:
            raise ValueError(f"{type(self).__name__}: anchor_weighting must be None or 'teacher_score', "
                             f'got {anchor_weighting!r}')
        self.anchor_weighting = anchor_weighting
        super().__init__(student, teacher)
        self.num_classes = num_classes(self.dense_head(student))
        self.strides = self.head_strides(student)
        priors = getattr(self.dense_head(student), 'num_base_priors', 1)
        # priors per location of the first level (SSD lists one number per level; a row's width is
        # the same on every level, so the first level's channels / priors give it)
        self.num_priors = int(priors[0] if isinstance(priors, (list, tuple)) else priors)
        self._student_head = self.dense_head(student)  # its mode at the loss pass gives the recorded maps' meaning

    # ------------------------------------------------------------------ the family
    @classmethod
    @abstractmethod
    def head_types(cls) -> Tuple[type, ...]:
        """The exact head classes this adapter serves."""

    @classmethod
    def dense_head(cls, model: nn.Module) -> Optional[nn.Module]:
        """``model``'s dense head (its :attr:`head_attr`), ``None`` where it has none."""
        return getattr(model, cls.head_attr, None)

    @classmethod
    def detector_types(cls) -> Tuple[type, ...]:
        """The detector classes (and subclasses) whose dense head this adapter serves."""
        from mmdet.models.detectors import SingleStageDetector
        return (SingleStageDetector,)

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        head = cls.dense_head(model)
        return isinstance(model, cls.detector_types()) and type(head) in cls.head_types() and cls.head_ok(head)

    @classmethod
    def head_ok(cls, head: nn.Module) -> bool:
        """Extra conditions on a head of a served type: sigmoid class scores where
        :attr:`sigmoid_classes` asks for them."""
        return not cls.sigmoid_classes or bool(getattr(head, 'use_sigmoid_cls', False))

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        name = type(self).__name__
        s_head, t_head = self.dense_head(student), self.dense_head(teacher)
        check_same('number of classes', num_classes(s_head), num_classes(t_head),
                   'FCFD matches class scores, so both detectors must be trained on the same classes.')
        check_same('priors (anchors) per location', getattr(s_head, 'num_base_priors', 1),
                   getattr(t_head, 'num_base_priors', 1), 'Use the same prior / anchor generator in both configs.')
        check_same('head level strides', self.head_strides(student), self.head_strides(teacher),
                   'Use the same neck levels and prior_generator.strides in both configs.')
        check_same('number of neck levels', num_neck_levels(student), num_neck_levels(teacher),
                   'Use the same neck (number of outputs) in both configs.')
        if len(self.head_strides(student)) > num_neck_levels(student):
            raise UnsupportedModelError(f'{name}: the head reads {len(self.head_strides(student))} levels but the neck '
                                        f'returns {num_neck_levels(student)}.')
        self.check_heads(s_head, t_head)

    def check_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        """Family-specific checks that the two heads' outputs can be compared row by row."""

    def head_strides(self, model: nn.Module) -> List[int]:
        """The stride of every level ``model``'s head reads: its prior generator's
        (:func:`level_strides`); a head without one says so in its adapter."""
        return level_strides(self.dense_head(model))

    def num_head_levels(self, model: nn.Module) -> int:
        return len(self.head_strides(model))

    # ------------------------------------------------------------------ outputs
    @abstractmethod
    def level_maps(self, outputs: tuple, training: bool) -> Dict[str, List[Tensor]]:
        """``{output name: [(B, A * width, H_l, W_l) per level]}`` from the head's forward tuple
        (``training``: the head's mode when it ran, for heads whose maps change meaning with it)."""

    def head_maps(self, head: nn.Module, outputs: tuple) -> Dict[str, List[Tensor]]:
        """:meth:`level_maps` of the forward tuple ``head`` returned; an adapter whose maps depend on
        the head's own parameters (RepPoints' moment transfer) overrides this instead."""
        return self.level_maps(outputs, head.training)

    def rows(self, outputs: tuple, levels: Optional[Sequence[int]], head: nn.Module) -> HeadOutputs:
        """The named outputs of ``head``'s forward tuple as ``(N_rows, width)`` tensors, of ``levels``
        (``None``: all)."""
        out = {}
        for name, maps in self.head_maps(head, outputs).items():
            keep = maps if levels is None else [maps[lv] for lv in levels]
            out[name] = flatten_levels(keep, maps[0].shape[1] // self.num_priors)
        return out

    def default_output_losses(self) -> Dict[str, dict]:
        return {name: dict(cfg) for name, cfg in self.output_losses.items()}

    def default_neck_settings(self) -> Dict[str, Any]:
        """Every dense family's FPN switch point is scale-free by default: the bridges start from
        the receiving network's per-channel feature statistics (``bridge_init``) and the appearance
        term is the MSE relative to the teacher's mean square (``RelativeMSELoss``), so neither the
        hybrids' inputs nor the appearance term depend on the scale of the neck's outputs
        (docs/method.md, "Scale-free FPN switch point")."""
        return dict(bridge_init='receiver_statistics', appearance_loss=dict(type='RelativeMSELoss', loss_weight=1.0))

    def student_recorders(self) -> Dict[str, dict]:
        return dict(neck=self.switch_recorder(),
                    dense_head=dict(type='ModuleOutputs', source=self.head_attr))

    def consistency_context(self, records: RecorderManager, student: nn.Module,
                            levels: Optional[Sequence[int]] = None) -> LevelContext:
        """All head levels, or only ``levels`` (0 = the highest-resolution level the head reads)."""
        return LevelContext(None if levels is None else tuple(sorted(levels)))

    def student_outputs(self, records: RecorderManager, context: LevelContext) -> HeadOutputs:
        recorder = records.get_recorder('dense_head')
        if len(recorder.data_buffer) != 1:
            raise RuntimeError(f'{type(self).__name__} expected one student head forward per loss pass, '
                               f'saw {len(recorder.data_buffer)}.')
        return self.rows(tuple(recorder.get_record_data(0)), context.levels, self._student_head)

    @classmethod
    def shared_across_levels(cls, head: nn.Module) -> bool:
        """Whether ``head`` applies the same layers to every level (no per-level layers, scales or
        strides), so it can run on a subset of levels alone."""
        return False

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: LevelContext) -> HeadOutputs:
        """The head on the levels of ``context``: a head with per-level layers, scales or strides
        runs on every level it reads and only the rows of ``context.levels`` are kept; a head
        shared across levels runs on those levels only (a level left out costs nothing)."""
        head = self.dense_head(model)
        feats = tuple(feats)[:self.num_head_levels(model)]
        if context.levels is not None and self.shared_across_levels(head):
            return self.rows(tuple(head(tuple(feats[lv] for lv in context.levels))), None, head)
        return self.rows(tuple(head(feats)), context.levels, head)

    def predict_on_features(self, model: nn.Module, feats: Sequence[Tensor], data_samples: list) -> list:
        """``SingleStageDetector.predict`` after ``extract_feat``: the dense head of ``model`` on
        ``feats`` (boxes rescaled to the original image)."""
        results = self.dense_head(model).predict(tuple(feats), data_samples, rescale=True)
        return model.add_pred_to_datasample(data_samples, results)

    # ------------------------------------------------------------------ row weights
    def row_weights(self, teacher_outputs: HeadOutputs) -> Optional[Tensor]:
        if self.anchor_weighting == 'teacher_score':
            return self.teacher_score(teacher_outputs).detach()
        return None

    def teacher_score(self, teacher_outputs: HeadOutputs) -> Tensor:
        """``(N,)`` the teacher's detection score per row: its highest class probability, times the
        sigmoid of :attr:`quality_output` where the family has one (as its ``predict`` ranks boxes)."""
        score = teacher_outputs['cls'].detach().sigmoid().max(dim=1).values
        if self.quality_output is None:
            return score
        return score * teacher_outputs[self.quality_output].detach().sigmoid().squeeze(1)
