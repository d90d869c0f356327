"""Why FCFD refuses a detector family it has no head adapter for, in words a user can act on.

:func:`refusal_reason` names families whose structure rules FCFD out as implemented (set
prediction with object queries) or that wrap another detector; every other model gets the
generic message of :func:`fcfd_mm.adapters.build_head_adapter` (the supported families, and how
to register an adapter).
"""
from __future__ import annotations

from typing import Optional

from torch import nn

#: detectors whose outputs are a set of learned object queries (each network matches its queries
#: to the ground truth by itself): ``DetectionTransformer`` (DETR, Deformable DETR, DINO, DDQ-DETR,
#: Conditional DETR, DAB-DETR, Grounding DINO) and the other query-based detectors
QUERY_BASED = ('DetectionTransformer', 'CoDETR', 'SparseRCNN', 'MaskFormer')
#: detectors that wrap a teacher-student pair themselves
WRAPPERS = ('KnowledgeDistillationSingleStageDetector', 'SemiBaseDetector')

QUERY_FIX = ('Distil such a detector with feature losses on its neck instead, e.g. MMRazor\'s PKD (PKDLoss) or '
             'CWD (ChannelWiseDivergence) between the student\'s and teacher\'s neck outputs in a '
             'SingleTeacherDistill / ConfigurableDistiller config (MMRazor ships such configs for detectors, '
             'configs/distill/mmdet/pkd/ and configs/distill/mmdet/cwd/).')


def _mro_names(model: nn.Module) -> set:
    return {cls.__name__ for cls in type(model).__mro__}


def refusal_reason(model: nn.Module) -> Optional[str]:
    """Why ``model``'s family cannot be distilled with FCFD (a sentence with the fix), or ``None``
    when only a head adapter is missing."""
    names = _mro_names(model)
    kind = type(model).__name__
    if names & set(QUERY_BASED):
        return (f'FCFD cannot distil {kind}: it is a set-prediction (object query) detector. Its predictions are a '
                f'set of learned queries that each network refines and matches to the ground truth on its own, so '
                f'there is no per-location, per-anchor or per-RoI correspondence between the student\'s and the '
                f'teacher\'s outputs: FCFD\'s output terms, which compare the two networks\' head outputs row by row '
                f'(student head vs teacher head, and each head on the other\'s bridged features), have nothing to '
                f'match as implemented. {QUERY_FIX}')
    if names & set(WRAPPERS):
        return (f'FCFD cannot distil {kind}: it already wraps a teacher-student pair (knowledge distillation or '
                f'semi-supervised training). Use the plain detector config of its student as '
                f'FCFDDistill.architecture and the teacher\'s as FCFDDistill.teacher.')
    return None
