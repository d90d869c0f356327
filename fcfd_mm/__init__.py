"""fcfd-mm: Function-Consistent Feature Distillation (ICLR 2023) as MMRazor components.

Importing the package applies the stack's compat layer (``fcfd_mm.compat``) first, then
registers into MMRazor's registry: ``FCFDDistill`` (algorithm), ``FCFDBridge`` (connector),
``SigmoidKDLoss`` and ``WeightedMSELoss`` (losses); into MMEngine's ``OPTIM_WRAPPERS``:
``FCFDOptimWrapper`` / ``FCFDAmpOptimWrapper``. Use it from any OpenMMLab config with
``custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)``.
"""
from . import compat

compat.apply_all()

from . import algorithms, connectors, engine, losses  # noqa: E402,F401  (registration)
from . import models  # noqa: E402,F401  (registration: staged backbones, neck, in mmpretrain's MODELS)
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat', 'algorithms', 'connectors', 'engine', 'losses', 'models']
