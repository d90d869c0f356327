#!/usr/bin/env python
"""What the safety hooks cost, measured inside one real training run of a demo FCFD config.

    python benchmarks/safety_cost.py [--config configs/demo/fcfd_frcnn_demo.py] [--teacher-ckpt CKPT]
                                     [--iters 20] [--out benchmarks/results]

The run is the config's own ``Runner`` (tools/train.py's path), with every call of
``NonFiniteLossHook`` (after each iteration, before each checkpoint) and the one call of
``FCFDTeacherCheckHook`` timed in place; the guard's cost is reported per iteration and as a
fraction of the median training step of the same run. Without ``--teacher-ckpt`` the teacher is
random and the check runs with ``min_value=0`` (it measures the same work, and passes).
Writes ``safety_cost_<config>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def timed(record: list, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            record.append(time.perf_counter() - start)
    return wrapper


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', default='configs/demo/fcfd_frcnn_demo.py')
    p.add_argument('--teacher-ckpt', help='a trained teacher (default: random teacher, check at min_value=0)')
    p.add_argument('--iters', type=int, default=20)
    p.add_argument('--cfg-options', nargs='*', default=[], help='extra key=value settings (e.g. the data root)')
    p.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'results'))
    a = p.parse_args(argv)

    from mmengine.config import Config
    from mmengine.runner import Runner

    import fcfd_mm  # noqa: F401
    from fcfd_mm.engine import FCFDTeacherCheckHook, NonFiniteLossHook
    cfg = Config.fromfile(osp.join(REPO, a.config) if not osp.isabs(a.config) else a.config)
    cfg.model.teacher_ckpt = a.teacher_ckpt
    if not a.teacher_ckpt:  # a random teacher: the check runs in full but its bar is 0
        cfg.custom_hooks = [dict(h, min_value=0) if h['type'] == 'FCFDTeacherCheckHook' else h
                            for h in cfg.custom_hooks]
    cfg.merge_from_dict({'train_cfg.max_iters': a.iters, 'train_cfg.val_interval': a.iters + 1,
                         'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.interval': a.iters // 2})
    cfg.merge_from_dict(dict(o.split('=', 1) for o in a.cfg_options))
    cfg.work_dir = tempfile.mkdtemp(prefix='safety_cost_')
    runner = Runner.from_cfg(cfg)
    guard_iter, guard_save, check = [], [], []
    for hook in runner.hooks:
        if isinstance(hook, NonFiniteLossHook):
            hook.after_train_iter = timed(guard_iter, hook.after_train_iter)
            hook.before_save_checkpoint = timed(guard_save, hook.before_save_checkpoint)
        if isinstance(hook, FCFDTeacherCheckHook):
            hook.before_train = timed(check, hook.before_train)
    runner.train()
    steps = runner.message_hub.get_scalar('train/time').data[0].tolist()[1:]  # warm-up iteration dropped
    step = statistics.median(steps)
    result = dict(config=a.config, iters=a.iters, teacher='given' if a.teacher_ckpt else 'random, min_value=0',
                  median_step_s=step, guard_per_iter_s=statistics.median(guard_iter),
                  guard_fraction_of_step=statistics.median(guard_iter) / step,
                  guard_per_checkpoint_s=statistics.median(guard_save) if guard_save else None,
                  teacher_check_s=check[0] if check else None,
                  teacher_check_in_steps=check[0] / step if check else None)
    print(json.dumps(result, indent=1))
    os.makedirs(a.out, exist_ok=True)
    name = osp.splitext(osp.basename(a.config))[0]
    with open(osp.join(a.out, f'safety_cost_{name}.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
