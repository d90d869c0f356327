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

Stage switch points (backbone stage boundaries, positions ``1..N``) need three more things:
the position features of both networks, how to run a network *after* position ``k`` on
(bridged) features (:meth:`FCFDTail.run_from_stage`), and which positions the part after the
backbone reads (an FPN reads all of them, a classifier only the last).
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

HeadOutputs = Dict[str, Tensor]


class CheckpointedGenerator(nn.Module):
    """A CPU ``torch.Generator`` whose state is part of the owning model's ``state_dict``.

    The state is saved as ``<prefix>state`` (the generator's ``get_state()``, a uint8 tensor) and
    restored by ``load_state_dict``, so mmengine's checkpoints and ``--resume`` carry it without a
    hook. It is written by ``_save_to_state_dict`` rather than held in a registered buffer, so DDP
    does not broadcast it (each rank keeps its own stream); checkpoints hold rank 0's. A state dict
    without the key (a checkpoint of an older fcfd-mm) leaves the generator as it is and is not a
    missing key, so strict loading of such checkpoints still works.

    Args:
        seed: initial seed.
    """

    KEY = 'state'

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.generator = torch.Generator().manual_seed(int(seed))

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + self.KEY] = self.generator.get_state()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        key = prefix + self.KEY
        if key not in state_dict:
            return
        if key in unexpected_keys:
            unexpected_keys.remove(key)
        value = state_dict[key]
        try:
            self.generator.set_state(value.detach().to('cpu', torch.uint8).clone())
        except (AttributeError, RuntimeError, TypeError) as exc:
            error_msgs.append(f'{key}: not the state of a CPU torch.Generator ({exc}).')


class UnsupportedModelError(TypeError):
    """The student/teacher pair is not of a family this adapter handles; the message names the fix."""


class FCFDTail(metaclass=ABCMeta):
    """Adapter interface for one model family at the FPN (neck output) switch point.

    Args:
        student, teacher: the two models (mmdet detectors); validated on construction.
    """

    #: whether the family has an FPN (neck output) switch point
    has_neck_switch: bool = True
    #: input side used to probe the backbones' position shapes (channels, resolution ratios)
    probe_size: int = 64

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

    def state_modules(self) -> Dict[str, nn.Module]:
        """Modules holding adapter state that changes during training (e.g. a random generator);
        the algorithm registers them so that checkpoints carry that state. None by default."""
        return {}

    def head_context(self, records) -> Any:
        """Whatever the head needs besides features (e.g. sampled RoIs); ``None`` by default."""
        return None

    @abstractmethod
    def student_outputs(self, records, context: Any) -> HeadOutputs:
        """The student head's outputs on its own features, recorded in its loss pass."""

    @abstractmethod
    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: Any) -> HeadOutputs:
        """Run ``model``'s head on ``feats`` (FPN-like tuple in ``model``'s channel space)."""

    def restrict_levels(self, model: nn.Module, context: Any, levels: Sequence[int]) -> Any:
        """The context with the consistency terms limited to FPN ``levels`` (0-based indices of
        the neck outputs), so that bridges at the other levels are not needed."""
        raise NotImplementedError(f'{type(self).__name__} cannot restrict its head to FPN levels; '
                                  f'drop fcfd.neck.levels.')

    def row_weights(self, teacher_outputs: HeadOutputs) -> Optional[Tensor]:
        """Optional ``(N,)`` weights for the rows of the output losses (``None``: uniform)."""
        return None

    @abstractmethod
    def default_output_losses(self) -> Dict[str, dict]:
        """MMRazor loss configs for each output name, used when the config gives none."""

    def default_paths(self) -> Tuple[str, ...]:
        """Function-consistency paths run when the config gives none (see fcfd_core.PATHS)."""
        return ('s', 'st', 'ts')

    # ------------------------------------------------------------------ stage switch points
    def stage_recorders(self) -> Dict[str, dict]:
        """Recorder of the student's backbone outputs (the position features)."""
        return dict(backbone=dict(type='ModuleOutputs', source='backbone'))

    def student_positions(self, records) -> Tuple[Tensor, ...]:
        return tuple(records.get_recorder('backbone').get_record_data(0))

    def teacher_forward(self, teacher: nn.Module, batch_inputs: Tensor) -> Tuple[Tuple[Tensor, ...], Tuple[Tensor, ...]]:
        """(position features, neck features) of the teacher; called under ``no_grad``."""
        positions = tuple(teacher.backbone(batch_inputs))
        return positions, tuple(teacher.neck(positions))

    def check_stages(self, model: nn.Module, role: str) -> None:
        """Raise if ``model``'s backbone cannot be run from a stage boundary."""
        raise UnsupportedModelError(f'{type(self).__name__} has no stage switch points for the {role}.')

    def max_switch(self, num_positions: int) -> int:
        """Last position a hybrid path may switch at (the neck still follows: N)."""
        return num_positions

    def neck_reads(self, model: nn.Module) -> Optional[List[int]]:
        """Positions the part after the backbone reads (``None``: only the last, as a classifier)."""
        neck = model.neck
        start = int(getattr(neck, 'start_level', 0))
        end = getattr(neck, 'backbone_end_level', len(neck.in_channels))
        return list(range(start + 1, int(end) + 1))

    def receives_post_relu(self, model: nn.Module) -> bool:
        """Whether ``model``'s stages take post-ReLU inputs (then bridges into it get LeakyReLU)."""
        return bool(getattr(model.backbone, 'receives_post_relu', True))

    @torch.no_grad()
    def probe_positions(self, model: nn.Module) -> List[Tuple[int, int, int]]:
        """``(C, H, W)`` of each position feature for a ``probe_size`` square input (eval mode)."""
        backbone = model.backbone
        was_training = backbone.training
        backbone.eval()
        try:
            outs = backbone(torch.zeros(1, 3, self.probe_size, self.probe_size))
        finally:
            backbone.train(was_training)
        return [tuple(o.shape[1:]) for o in outs]

    def run_stages_from(self, model: nn.Module, k: int, h: Tensor) -> List[Tensor]:
        """Run ``model``'s backbone stages after position ``k`` on ``h``: positions ``k+1..N``."""
        raise NotImplementedError

    def run_from_stage(self, model: nn.Module, k: int, bridged: Dict[int, Tensor],
                       context: Any) -> Tuple[List[Tensor], List[Tensor], HeadOutputs]:
        """Run ``model`` after position ``k``: its later stages on ``bridged[k]``, then its neck on
        ``bridged`` positions <= k plus the later ones, then its head.

        Returns ``(later position features, neck features, head outputs)``.
        """
        later = self.run_stages_from(model, k, bridged[k])
        positions = tuple([bridged.get(i) for i in range(1, k + 1)] + list(later))
        neck = tuple(model.neck(positions))
        return later, list(neck), self.run_head(model, neck, context)

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
