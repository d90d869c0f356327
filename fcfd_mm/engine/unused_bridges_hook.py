"""``FCFDUnusedBridgesHook``: the optimizer step leaves the FCFD bridges a step did not use untouched.

In the official FCFD code an undrawn bridge ends the backward pass with ``grad=None`` (it is not in
the graph, and ``zero_grad(set_to_none=True)`` cleared it), so SGD applies neither weight decay nor
momentum to it. Here every bridge stays in the graph through a zero term, so that DDP runs with
``find_unused_parameters=False``; its gradient is then 0, not ``None``, and SGD would still decay it
and move it with its momentum. This hook sets those gradients to ``None`` just before every
optimizer step, through torch's ``Optimizer.register_step_pre_hook``: it works under any MMEngine
optimizer wrapper (``OptimWrapper``, ``AmpOptimWrapper``, ``CPUAmpOptimWrapper``...). MMEngine's
``update_params`` calls ``backward`` on every micro-step and ``optimizer.step`` once per
accumulation window, so a bridge used in any micro-step of the window keeps its gradient;
gradient clipping runs before the step on the same (zero) gradients; a step that AMP's loss scaler
skips (non-finite gradients) leaves the record to the next one.
"""
from __future__ import annotations

from typing import List

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.registry import HOOKS


@HOOKS.register_module()
class FCFDUnusedBridgesHook(Hook):
    """Before every optimizer step, set ``.grad = None`` on the parameters the model reports unused
    since the previous step (``FCFDDistill.pop_unused_parameters()``: the bridges of undrawn hybrid
    paths, every bridge after ``StopDistillHook``). Models without that method are left alone."""

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._handles: List = []

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        pop = getattr(model, 'pop_unused_parameters', None)
        if pop is None:
            print_log(f'FCFDUnusedBridgesHook: {type(model).__name__} reports no unused parameters; nothing to '
                      f'skip.', logger='current')
            return
        if isinstance(runner.optim_wrapper, OptimWrapperDict):
            raise TypeError('FCFDUnusedBridgesHook steps FCFD with one optimizer; optim_wrapper is an '
                            'OptimWrapperDict. Train the student and its bridges with one optimizer.')

        def clear_unused(optimizer, args, kwargs) -> None:
            for p in pop():
                p.grad = None

        self._handles.append(runner.optim_wrapper.optimizer.register_step_pre_hook(clear_unused))

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
