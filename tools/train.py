#!/usr/bin/env python
"""Train a detector, classifier or distillation algorithm from a config (OpenMMLab style).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--no-teacher-check]
                         [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG NUM_PROCS [same options]     # torchrun, launcher=pytorch

Same arguments as mmdet's / mmrazor's ``tools/train.py``. Differences: ``fcfd_mm`` is imported
first (its compat layer fixes the torch-2 stack, see README), distributed runs work on CPU-only
machines (gloo), missing configs, checkpoints or data roots fail at once with the fix, ``--resume``
checks its checkpoint before training (``ResumeCheckHook``, added where the config lacks it), and
the plugin's input errors (``FCFDUserError``) end the run with their message, not a traceback.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

import fcfd_mm  # noqa: E402,F401  (applies fcfd_mm.compat before mmengine/mmrazor load models)
from fcfd_mm.utils import FCFDUserError, check_checkpoint_file, check_data_roots  # noqa: E402
from fcfd_mm.utils.checkpoints import resume_advice  # noqa: E402
from fcfd_mm.utils.checks import missing_fcfd_hooks  # noqa: E402
from fcfd_mm.utils.tool_cfg import add_common_args, end_distributed, load_tool_config, parse_common  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model (fcfd-mm)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='automatic mixed precision: fp16 autocast with dynamic loss scaling on a GPU (as mmdet), '
                             'bf16 autocast without loss scaling on a CPU-only machine')
    parser.add_argument('--auto-scale-lr', action='store_true', help='enable automatically scaling LR')
    parser.add_argument('--no-teacher-check', action='store_true',
                        help='remove FCFDTeacherCheckHook from custom_hooks (e.g. for a random or shortened teacher)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the given checkpoint, or from the latest one in work_dir if none is given')
    add_common_args(parser)
    return parse_common(parser, argv)


def build_cfg(args):
    import torch
    cfg = load_tool_config(args)
    if args.amp:
        if torch.cuda.is_available():  # mmdet's --amp: fp16 autocast, dynamic loss scaling
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        else:  # CPU autocast has bf16 only; MMEngine's AmpOptimWrapper refuses a CPU-only machine
            cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
            cfg.optim_wrapper.pop('loss_scale', None)
            cfg.optim_wrapper.dtype = 'bfloat16'
    if args.no_teacher_check:
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                            if str(h.get('type', '')).rsplit('.', 1)[-1] != 'FCFDTeacherCheckHook']
    missing = missing_fcfd_hooks(cfg, ('FCFDTeacherCheckHook',) if args.no_teacher_check else ())
    if missing:
        print(f'warning: the FCFDDistill config has no {", ".join(missing)} in custom_hooks (no teacher check / '
              f'the stage paths drawn at iteration 0 / weight decay and momentum on unused bridges); add them: '
              f'configs/_base_/fcfd_runtime.py has them all.', file=sys.stderr)
    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and 'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise FCFDUserError('--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size=...)` in the config.')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
        if '://' not in args.resume and not osp.isfile(args.resume):
            raise FCFDUserError(f'cannot resume from {args.resume!r}: the file does not exist. '
                                f'{resume_advice([cfg.work_dir])}')
    elif cfg.get('load_from'):
        check_checkpoint_file(cfg.load_from, 'load_from checkpoint')
    if args.resume is not None and not any(str(h.get('type', '')).endswith('ResumeCheckHook')
                                           for h in cfg.get('custom_hooks', [])):
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='ResumeCheckHook')]  # checks before loading
    check_data_roots(cfg)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = build_cfg(args)
    except FCFDUserError as exc:
        sys.exit(f'error: {exc}')
    if args.launcher != 'none':  # mmengine's distributed start assumes CUDA: gloo on a CPU-only machine
        fcfd_mm.compat.enable_cpu_distributed()
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    try:
        runner.train()
    except FCFDUserError as exc:  # a bad checkpoint, image, teacher...: the message names it and the fix
        sys.exit(f'error: {type(exc).__name__}: {exc}')
    end_distributed()


if __name__ == '__main__':
    main()
