"""Model-family adapters ("tails"): where FCFD cuts a model and how it runs the part after the cut.

FCFD needs, per model family, four things; everything else (bridges, paths, losses) is shared
and lives in :mod:`fcfd_mm.algorithms.fcfd_core`:

* which of the student's intermediate results to record during its normal loss pass
  (MMRazor recorder configs), e.g. the FPN outputs and the RoIs the RoI head sampled;
* the switch-point features of the teacher (``extract_feat``) and of the student (recorded);
* how to run the receiving network's head on a (possibly bridged) feature tuple;
* the student's own head outputs from its loss pass (the ``s`` path, reused, not recomputed).

Head outputs are returned as a dict of 2-D tensors ``{'cls': (N, C), 'reg': (N, D)}`` whose
rows are the units the output losses average over (RoIs, or anchors).
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, Optional, Sequence, Tuple

from torch import Tensor, nn

HeadOutputs = Dict[str, Tensor]


class UnsupportedModelError(TypeError):
    """The student/teacher pair is not of a family this adapter handles; the message names the fix."""


class FCFDTail(metaclass=ABCMeta):
    """Adapter interface for one model family at the FPN (neck output) switch point.

    Args:
        student, teacher: the two models (mmdet detectors); validated on construction.
    """

    #: the output names and the default distance for each: 'cls' and 'reg'
    output_names: Tuple[str, ...] = ('cls', 'reg')

    def __init__(self, student: nn.Module, teacher: nn.Module) -> None:
        self.check_pair(student, teacher)

    @classmethod
    @abstractmethod
    def supports(cls, model: nn.Module) -> bool:
        """True if this adapter can cut ``model``."""

    @abstractmethod
    def check_pair(self, student: nn.Module, teacher: nn.Module) -> None:
        """Raise :class:`UnsupportedModelError` / ``ValueError`` if the pair cannot be distilled."""

    @abstractmethod
    def student_recorders(self) -> Dict[str, dict]:
        """MMRazor recorder configs (sources relative to the student) for the loss pass."""

    def teacher_features(self, teacher: nn.Module, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        """Teacher FPN outputs ``P_t^l``, each ``(B, C_t, H_l, W_l)``; called under ``no_grad``."""
        return tuple(teacher.extract_feat(batch_inputs))

    def student_features(self, records) -> Tuple[Tensor, ...]:
        """Student FPN outputs ``P_s^l`` recorded in the loss pass (with their graph)."""
        return tuple(records.get_recorder('neck').get_record_data(0))

    def head_context(self, records) -> Any:
        """Whatever the head needs besides features (e.g. sampled RoIs); ``None`` by default."""
        return None

    @abstractmethod
    def student_outputs(self, records, context: Any) -> HeadOutputs:
        """The student head's outputs on its own features, recorded in its loss pass."""

    @abstractmethod
    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: Any) -> HeadOutputs:
        """Run ``model``'s head on ``feats`` (FPN-like tuple in ``model``'s channel space)."""

    def row_weights(self, teacher_outputs: HeadOutputs) -> Optional[Tensor]:
        """Optional ``(N,)`` weights for the rows of the output losses (``None``: uniform)."""
        return None

    @abstractmethod
    def default_output_losses(self) -> Dict[str, dict]:
        """MMRazor loss configs for each output name, used when the config gives none."""

    def default_paths(self) -> Tuple[str, ...]:
        """Function-consistency paths run when the config gives none (see fcfd_core.PATHS)."""
        return ('s', 'st', 'ts')

    @staticmethod
    def neck_channels(model: nn.Module) -> int:
        neck = getattr(model, 'neck', None)
        channels = getattr(neck, 'out_channels', None)
        if not isinstance(channels, int):
            raise UnsupportedModelError(
                f'{type(model).__name__} has no neck with an integer out_channels (e.g. FPN): FCFD\'s FPN '
                'switch point needs one. Use a detector with an FPN neck.')
        return channels

    @staticmethod
    def num_levels(model: nn.Module) -> int:
        return int(getattr(model.neck, 'num_outs'))

    def head_levels(self, model: nn.Module) -> int:
        """How many leading FPN levels ``model``'s head reads (all of them by default)."""
        return self.num_levels(model)


def _num_classes(head: nn.Module) -> int:
    return int(getattr(head, 'num_classes'))


def check_same(what: str, student_value, teacher_value, fix: str) -> None:
    if student_value != teacher_value:
        raise ValueError(f'FCFD: student and teacher differ in {what} (student {student_value}, '
                         f'teacher {teacher_value}). {fix}')
