"""``FCFDPair``: the two networks FCFD connects and the parts that run them, bound once at build."""
from __future__ import annotations

from typing import Dict, Optional

from torch import nn

from ..adapters import HeadAdapter, StageCutter
from .hybrid import DIRECTIONS


class FCFDPair:
    """Student, teacher, the head adapter and (with stage switch points) the two stage cutters.

    ``FCFDDistill`` builds it once and binds it to each switch point, whose ``forward`` then takes
    only the step record (:class:`~fcfd_mm.algorithms.step.FCFDStep`), as MMRazor's
    ``ConfigurableDistiller`` binds its recorders at build time. A plain object, not an
    ``nn.Module``: the algorithm owns and registers the networks; the pair only names them.

    Args:
        student, teacher: the two networks.
        head: the head adapter that runs either network's head.
        cutters: ``{'student': ..., 'teacher': ...}``, the stage cutters of the two backbones, or
            ``None`` without stage switch points.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module, head: HeadAdapter,
                 cutters: Optional[Dict[str, StageCutter]] = None) -> None:
        self.student, self.teacher, self.head, self.cutters = student, teacher, head, cutters

    @staticmethod
    def _check(direction: str) -> str:
        if direction not in DIRECTIONS:
            raise ValueError(f'direction {direction!r}: give one of {list(DIRECTIONS)}.')
        return direction

    def receiver(self, direction: str) -> nn.Module:
        """The network that runs on the other's bridged features: the teacher for ``'st'``, the
        student for ``'ts'``."""
        return self.teacher if self._check(direction) == 'st' else self.student

    def sender(self, direction: str) -> nn.Module:
        """The network whose features are bridged: the student for ``'st'``, the teacher for ``'ts'``."""
        return self.student if self._check(direction) == 'st' else self.teacher

    def cutter(self, direction: str) -> StageCutter:
        """The stage cutter of the receiver's backbone (it runs the receiver after the switch)."""
        if self.cutters is None:
            raise RuntimeError('this FCFD pair has no stage cutters (fcfd.stages is off).')
        return self.cutters['teacher' if self._check(direction) == 'st' else 'student']
