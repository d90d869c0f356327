"""``RNGStateHook``: carry torch's global random generators through checkpoints, so a resumed run
continues the random draws of the uninterrupted one."""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

KEY = 'torch_rng_state'


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save torch's global random states (CPU, and CUDA where used) in every checkpoint and
    restore them just before the first resumed training iteration.

    Written by hand because MMEngine 0.10 restores the data order on ``--resume`` but not the
    torch generator that mmdet's RPN / RoI samplers draw from, so a resumed run's losses drift
    from the uninterrupted run's (plain mmdet training alike). numpy's and Python's generators,
    which the data pipeline's random transforms use, are deliberately not restored: on resume
    MMEngine replays the data pipeline over the iterations already trained (to skip their data)
    from the same seed, which brings them to the uninterrupted run's state by itself. FCFD's own
    random state (the RoI draw of ``consistency_rois``, the ghost-BN buffers) is in the model's
    ``state_dict``; its path sampling is seeded by the iteration.

    Exact for single-process runs with ``num_workers=0`` (workers re-seed themselves at start, so
    their transforms' draws restart). Under DDP the checkpoint holds rank 0's state (MMEngine saves
    on rank 0 only); rank 0 restores it and the other ranks keep their seeded one. Checkpoints
    without the state (older runs) resume as before.
    """

    priority = 'VERY_LOW'  # restore after every other hook's before_train_iter

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(cpu=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint[KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if KEY in checkpoint and (get_world_size() == 1 or runner.rank == 0):
            self._pending = checkpoint[KEY]

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        torch.set_rng_state(state['cpu'])
        if 'cuda' in state and torch.cuda.is_available() and len(state['cuda']) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state['cuda'])
