"""Optimizer wrappers that leave the unused FCFD bridges untouched by the optimizer step.

In the official FCFD code an unsampled bridge ends the backward pass with ``grad=None`` (it is
not in the graph, and ``zero_grad(set_to_none=True)`` cleared it), so SGD applies neither weight
decay nor momentum to it. Here every bridge stays in the graph through a zero term, so that DDP
runs with ``find_unused_parameters=False``; its gradient is then 0, not ``None``, and SGD would
still decay it and move it with its momentum. These wrappers set those gradients to ``None``
between the backward pass(es) and ``optimizer.step()``: MMEngine's ``update_params`` calls
``backward`` on every micro-step and ``step`` once per accumulation window, and ``step`` is where
they act, so a bridge used in any micro-step of the window keeps its gradient. Which parameters
were unused comes from the model's ``pop_unused_parameters()`` (``FCFDDistill``); a model without
that method is stepped as by the plain wrapper.
"""
from __future__ import annotations

from typing import List, Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn

from .cpu_amp import CPUAmpOptimWrapper


class _ClearUnusedGradsMixin:
    """Captures the model in ``optim_context`` (which ``BaseModel.train_step`` and MMEngine's DDP
    wrapper enter every micro-step) and clears the unused parameters' gradients in ``step``."""

    _fcfd_model: Optional[nn.Module] = None

    def optim_context(self, model: nn.Module):
        self._fcfd_model = model.module if is_model_wrapper(model) else model
        return super().optim_context(model)

    def clear_unused_grads(self) -> List[nn.Parameter]:
        """Set ``.grad = None`` on the parameters the model reports unused since the last step."""
        if self._fcfd_model is None:
            raise RuntimeError(f'{type(self).__name__}.step() was called before optim_context(model): it cannot '
                               f'tell which FCFD bridges were unused. Run the loss pass inside '
                               f'`with optim_wrapper.optim_context(model):` (as BaseModel.train_step does).')
        pop = getattr(self._fcfd_model, 'pop_unused_parameters', None)
        params = pop() if pop is not None else []
        for p in params:
            p.grad = None
        return params

    def step(self, **kwargs) -> None:
        self.clear_unused_grads()
        super().step(**kwargs)


@OPTIM_WRAPPERS.register_module()
class FCFDOptimWrapper(_ClearUnusedGradsMixin, OptimWrapper):
    """MMEngine's ``OptimWrapper`` (same arguments) that skips the FCFD bridges a step did not use
    (their gradient is set to ``None`` before ``optimizer.step()``; see the module docstring)."""


@OPTIM_WRAPPERS.register_module()
class FCFDAmpOptimWrapper(_ClearUnusedGradsMixin, AmpOptimWrapper):
    """MMEngine's ``AmpOptimWrapper`` (same arguments) that skips the FCFD bridges a step did not use."""


@OPTIM_WRAPPERS.register_module()
class FCFDCPUAmpOptimWrapper(_ClearUnusedGradsMixin, CPUAmpOptimWrapper):
    """:class:`CPUAmpOptimWrapper` (bf16 on a CPU-only machine) that skips the FCFD bridges a step did not use."""
