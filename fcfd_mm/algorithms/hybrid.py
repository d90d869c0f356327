"""The names of FCFD's hybrid networks.

A hybrid network is the receiving network run on the sending network's bridged features. It is
named by its direction and switch point:

* ``'st'`` / ``'ts'`` (the FPN switch point): student backbone + FPN -> student->teacher bridges ->
  what follows the teacher's neck, and teacher backbone + FPN -> teacher->student bridges -> what
  follows the student's;
* ``'st@k'`` / ``'ts@k'`` (backbone stage position ``k``): the sending backbone up to position
  ``k``, the bridges of the positions the receiver reads up to ``k``, the receiving backbone after
  ``k`` and what follows it.

The same name keys a stage hybrid's ghost BN statistics. Each switch point defines its hybrids
once (``FCFDNeckSwitch.run_hybrid`` / ``FCFDStageSwitch.run_hybrid``); the loss terms, the
hybrid metrics (``FCFDDistill.predict_hybrid``) and the bridge probe all run them through it.

Which BN running statistics a hybrid's receiver uses when it is scored (``bn_statistics``):

* ``'ghost'`` (default, as the official code reports hybrid accuracy): the ghost BN statistics that
  training tracked for that hybrid, for every BN layer that has them. Those layers trained in train
  mode on the hybrid passes, so their ghost statistics describe bridged inputs; the main ones
  describe the receiver's own. Layers without ghost statistics (eval-mode BN during training, e.g.
  mmdet's ``norm_eval=True``; ``ghost_bn=False``; no pass of that hybrid yet) use their main ones.
* ``'main'``: the receiver's main statistics everywhere (the receiver exactly as deployed).

The same holds for the FPN switch point's ``ts`` hybrid: its receiver, the student head, runs in
train mode on bridged teacher features, so heads with BN (RTMDet's, YOLOX's) keep ghost
statistics for it. The ``st`` hybrid's receiver is the frozen teacher, whose BN layers stay in eval
mode: it always uses the main statistics.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

#: the directions: ``'st'`` (student features bridged into the teacher), ``'ts'`` (the reverse)
DIRECTIONS = ('st', 'ts')
_NAME = re.compile(r'^(st|ts)(?:@(\d+))?$')
#: what ``bn_statistics`` may be when a stage hybrid is scored
BN_STATISTICS = ('ghost', 'main')


def hybrid_name(direction: str, k: Optional[int] = None) -> str:
    """``('st', None)`` -> ``'st'``, ``('ts', 2)`` -> ``'ts@2'``."""
    return direction if k is None else f'{direction}@{int(k)}'


def parse_hybrid(name: str) -> Tuple[str, Optional[int]]:
    """``'st'`` -> ``('st', None)``, ``'ts@2'`` -> ``('ts', 2)``; a bad name raises ``ValueError``."""
    match = _NAME.match(str(name))
    if match is None:
        raise ValueError(f'hybrid {name!r}: write st / ts (FPN switch point) or st@k / ts@k (backbone stage '
                         f'position k, e.g. st@2).')
    return match.group(1), None if match.group(2) is None else int(match.group(2))


def check_bn_statistics(value: str, key: str = 'bn_statistics') -> str:
    """``value`` if it is one of :data:`BN_STATISTICS`, else a ``ValueError`` naming ``key``."""
    if value not in BN_STATISTICS:
        raise ValueError(f"{key}={value!r}: give 'ghost' (the statistics training tracked for each stage "
                         f"hybrid) or 'main' (the receiving network's own).")
    return value
