"""The head-adapter interface: how FCFD runs one model family's head.

Per head family FCFD needs (everything else -- bridges, paths, losses -- is shared and lives in
:mod:`fcfd_mm.algorithms.fcfd_core`; docs/method.md, "Switch points"):

* which switch points the family has, and which are on by default;
* whether a student / teacher pair can be compared row by row (:meth:`HeadAdapter.check_pair`
  owns the flow: both models of the family, an FPN-like neck where the family has that switch
  point, then the family's own :meth:`HeadAdapter.check_models`);
* which of the student's intermediate results to record during its normal loss pass
  (MMRazor recorder configs), e.g. the FPN outputs and the RoIs the RoI head sampled;
* the teacher's features (backbone positions and neck outputs) and the student's (recorded);
* which rows / levels the consistency terms use (:meth:`HeadAdapter.consistency_context`);
* how to run the receiving network's head on a (possibly bridged) feature tuple;
* the student's own head outputs from its loss pass (the ``s`` path, reused, not recomputed);
* optional per-row weights of the output losses, and the default losses.

Head outputs are a dict of 2-D tensors ``{'cls': (N, C), 'reg': (N, D)}`` whose rows are the
units the output losses average over (RoIs, anchors, or images).
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor, nn

from ..common import (
    HeadContext,
    HeadOutputs,
    UnsupportedModelError,
    neck_level_channels,
    num_neck_levels,
    switch_features,
    switch_source,
)


def describe(model: nn.Module) -> str:
    """``model``'s class with the classes of its head and backbone, for error messages."""
    parts = [type(getattr(model, name)).__name__ for name in ('roi_head', 'bbox_head', 'mask_head', 'head', 'backbone')
             if getattr(model, name, None) is not None]
    return type(model).__name__ + (f' with {", ".join(parts)}' if parts else '')


