"""``FCFDProgressHook``: hands the training progress to ``FCFDDistill`` before every iteration.

The stage switch points draw their hybrid paths from ``(seed, iteration)`` (the same draw on every
DDP rank) and ramp their L2 weight over epochs or iterations (docs/method.md, "Loss terms at the
stage switch points"). The algorithm gets both through :meth:`FCFDDistill.set_progress` instead of
reading global state, so that a model can be stepped outside a Runner by calling it directly.
"""
from __future__ import annotations

from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class FCFDProgressHook(Hook):
    """Call ``model.set_progress(runner.epoch, runner.iter)`` before each training iteration
    (0-based epoch and global iteration, the values mmengine's ``RuntimeInfoHook`` logs). Models
    without ``set_progress`` are left alone."""

    priority = 'NORMAL'

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        set_progress = getattr(model, 'set_progress', None)
        if callable(set_progress):
            set_progress(runner.epoch, runner.iter)
