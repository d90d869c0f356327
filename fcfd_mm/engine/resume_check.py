"""``ResumeCheckHook``: ``--resume`` from a checkpoint that cannot be read, or that does not fit
the config, stops before training with the newest complete checkpoint and the ``--resume`` to use."""
from __future__ import annotations

import os.path as osp
from typing import List, Optional

from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS

from ..utils.checkpoints import checkpoint_problem, resume_advice
from ..utils.checks import FCFDUserError

#: how many key names an error quotes
SHOWN = 3


class ResumeCheckError(FCFDUserError):
    """The checkpoint to resume from cannot be used; the message names it, what is wrong and the fix."""


def _quoted(names: List[str]) -> str:
    more = f' and {len(names) - SHOWN} more' if len(names) > SHOWN else ''
    return ', '.join(names[:SHOWN]) + more


def _strip_module(key: str) -> str:
    return key[len('module.'):] if key.startswith('module.') else key  # MMEngine's default revise_keys


def state_problem(checkpoint, model, optim_wrapper=None) -> Optional[str]:
    """What keeps ``checkpoint`` (a loaded dict) from resuming a run of ``model`` (and
    ``optim_wrapper``), in one sentence, or None. Checks what ``Runner.resume`` needs and what
    MMEngine's ``strict=False`` loading would only log: ``meta.epoch`` / ``meta.iter`` and the
    optimizer state are there, every parameter of the model is in it, every tensor in both has the
    same shape, and, for a plain ``OptimWrapper``, the parameter groups have the same sizes (which
    also catches a checkpoint with trainable weights this model lacks). Extra buffers in the
    checkpoint are not a problem: FCFD creates some state lazily (the ghost BN statistics of the
    hybrid paths exist once a path has trained, and are created when loaded)."""
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get('state_dict'), dict):
        return 'it holds no state_dict: it is not a checkpoint written by training'
    meta = checkpoint.get('meta') or {}
    missing = [k for k in ('epoch', 'iter') if k not in meta] + \
        (['optimizer'] if 'optimizer' not in checkpoint else [])
    if missing:
        return (f'it holds weights but no training state (no {", ".join(missing)}): a best_*, exported or '
                f'model-zoo checkpoint. Start from its weights with `--cfg-options load_from=PATH` instead of --resume')
    saved = {_strip_module(k): v for k, v in checkpoint['state_dict'].items()}
    model = model.module if is_model_wrapper(model) else model
    own = model.state_dict()
    absent = sorted(k for k, _ in model.named_parameters() if k not in saved)
    shapes = sorted(f'{k} {tuple(saved[k].shape)} vs {tuple(own[k].shape)}' for k in own
                    if k in saved and hasattr(saved[k], 'shape') and tuple(saved[k].shape) != tuple(own[k].shape))
    if absent or shapes:
        name = meta.get('experiment_name')
        parts = ([f'{len(absent)} parameters of the model are not in it ({_quoted(absent)})'] if absent else []) + \
            ([f'{len(shapes)} have another shape (checkpoint vs model: {_quoted(shapes)})'] if shapes else [])
        return (f'it does not fit this config\'s model: {"; ".join(parts)}' +
                (f'. It was written by run {name!r}' if name else ''))
    if isinstance(optim_wrapper, OptimWrapper) and isinstance(checkpoint['optimizer'], dict):
        groups = checkpoint['optimizer'].get('param_groups')
        if isinstance(groups, list):
            theirs = [len(g.get('params', ())) for g in groups]
            ours = [len(g['params']) for g in optim_wrapper.optimizer.param_groups]
            if theirs != ours:
                return (f'its optimizer state does not fit this config\'s optimizer: parameter groups of '
                        f'{theirs} parameters in the checkpoint, {ours} here (another model, optimizer or '
                        f'paramwise_cfg)')
    return None


@HOOKS.register_module()
class ResumeCheckHook(Hook):
    """Before a resumed run loads its checkpoint (``--resume``, auto or with a path; the runner's
    ``resume=True``), check that checkpoint; stop with :class:`ResumeCheckError` when it is missing,
    cut short or damaged (zip directory and CRC-32 of every record, which ``torch.load`` does not
    check), cannot be loaded, holds no training state, or does not fit the model and optimizer the
    config builds. The error names the file, what is wrong, and the newest complete checkpoint in
    the work dir with the exact ``--resume PATH``. Auto-resume without ``last_checkpoint`` in the
    work dir starts from iteration 0 only when no checkpoint is there either, and says so.

    Written by hand because MMEngine's ``Runner.resume`` reports a cut file with torch's
    "PytorchStreamReader failed reading zip archive", loads a checkpoint of another model with
    ``strict=False`` (a log warning), and auto-resume without ``last_checkpoint`` starts from scratch
    with an info line. Costs one extra read of the checkpoint before training (MMEngine then loads it).
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        # MMEngine keeps --resume / load_from in private attributes only (Runner.load_or_resume reads them)
        if not getattr(runner, '_resume', False):
            return
        work_dir = runner.work_dir
        folders = [work_dir] + [self._checkpoint_dir(h, work_dir) for h in runner.hooks
                                if isinstance(h, CheckpointHook) and h.out_dir and '://' not in str(h.out_dir)]
        load_from = getattr(runner, '_load_from', None)
        if load_from is None:
            pointer = osp.join(work_dir, 'last_checkpoint')
            if not osp.isfile(pointer):
                advice = resume_advice(folders)
                if advice.startswith('No complete checkpoint'):
                    runner.logger.warning(f'--resume: nothing to resume in {work_dir} (no last_checkpoint, no '
                                          f'checkpoint): training starts from iteration 0.')
                    return
                raise ResumeCheckError(f'cannot resume: {work_dir} has checkpoints but no last_checkpoint file '
                                       f'naming the one to resume from. {advice}')
            with open(pointer) as f:
                path = f.read().strip()
            what = f'{path!r} (named by {pointer})'
            if not path:
                raise ResumeCheckError(f'cannot resume: {pointer} is empty. {resume_advice(folders)}')
        else:
            path, what = load_from, repr(load_from)
        if '://' in path:  # a remote checkpoint: MMEngine's loader reports its own errors
            return
        problem = checkpoint_problem(path) or self._load_problem(runner, path)
        if problem:
            raise ResumeCheckError(f'cannot resume from {what}: {problem}. {resume_advice(folders, exclude=[path])}')

    @staticmethod
    def _checkpoint_dir(hook: CheckpointHook, work_dir: str) -> str:
        """Where ``hook`` writes: its ``out_dir``, joined with the work dir's name when it is another
        folder (what ``CheckpointHook.before_train`` does)."""
        out_dir = str(hook.out_dir)
        return out_dir if osp.abspath(out_dir) == osp.abspath(work_dir) else \
            osp.join(out_dir, osp.basename(work_dir.rstrip('/')))

    @staticmethod
    def _load_problem(runner, path: str) -> Optional[str]:
        from mmengine.runner.checkpoint import CheckpointLoader
        try:
            checkpoint = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        except Exception as exc:  # noqa: BLE001  (any reason torch cannot read it is the message)
            return f'torch cannot load it ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""})'
        return state_problem(checkpoint, runner.model, runner.optim_wrapper)
