"""Mixed-precision training on a CPU-only machine: bf16 autocast through MMEngine's AmpOptimWrapper."""
from __future__ import annotations

from typing import Optional, Union

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from .. import compat


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's ``AmpOptimWrapper`` for machines without an accelerator: bf16 autocast, no loss scaling.

    Why a subclass: MMEngine 0.10.7's ``AmpOptimWrapper.__init__`` asserts a CUDA / NPU / MLU /
    MUSA device and builds a ``torch.cuda.amp.GradScaler``. Everything else it does works on
    the CPU unchanged: ``optim_context`` enters ``mmengine.runner.amp.autocast``, which runs
    ``torch.autocast('cpu', dtype=torch.bfloat16)`` there, and ``backward`` / ``step`` /
    ``state_dict`` go through the scaler. Only ``__init__`` is replaced: bf16 keeps float32's
    exponent range, so small gradients do not underflow as in fp16 and no loss scaling is needed;
    the scaler is a disabled ``torch.amp.GradScaler`` (``scale`` / ``step`` / ``update`` pass
    through, its state dict is empty). CPU autocast has no fp16. Building it lets mmcv's ``nms`` /
    ``RoIAlign`` take bf16 CPU tensors (:func:`fcfd_mm.compat.enable_cpu_bf16_ops`).

    Args:
        dtype: must be ``'bfloat16'`` (the only CPU autocast dtype).
        loss_scale: accepted so an ``AmpOptimWrapper`` config can switch type; must be ``None``
            or ``'dynamic'`` and is not used.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', loss_scale: Optional[str] = None,
                 **kwargs) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(f'CPUAmpOptimWrapper: dtype={dtype!r}; CPU autocast runs in bfloat16 only. Use '
                             f"dtype='bfloat16', or AmpOptimWrapper on a GPU for float16.")
        if loss_scale not in (None, 'dynamic'):
            raise ValueError(f'CPUAmpOptimWrapper: loss_scale={loss_scale!r}; bfloat16 needs no loss scaling. '
                             f'Remove loss_scale from optim_wrapper.')
        OptimWrapper.__init__(self, **kwargs)  # not AmpOptimWrapper's: it asserts a GPU-like device
        compat.enable_cpu_bf16_ops()  # mmcv's CPU nms / RoIAlign have no bf16 kernels
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = torch.bfloat16
