"""``NonFiniteLossHook``: stop training at the first NaN/Inf loss term, and never checkpoint
non-finite weights."""
from __future__ import annotations

import math
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce, get_comm_device, get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """A loss term or a weight became NaN/Inf; the message names it, the iteration and the last checkpoint."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training with a clear error when any loss term (student or distillation) is NaN/Inf,
    and refuse to write a checkpoint whose weights are not finite.

    Written by hand because mmdet's ``CheckInvalidLossHook`` checks only the summed ``loss``, every
    ``interval`` iterations, with an ``assert`` that names no term, and lets the checkpoint hook of
    that iteration save the broken weights first.

    Two checks:

    * after every iteration, every logged output whose name contains one of ``keys``. This costs
      nothing on the device: the hook runs after mmengine's ``RuntimeInfoHook`` (priority
      ``VERY_HIGH``), which already turned each term into a Python float for the message hub, and
      before ``CheckpointHook`` (``VERY_LOW``), so the iteration with the first non-finite term is
      never checkpointed. Under DDP one all-reduce of a single flag per iteration makes every rank
      stop at the same iteration.
    * before a checkpoint is written (``before_save_checkpoint``), the weights in it: a step with
      finite losses but overflowing gradients can still leave Inf/NaN weights, which the next
      iteration's losses would show only after they were saved. The weights are already on the
      CPU for saving, so this adds no device sync.

    Args:
        keys: which logged outputs to check: those whose name contains one of these substrings
            (default: every ``loss`` term and the total; not ``grad_norm``, which AMP's dynamic loss
            scaling legitimately makes Inf now and then).
    """

    priority = 'HIGH'  # after RuntimeInfoHook (VERY_HIGH), before CheckpointHook (VERY_LOW)

    def __init__(self, keys: tuple = ('loss', )) -> None:
        self.keys = tuple(keys)
        self._last_written: Optional[str] = None

    def before_train(self, runner) -> None:
        self._last_written = runner.message_hub.get_info('last_ckpt')  # after a resume: the resumed run's

    def _non_finite_terms(self, runner, outputs: Dict) -> Dict[str, float]:
        bad = {}
        for key in outputs:
            if not any(k in key for k in self.keys):
                continue
            buffer = runner.message_hub.log_scalars.get(f'train/{key}')
            if buffer is not None:  # RuntimeInfoHook logged it: a float, no device sync here
                value = float(buffer.current())
            else:  # not logged (RuntimeInfoHook removed): read the tensor itself
                value = float(outputs[key])
            if not math.isfinite(value):
                bad[key] = value
        return bad

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None) -> None:
        bad = self._non_finite_terms(runner, outputs) if outputs else {}
        if get_world_size() > 1:
            flag = torch.tensor([1.0 if bad else 0.0], device=get_comm_device())
            all_reduce(flag, op='max')
            if flag.item() > 0 and not bad:
                bad = {'(a loss term on another rank)': float('nan')}
        if bad:
            terms = ', '.join(f'{k}={v}' for k, v in bad.items())
            last = runner.message_hub.get_info('last_ckpt')
            raise NonFiniteLossError(f'non-finite loss at iteration {runner.iter + 1}: {terms}. '
                                     f'{self._stopped(last)}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', {})
        bad = next((k for k, v in state.items()
                    if torch.is_tensor(v) and v.is_floating_point() and not torch.isfinite(v).all()), None)
        if bad is not None:
            raise NonFiniteLossError(f'non-finite weights after iteration {runner.iter + 1} (first: {bad}); the '
                                     f'checkpoint of that iteration was not written. '
                                     f'{self._stopped(self._last_written)}')
        self._last_written = runner.message_hub.get_info('last_ckpt')  # CheckpointHook sets it just before

    @staticmethod
    def _stopped(last: Optional[str]) -> str:
        saved = (f'The last checkpoint written before it is {last}; nothing was written after it.'
                 if last else 'No checkpoint had been written yet, and none was written after it.')
        return (f'Training stopped. {saved} Usual causes: a learning rate too high for this batch size (lower '
                f'optim_wrapper.optimizer.lr, or keep optim_wrapper.clip_grad), a loss weight too large, or broken '
                f'inputs. Fix it, then resume from the last checkpoint with `--resume CKPT`.')