class HeadAdapter(metaclass=ABCMeta):
    """How FCFD runs one family's head; built with the student and teacher, which it validates.

    Args:
        student, teacher: the two models (mmdet detectors or mmpretrain classifiers).
    """

    #: the models the adapter serves, in words (error messages, docs/families.md)
    family: str = 'a model family'
    #: the switch points of the family ('neck': the FPN output, 'stages': the backbone stages)
    switch_points: Tuple[str, ...] = ('neck', 'stages')
    #: the switch points on when the config names neither
    default_switch_points: Tuple[str, ...] = ('neck',)
    #: whether the head reads the pooled last backbone position (classifiers): the stage switch
    #: points then also match the pooled vectors (``fcfd.stages.pooled_last``'s default)
    reads_pooled_last: bool = False

    def __init__(self, student: nn.Module, teacher: nn.Module) -> None:
        #: the student module whose outputs the FPN switch point records (:func:`switch_source`)
        self.switch_source = switch_source(student)
        self.check_pair(student, teacher)

    # ------------------------------------------------------------------ the family
    @classmethod
    @abstractmethod
    def supports(cls, model: nn.Module) -> bool:
        """True if this adapter can run ``model``'s head."""

    def check_pair(self, student: nn.Module, teacher: nn.Module) -> None:
        """Raise :class:`UnsupportedModelError` / ``ValueError`` if the pair cannot be distilled: both
        models must be of the family (:meth:`supports`), have an FPN-like neck where the family has
        that switch point, and pass the family's own :meth:`check_models`."""
        for role, model in (('student', student), ('teacher', teacher)):
            if not self.supports(model):
                raise UnsupportedModelError(
                    f'{type(self).__name__}: the {role} ({describe(model)}) is not {self.family}. Leave '
                    f'fcfd.head.type out to pick the adapter from the student, or use a config of this family.')
        if 'neck' in self.switch_points:
            neck_level_channels(student), neck_level_channels(teacher)
        self.check_models(student, teacher)

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        """Family-specific checks that the two models' outputs can be compared row by row (classes,
        box layouts, levels); raise ``ValueError`` naming the fix. None by default."""

    # ------------------------------------------------------------------ what the head reads
    @abstractmethod
    def student_recorders(self) -> Dict[str, dict]:
        """MMRazor recorder configs (sources relative to the student) for the loss pass."""

    def neck_features(self, model: nn.Module, positions: Sequence[Optional[Tensor]]) -> Tuple[Tensor, ...]:
        """``model``'s neck on its position features 1..N (``None`` where nothing reads them): the
        features of the FPN switch point, and those a stage hybrid S->T is matched to; a detector
        without a neck: the backbone's outputs themselves."""
        return switch_features(model, positions)

    def head_features(self, positions: Sequence[Optional[Tensor]], neck: Sequence[Tensor]) -> Sequence[Tensor]:
        """What a network's head reads of its position and neck features (what :meth:`run_head`
        and :meth:`predict_on_features` take): the neck features."""
        return neck

    def teacher_forward(self, teacher: nn.Module, batch_inputs: Tensor) -> Tuple[Tuple[Tensor, ...],
                                                                                   Tuple[Tensor, ...]]:
        """(backbone position features, neck features) of the teacher; called under ``no_grad``."""
        positions = tuple(teacher.backbone(batch_inputs))
        return positions, self.neck_features(teacher, positions)

    def switch_recorder(self) -> dict:
        """The recorder of the student's switch-point features (its neck's outputs, or its
        backbone's where it has no neck), under the name ``'neck'``."""
        return dict(type='ModuleOutputs', source=self.switch_source)

    def student_features(self, records: RecorderManager) -> Tuple[Tensor, ...]:
        """Student FPN outputs ``P_s^l``, each ``(B, C_s, H_l, W_l)``, recorded in the loss pass (with graph)."""
        return tuple(records.get_recorder('neck').get_record_data(0))

    def state_modules(self) -> Dict[str, nn.Module]:
        """Modules holding adapter state that changes during training (e.g. a random generator);
        the algorithm registers them so that checkpoints carry that state. None by default."""
        return {}

    # ------------------------------------------------------------------ which rows / levels
    def consistency_context(self, records: RecorderManager, student: nn.Module,
                            levels: Optional[Sequence[int]] = None) -> Optional[HeadContext]:
        """What the heads of the consistency terms run on, decided once per step from the student's
        last loss pass: e.g. the RoIs (and which of them), or the FPN levels.

        Args:
            records: the algorithm's recorders of that loss pass.
            student: the student model.
            levels: ``fcfd.neck.levels`` (0-based neck outputs) or ``None``: the terms must then
                read only those levels.
        """
        if levels is not None:
            raise NotImplementedError(f'{type(self).__name__} cannot restrict its head to FPN levels; '
                                      f'drop fcfd.neck.levels.')
        return None

    # ------------------------------------------------------------------ running the head
    @abstractmethod
    def student_outputs(self, records: RecorderManager, context: Optional[HeadContext]) -> HeadOutputs:
        """The student head's outputs on its own features, recorded in its loss pass."""

    @abstractmethod
    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: Optional[HeadContext]) -> HeadOutputs:
        """Run ``model``'s head on ``feats`` (what :meth:`head_features` gives: an FPN-like tuple in
        ``model``'s channel space, or backbone positions for families without a neck switch)."""

    def run_after_backbone(self, model: nn.Module, positions: Sequence[Optional[Tensor]],
                           context: Optional[HeadContext]) -> Tuple[List[Tensor], HeadOutputs]:
        """Run what follows ``model``'s backbone on its position features 1..N (``None`` where
        nothing reads them): returns ``(neck features, head outputs)``."""
        neck = list(self.neck_features(model, positions))
        return neck, self.run_head(model, self.head_features(positions, neck), context)

    # ------------------------------------------------------------------ hybrid prediction (validation)
    def predict_on_features(self, model: nn.Module, feats: Sequence[Tensor], data_samples: list) -> list:
        """The full ``predict`` of ``model`` from what its head reads (:meth:`head_features`, e.g.
        bridged features of the other network in place of its neck output): the data samples with
        the predictions added, as ``model.predict`` returns them (rescaled to the original image).
        Used by ``FCFDValLoop`` for the hybrid metrics; a family without it has no hybrid metrics."""
        raise NotImplementedError(f'{type(self).__name__} cannot predict on given features, so FCFDValLoop has '
                                  f'no hybrid metrics for it; set val_cfg.hybrids=() or implement '
                                  f'predict_on_features.')

    def predict_after_backbone(self, model: nn.Module, positions: Sequence[Optional[Tensor]],
                               data_samples: list) -> list:
        """:meth:`predict_on_features` on what the head reads of ``model``'s position features 1..N
        (``None`` where nothing reads them): the stage hybrids' prediction."""
        return self.predict_on_features(
            model, self.head_features(positions, self.neck_features(model, positions)), data_samples)

    # ------------------------------------------------------------------ losses
    def row_weights(self, teacher_outputs: HeadOutputs) -> Optional[Tensor]:
        """``(N,)`` weights for the rows of the output losses, or ``None`` (uniform)."""
        return None

    @abstractmethod
    def default_output_losses(self) -> Dict[str, dict]:
        """MMRazor loss configs for each output name, used when the config gives none."""

    def default_neck_settings(self) -> Dict[str, Any]:
        """The family's ``fcfd.neck`` settings besides the output losses, each used where the config
        does not set that key: none by default (the bridge's own initialisation and the appearance
        MSE, as the official Faster R-CNN code)."""
        return {}

    def level_map(self, student: nn.Module, teacher: nn.Module) -> Optional[Dict[int, int]]:
        """``{student neck level: teacher neck level}`` of the FPN switch point's level pairs, or
        ``None``: level ``l`` of the one with level ``l`` of the other (one family: same neck)."""
        return None

    def check_neck_paths(self, paths: Sequence[str]) -> None:
        """Raise ``ValueError`` with the reason if this pair cannot run one of the FPN switch point's
        ``paths`` (``'s'``, ``'st'``, ``'ts'``); every path is defined for a pair of one family."""

    def num_head_levels(self, model: nn.Module) -> int:
        """How many leading FPN levels ``model``'s head reads (all of them by default)."""
        return num_neck_levels(model)
