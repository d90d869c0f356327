"""Teacher and student of different detector families (e.g. an FCOS teacher, a RetinaNet student).

What FCFD keeps well defined for such a pair (docs/method.md, "Cross-family pairs"):

* the appearance term, on the neck levels of equal stride (matched by stride, not by index: a
  Faster R-CNN student's P2-P6 against an FCOS teacher's P3-P7 pairs P3-P6);
* the ``st`` path: the bridged student features run through the teacher's own head, which is
  compared with the teacher's head on the teacher's features, so both sides of every output term
  are the teacher head's outputs (same rows, same meaning), whatever the student's head predicts.

The ``s`` and ``ts`` paths compare the student head's outputs with the teacher head's, row by row;
two heads of different families differ in what a row is (anchors per location, centre points,
RoIs) and in what its columns mean (softmax or sigmoid scores, deltas, distances, distributions),
so these paths are refused for such a pair, with that reason.

The adapter holds one adapter per network, each built for that network alone (the teacher's as
``(teacher, teacher)``); the teacher's decides the output losses, the row weights and the rows
(the teacher head's levels that have a student level of the same stride). The teacher is a dense
(one-stage) detector: a RoI head reads RoIs, which the student would have to propose for it, and
which proposals its ``st`` path should then run on is a choice FCFD does not define.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor, nn

from ..common import HeadOutputs, LevelContext, UnsupportedModelError, neck_level_channels, neck_level_strides
from ..registry import HEAD_ADAPTERS, find_head_adapter
from .base import HeadAdapter, describe
from .dense_base import DenseHeadBase


def stride_matched_levels(student_strides: Sequence[int], teacher_strides: Sequence[int]) -> Dict[int, int]:
    """``{student level: teacher level}`` for every pair of neck levels of equal stride (0-based).

    >>> stride_matched_levels([4, 8, 16, 32, 64], [8, 16, 32, 64, 128])
    {1: 0, 2: 1, 3: 2, 4: 3}
    """
    teacher_level = {s: i for i, s in enumerate(teacher_strides)}
    return {i: teacher_level[s] for i, s in enumerate(student_strides) if s in teacher_level}


def _build_one(model: nn.Module, cfg: Optional[dict], role: str) -> HeadAdapter:
    """The head adapter of ``model`` alone (built as ``(model, model)``): ``cfg['type']`` or the one
    that supports it."""
    cfg = dict(cfg or {})
    name = cfg.pop('type', None)
    # CrossFamilyHeadAdapter.supports is False for every model, so it is never found for one network
    cls = HEAD_ADAPTERS.get(name) if name else find_head_adapter(model)
    if cls is None:
        raise UnsupportedModelError(f'CrossFamilyHeadAdapter: no head adapter serves the {role} ({describe(model)})'
                                    + (f'; fcfd.head.{role}.type={name!r} is unknown.' if name else '.'))
    return cls(model, model, **cfg)


@HEAD_ADAPTERS.register_module()
class CrossFamilyHeadAdapter(HeadAdapter):
    """A teacher and a student whose heads are of different families (see the module docstring).

    Picked by FCFD when no one adapter serves both networks but each has one; or named:
    ``fcfd.head=dict(type='CrossFamilyHeadAdapter', teacher=dict(...), student=dict(...))``.

    Args:
        student, teacher: the two detectors.
        teacher_head: the teacher's head adapter config (``type`` and its own arguments, e.g.
            ``anchor_weighting``), default: the one that serves the teacher.
        student_head: the student's, default: the one that serves the student (it only reads the
            student's neck outputs).
    """

    family = 'a teacher and a student of different detector families (the st path and the appearance term)'
    switch_points = ('neck',)
    default_switch_points = ('neck',)

    def __init__(self, student: nn.Module, teacher: nn.Module, teacher_head: Optional[dict] = None,
                 student_head: Optional[dict] = None) -> None:
        self.teacher_head = _build_one(teacher, teacher_head, 'teacher')
        self.student_head = _build_one(student, student_head, 'student')
        self._teacher = teacher
        super().__init__(student, teacher)
        self.matched = self.level_map(student, teacher)
        t_read = self.teacher_head.num_head_levels(teacher)
        print_log(f'FCFD: cross-family pair, teacher {describe(teacher)}, student {describe(student)}: path st and '
                  f'the appearance term on the neck levels of equal stride (student level -> teacher level '
                  f'{self.matched}); the teacher head reads {t_read} levels.', logger='current')

    # ------------------------------------------------------------------ the pair
    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        return False  # a pair adapter: chosen for two networks, never for one (build_head_adapter)

    def check_pair(self, student: nn.Module, teacher: nn.Module) -> None:
        if not isinstance(self.teacher_head, DenseHeadBase):
            raise UnsupportedModelError(
                f'CrossFamilyHeadAdapter: the teacher ({describe(teacher)}) has a RoI head. Its st path would run on '
                f'RoIs that the student of another family does not propose, and which proposals to run it on '
                f'FCFD does not define; a cross-family pair needs a dense (one-stage) teacher. Distil a two-stage '
                f'student from a two-stage teacher of its own family instead.')
        if 'neck' not in self.student_head.switch_points:
            raise UnsupportedModelError(f'CrossFamilyHeadAdapter: the student ({describe(student)}) has no neck '
                                        f'(FPN) switch point, the only one a cross-family pair has.')
        neck_level_channels(student), neck_level_channels(teacher)
        matched = self.level_map(student, teacher)
        if not matched:
            raise ValueError(f'FCFD: no neck level of the student (strides {neck_level_strides(student)}) has the '
                             f'stride of a teacher level (strides {neck_level_strides(teacher)}), so there is no '
                             f'feature to bridge. Give the two necks levels of equal stride.')
        t_read = self.teacher_head.num_head_levels(teacher)
        if not any(t < t_read for t in matched.values()):
            raise ValueError(f'FCFD: the levels of equal stride ({matched}, student -> '
                             f'teacher) are none of the {t_read} levels the teacher head reads; the st path would '
                             f'be empty.')

    def level_map(self, student: nn.Module, teacher: nn.Module) -> Dict[int, int]:
        return stride_matched_levels(neck_level_strides(student), neck_level_strides(teacher))

    def check_neck_paths(self, paths: Sequence[str]) -> None:
        refused = [p for p in paths if p != 'st']
        if refused:
            raise ValueError(
                f'fcfd.neck.paths {list(paths)}: path(s) {refused} are not defined for a cross-family pair '
                f'(teacher head {type(self.teacher_head).__name__}, student head '
                f'{type(self.student_head).__name__}): they compare the student head\'s outputs with the teacher '
                f'head\'s row by row, and heads of different families differ in what a row is and what its '
                f'columns mean. Set fcfd.neck.paths=(\'st\',): the bridged student features through the teacher\'s '
                f'head, compared with the teacher head on its own features.')

    # ------------------------------------------------------------------ what the heads read
    def student_recorders(self) -> Dict[str, dict]:
        return self.student_head.student_recorders()

    def student_features(self, records: RecorderManager) -> Tuple[Tensor, ...]:
        return self.student_head.student_features(records)

    def _of(self, model: nn.Module) -> HeadAdapter:
        return self.teacher_head if model is self._teacher else self.student_head

    def neck_features(self, model: nn.Module, positions: Sequence[Optional[Tensor]]) -> Tuple[Tensor, ...]:
        return self._of(model).neck_features(model, positions)

    def head_features(self, positions: Sequence[Optional[Tensor]], neck: Sequence[Tensor]) -> Sequence[Tensor]:
        return self.teacher_head.head_features(positions, neck)  # only the teacher's head runs (target, st)

    def teacher_forward(self, teacher: nn.Module, batch_inputs: Tensor) -> Tuple[Tuple[Tensor, ...],
                                                                                   Tuple[Tensor, ...]]:
        return self.teacher_head.teacher_forward(teacher, batch_inputs)

    def consistency_context(self, records: RecorderManager, student: nn.Module,
                            levels: Optional[Sequence[int]] = None) -> LevelContext:
        """The teacher head's levels that have a student level of equal stride (``levels``: the
        student levels the switch point keeps, ``None``: every matched one)."""
        t_read = self.teacher_head.num_head_levels(self._teacher)
        kept = self.matched if levels is None else {lv: self.matched[lv] for lv in levels}
        teacher_levels = sorted(t for t in kept.values() if t < t_read)
        return LevelContext(None if len(teacher_levels) == t_read else tuple(teacher_levels))

    # ------------------------------------------------------------------ running the head
    def student_outputs(self, records: RecorderManager, context: Optional[LevelContext]) -> HeadOutputs:
        raise RuntimeError('CrossFamilyHeadAdapter: the student head\'s outputs are not comparable with the '
                           'teacher\'s (path s is refused for a cross-family pair).')

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: Optional[LevelContext]) -> HeadOutputs:
        if model is not self._teacher:
            raise RuntimeError('CrossFamilyHeadAdapter runs only the teacher\'s head (path st); paths s and ts are '
                               'refused for a cross-family pair.')
        return self.teacher_head.run_head(model, feats, context)

    def predict_on_features(self, model: nn.Module, feats: Sequence[Tensor], data_samples: list) -> list:
        return self._of(model).predict_on_features(model, feats, data_samples)

    # ------------------------------------------------------------------ losses
    def row_weights(self, teacher_outputs: HeadOutputs) -> Optional[Tensor]:
        return self.teacher_head.row_weights(teacher_outputs)

    def default_output_losses(self) -> Dict[str, dict]:
        return self.teacher_head.default_output_losses()

    def default_neck_settings(self) -> Dict[str, Any]:
        """The teacher family's settings (both sides of every output term are its head's), with
        path ``st`` alone."""
        return dict(self.teacher_head.default_neck_settings(), paths=('st',))

    def num_head_levels(self, model: nn.Module) -> int:
        return self._of(model).num_head_levels(model)

    def state_modules(self) -> Dict[str, nn.Module]:
        return self.teacher_head.state_modules()


__all__: List[str] = ['CrossFamilyHeadAdapter', 'stride_matched_levels']
