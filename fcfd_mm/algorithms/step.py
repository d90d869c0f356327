"""``FCFDStep``: what one training step hands every switch point."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Optional, Sequence, Tuple

from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor

from ..adapters import HeadContext, HeadOutputs
from .pair import FCFDPair


@dataclass
class FCFDStep:
    """The step record: built once per training step by ``FCFDDistill`` and passed to each switch
    point's ``forward``, the only argument it takes (the networks and adapters are bound at build
    time, :class:`~fcfd_mm.algorithms.pair.FCFDPair`). A new term reads what it needs here.

    Attributes:
        pair: the bound pair (reads the student's recorded values on demand).
        records: the algorithm's recorders of this step's student loss pass.
        teacher_positions: teacher backbone position features 1..N (no graph).
        teacher_neck: teacher neck (FPN) outputs (no graph; empty for classifiers).
        context: what the heads of the consistency terms run on (RoIs, levels), from the adapter.
        target: the target ``t``: the teacher head's outputs on its own features (no graph).
        row_weight: ``(N,)`` weights of the output losses' rows, or ``None`` (uniform).
        avg_factor: what the weighted output losses average by (the sum of ``row_weight``), or ``None``.
        epoch, iteration: training progress (0-based): the stage switch's warm-up and path draw.
    """

    pair: FCFDPair
    records: RecorderManager
    teacher_positions: Sequence[Tensor]
    teacher_neck: Sequence[Tensor]
    context: Optional[HeadContext]
    target: HeadOutputs
    row_weight: Optional[Tensor] = None
    avg_factor: Optional[Tensor] = None
    epoch: int = 0
    iteration: int = 0

    @cached_property
    def student_neck(self) -> Tuple[Tensor, ...]:
        """The student's FPN outputs, recorded in its loss pass (with graph)."""
        return self.pair.head.student_features(self.records)

    @cached_property
    def student_positions(self) -> Tuple[Tensor, ...]:
        """The student's backbone position features 1..N, recorded in its loss pass (with graph)."""
        return self.pair.cutters['student'].recorded_positions(self.records)

    @cached_property
    def student_outputs(self) -> HeadOutputs:
        """The student head's outputs on its own features (path ``s``), recorded in its loss pass and
        limited to the rows of ``context``; read once, whichever switch point asks first."""
        return self.pair.head.student_outputs(self.records, self.context)
