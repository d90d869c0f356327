"""Predictions of FCFD's hybrid networks, for the hybrid metrics at validation (``FCFDValLoop``).

A hybrid is named by its direction and switch point:

* ``'st'`` / ``'ts'`` (the FPN switch point): student backbone + FPN -> student->teacher bridges ->
  the teacher's full prediction after its neck (Faster R-CNN: its RPN, then its RoI head; RetinaNet:
  its dense head), and teacher backbone + FPN -> teacher->student bridges -> the student's;
* ``'st@k'`` / ``'ts@k'`` (backbone stage position ``k``): the sending backbone up to position
  ``k``, the bridges of the positions the receiver reads up to ``k``, the receiving backbone after
  ``k`` (the stage cutter), its neck and the same prediction (classifiers: GAP + classifier).

Bridges and receivers run as the model is set (the validation loop sets eval mode: BN layers
normalise with running statistics and none of them changes). Which running statistics, for a
stage hybrid's receiver (``bn_statistics``):

* ``'ghost'`` (default, as the official code reports hybrid accuracy): the ghost BN statistics that
  training tracked for that path, for every BN layer that has them. Those layers trained in train
  mode on the hybrid passes, so their ghost statistics describe bridged inputs; the main ones
  describe the receiver's own. Layers without ghost statistics (eval-mode BN during training, e.g.
  mmdet's ``norm_eval=True``; ``ghost_bn=False``; no pass of that path yet) use their main ones.
* ``'main'``: the receiver's main statistics everywhere (the receiver exactly as deployed).

FPN hybrids always use the main statistics (training keeps ghost statistics for stage paths
only). FPN levels without a bridge
(levels outside ``fcfd.neck.levels``, or P6 for Faster R-CNN's ``ts``, which only the student's
RPN reads and which FCFD never bridges) take the receiving network's own features of the image.
"""
from __future__ import annotations

import contextlib
import re
from typing import List, Optional, Sequence, Tuple

from torch import Tensor

_NAME = re.compile(r'^(st|ts)(?:@(\d+))?$')
BN_STATISTICS = ('ghost', 'main')


def parse_hybrid(name: str) -> Tuple[str, Optional[int]]:
    """``'st'`` -> ``('st', None)``, ``'ts@2'`` -> ``('ts', 2)``; a bad name raises ``ValueError``."""
    match = _NAME.match(str(name))
    if match is None:
        raise ValueError(f'hybrid {name!r}: write st / ts (FPN switch point) or st@k / ts@k (backbone stage '
                         f'position k, e.g. st@2).')
    return match.group(1), None if match.group(2) is None else int(match.group(2))


def available_hybrids(algorithm) -> List[str]:
    """The hybrids ``algorithm`` (an ``FCFDDistill``) has bridges for: ``st`` / ``ts`` for the FPN
    switch point's paths, ``st@k`` / ``ts@k`` for the stage switch points' path candidates."""
    names = []
    neck = algorithm.fcfd_neck
    if neck is not None:
        names += [p for p in ('st', 'ts') if p in neck.paths]
    stages = algorithm.fcfd_stages
    if stages is not None:
        names += [f'{d}@{k}' for k, d in stages.candidates]
    return names


def check_bn_statistics(value: str, key: str = 'bn_statistics') -> str:
    """``value`` if it is one of :data:`BN_STATISTICS`, else a ``ValueError`` naming ``key``."""
    if value not in BN_STATISTICS:
        raise ValueError(f"{key}={value!r}: give 'ghost' (the statistics training tracked for each stage "
                         f"hybrid path) or 'main' (the receiving network's own).")
    return value


def predict_hybrid(algorithm, name: str, batch_inputs: Tensor, data_samples: list,
                   bn_statistics: str = 'ghost') -> list:
    """The data samples with the predictions of hybrid ``name`` added (as ``model.predict`` gives).

    Args:
        algorithm: an ``FCFDDistill``.
        name: one of :func:`available_hybrids`.
        batch_inputs: preprocessed images ``(B, 3, H, W)``.
        data_samples: their data samples (predictions are written into them).
        bn_statistics: ``'ghost'``: a stage hybrid's receiver uses the ghost BN statistics of its path
            where training tracked them; ``'main'``: its own running statistics.
    """
    check_bn_statistics(bn_statistics)
    if name not in available_hybrids(algorithm):
        raise ValueError(f'hybrid {name!r} is not available for this FCFDDistill; it has '
                         f'{available_hybrids(algorithm)} (the FPN paths st / ts of fcfd.neck.paths, the stage '
                         f'path candidates st@k / ts@k of fcfd.stages).')
    direction, k = parse_hybrid(name)
    sender, receiver = (algorithm.student, algorithm.teacher) if direction == 'st' else \
        (algorithm.teacher, algorithm.student)
    head = algorithm.head_adapter
    if k is None:
        return head.predict_on_features(receiver, _bridge_neck(algorithm, direction, sender, receiver, batch_inputs),
                                        data_samples)
    stages = algorithm.fcfd_stages
    bridges = stages.bridges_s2t if direction == 'st' else stages.bridges_t2s
    positions = sender.backbone(batch_inputs)
    bridged = {i: bridges[str(i)](positions[i - 1]) for i in stages.read(k)}
    statistics = stages.hybrid_statistics(receiver, f'{direction}{k}') if bn_statistics == 'ghost' else \
        contextlib.nullcontext()
    with statistics:
        later = algorithm.stage_cutters['teacher' if direction == 'st' else 'student'].run_from(receiver, k,
                                                                                                 bridged[k])
        received = [bridged.get(i) for i in range(1, k + 1)] + list(later)
        return head.predict_after_backbone(receiver, received, data_samples)


def _bridge_neck(algorithm, direction: str, sender, receiver, batch_inputs: Tensor) -> Sequence[Tensor]:
    """The receiver's FPN tuple: the sender's FPN outputs through the bridges of ``direction``,
    the receiver's own features at levels without a bridge."""
    neck = algorithm.fcfd_neck
    levels, bridges = (neck.levels, neck.bridges_s2t) if direction == 'st' else (neck.t2s_levels, neck.bridges_t2s)
    sent = sender.extract_feat(batch_inputs)
    bridged = {lv: bridge(sent[lv]) for lv, bridge in zip(levels, bridges)}
    num_levels = algorithm.head_adapter.num_levels(receiver)
    own = receiver.extract_feat(batch_inputs) if len(bridged) < num_levels else None
    return tuple(bridged[lv] if lv in bridged else own[lv] for lv in range(num_levels))

