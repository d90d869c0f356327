"""fcfd-mm: Function-Consistent Feature Distillation (ICLR 2023) as MMRazor components.

Importing the package applies the import-time fixes of the stack's compat layer
(``fcfd_mm.compat``) first, then registers into MMRazor's registry: ``FCFDDistill`` (algorithm),
``FCFDBridge`` (connector), ``SigmoidKDLoss``, ``WeightedMSELoss`` and ``DistributionKLLoss``
(losses); into MMEngine's: ``NonFiniteLossHook``, ``FCFDTeacherCheckHook``, ``FCFDProgressHook``,
``FCFDUnusedBridgesHook`` (unused bridges left untouched by the optimizer step), ``RNGStateHook``,
``AtomicCheckpointHook`` and ``ResumeCheckHook`` (hooks; and the ``local_atomic`` file backend),
``CPUAmpOptimWrapper`` (bf16 mixed precision on CPU-only machines, ``tools/train.py --amp``); into
mmdet's: ``CheckedCocoDataset``; when mmpretrain is installed, the staged classification
backbones (``fcfd_mm.models``) into mmpretrain's. Its own registries
``fcfd_mm.adapters.HEAD_ADAPTERS`` / ``STAGE_CUTTERS`` hold the model-family adapters. Use it from
any OpenMMLab config with ``custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)``.
"""
from . import compat

compat.apply_all()

from . import algorithms, connectors, datasets, engine, losses  # noqa: E402,F401  (registration)

try:  # the classification parts need mmpretrain; detection-only environments work without it
    import mmpretrain  # noqa: F401
except ImportError:
    HAS_MMPRETRAIN = False
else:
    HAS_MMPRETRAIN = True
    from . import models  # noqa: E402,F401  (registration: staged backbones, neck, in mmpretrain's MODELS)
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'HAS_MMPRETRAIN', 'compat', 'algorithms', 'connectors', 'datasets', 'engine', 'losses']
