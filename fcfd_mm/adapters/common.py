"""Types and checks shared by the head adapters and the stage cutters."""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

#: head outputs: ``{'cls': (N, C), 'reg': (N, D)}``, rows = the units the output losses average over
HeadOutputs = Dict[str, Tensor]


class UnsupportedModelError(TypeError):
    """The student/teacher pair is not of a family this adapter handles; the message names the fix."""


@dataclass
class HeadContext:
    """What a head needs besides features to run the consistency terms (base: nothing)."""


@dataclass
class RoIContext(HeadContext):
    """The RoIs the consistency terms run on (RoI box heads).

    Attributes:
        rois: ``(N, 5)`` ``[batch_idx, x1, y1, x2, y2]`` in input pixels (no gradient).
        index: rows of the student's recorded box-head outputs that ``rois`` are (``(N,)`` long),
            or ``None`` when ``rois`` are all the sampled RoIs in their recorded order.
    """
    rois: Tensor
    index: Optional[Tensor] = None

    def select(self, rows: Tensor) -> 'RoIContext':
        """The sub-context of ``rows`` (indices into ``rois``)."""
        return RoIContext(self.rois[rows], rows if self.index is None else self.index[rows])


@dataclass
class StagedRoIContext(HeadContext):
    """The RoIs of every stage of a cascade RoI head (one :class:`RoIContext` per stage: the RoIs
    the student sampled for its own loss at that stage)."""
    stages: List[RoIContext]


@dataclass
class LevelContext(HeadContext):
    """The FPN levels a dense head runs on in the consistency terms.

    Attributes:
        levels: sorted 0-based indices of the neck outputs, or ``None`` for all of them.
    """
    levels: Optional[Tuple[int, ...]] = None


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


#: the neck output shapes of each probed model, per input size (a model's layers do not change after build)
_NECK_SHAPES: 'weakref.WeakKeyDictionary[nn.Module, Dict[int, List[Tuple[int, int, int]]]]' = \
    weakref.WeakKeyDictionary()


def has_neck(model: nn.Module) -> bool:
    """Whether ``model`` has a neck after its backbone (most detectors: FPN and its kin)."""
    return getattr(model, 'neck', None) is not None


def switch_source(model: nn.Module) -> str:
    """The module whose outputs are ``model``'s FPN switch point, the features its head reads:
    ``'neck'``, or ``'backbone'`` for a detector without a neck (CornerNet's hourglass stacks,
    TridentNet's C4 branches)."""
    return 'neck' if has_neck(model) else 'backbone'


def switch_features(model: nn.Module, positions) -> Tuple[Tensor, ...]:
    """The switch point's features from the backbone's outputs ``positions``: the neck on them, or
    the backbone's outputs themselves for a detector without a neck (as its ``extract_feat``)."""
    feats = model.neck(tuple(positions)) if has_neck(model) else positions
    return (feats,) if isinstance(feats, Tensor) else tuple(feats)


def neck_output_shapes(model: nn.Module, size: int = 64) -> List[Tuple[int, int, int]]:
    """``(channels, height, width)`` of every neck output of ``model`` on a ``size`` x ``size`` input
    (the backbone's outputs for a detector without a neck: :func:`switch_features`).

    A dry run of backbone + neck on zeros, without gradient and with every module in eval mode
    (no BatchNorm statistic changes; the modes are restored afterwards), once per model and size
    (cached). Necks such as mmdet's PAFPN variants (``CSPNeXtPAFPN``, ``YOLOXPAFPN``) have no
    ``num_outs``, so the number of levels of the FPN switch point is read from what the neck
    actually returns.
    """
    cached = _NECK_SHAPES.get(model, {})
    if size in cached:
        return list(cached[size])
    modes = {m: m.training for m in model.modules()}
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device('cpu')
    try:
        model.eval()
        with torch.no_grad():
            feats = switch_features(model, model.backbone(torch.zeros(1, 3, size, size, device=device)))
    except Exception as exc:
        raise UnsupportedModelError(
            f'FCFD could not read the neck outputs of {type(model).__name__} from a dry run of backbone + neck on a '
            f'{size}x{size} input ({type(exc).__name__}: {exc}); its switch point needs a backbone (+ neck) whose '
            f'outputs are a tuple of feature maps (e.g. FPN).') from exc
    finally:
        for m, mode in modes.items():
            m.training = mode
    shapes = [tuple(int(d) for d in f.shape[1:]) for f in feats]
    _NECK_SHAPES.setdefault(model, {})[size] = shapes
    return list(shapes)


#: dry-run input sizes, tried in order: 64, 320 for necks whose coarsest levels need a larger
#: input (SSD300's extra layers shrink a 64x64 input below their kernel), 512 for backbones that
#: halve their input many times and add the halves back (CornerNet's hourglass: a multiple of 128)
DRY_RUN_SIZES = (64, 320, 512)


def neck_dry_run_shapes(model: nn.Module) -> List[Tuple[int, int, int]]:
    """:func:`neck_output_shapes` at the first size of :data:`DRY_RUN_SIZES` the neck runs at."""
    for size in DRY_RUN_SIZES[:-1]:
        try:
            return neck_output_shapes(model, size)
        except UnsupportedModelError:
            continue
    return neck_output_shapes(model, DRY_RUN_SIZES[-1])


def neck_level_channels(model: nn.Module) -> List[int]:
    """The channels of each of ``model``'s neck outputs, in order: ``neck.out_channels`` on every
    level where it is an integer (FPN), else read from a dry run (e.g. SSD's and YOLOv3's necks,
    one number per level; the backbone's outputs of a detector without a neck). Each level gets its
    own bridges, so the levels need not agree."""
    channels = getattr(getattr(model, 'neck', None), 'out_channels', None)
    if isinstance(channels, int):
        return [channels] * num_neck_levels(model)
    return [c for c, _, _ in neck_dry_run_shapes(model)]


def num_neck_levels(model: nn.Module) -> int:
    """How many outputs ``model``'s neck returns: ``neck.num_outs`` where it has one (FPN), else read
    from a dry run of backbone + neck (PAFPN variants such as ``CSPNeXtPAFPN`` or ``YOLOXPAFPN``
    have no ``num_outs``)."""
    num_outs = getattr(getattr(model, 'neck', None), 'num_outs', None)
    if isinstance(num_outs, int):
        return num_outs
    return len(neck_dry_run_shapes(model))


#: the dry-run input size that gives every neck level's stride exactly: a multiple of the coarsest
#: stride in mmdet's zoo (128, P7), so that no level's size is rounded
STRIDE_PROBE_SIZE = 640


def neck_level_strides(model: nn.Module) -> List[int]:
    """The stride (input pixels per output location) of each of ``model``'s neck outputs, in order:
    read from a dry run of backbone + neck (:func:`neck_output_shapes`) on a
    :data:`STRIDE_PROBE_SIZE` square input. Cross-family pairs match their neck levels by these."""
    return [round(STRIDE_PROBE_SIZE / w) for _, _, w in neck_output_shapes(model, STRIDE_PROBE_SIZE)]


def num_classes(head: nn.Module) -> int:
    return int(getattr(head, 'num_classes'))


def check_same(what: str, student_value: Any, teacher_value: Any, fix: str) -> None:
    """Raise ``ValueError`` naming ``fix`` if the student's and teacher's ``what`` differ."""
    if student_value != teacher_value:
        raise ValueError(f'FCFD: student and teacher differ in {what} (student {student_value}, '
                         f'teacher {teacher_value}). {fix}')
