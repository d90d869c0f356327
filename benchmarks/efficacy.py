#!/usr/bin/env python
"""What each distillation method buys on the demo: the same demo student, schedule and seed(s),
trained with no KD, MMRazor's FitNet-style L2 / PKD / CWD on the FPN, FCFD on the FPN and FCFD
on the backbone stages (alone: ``fcfd_stages``; with the FPN switch: ``fcfd_stages_fpn``), from the
same trained demo teacher; COCO bbox mAP on the demo val set.
``fcfd_fpn_fast`` is FCFD on the FPN with the overhead controls of ``overhead.py`` (its
``fcfd_settings``), to check how much of the gain they keep.

    python benchmarks/efficacy.py [--family retinanet|frcnn|rtmdet|gfl] [--iters 600] [--seeds 0 1 2]
                                  [--teacher-ckpt CKPT] [--methods ...] [--out benchmarks/results]

Without --teacher-ckpt the demo teacher from ``tools/demo.py`` (work_dirs/demo/<family>/teacher)
is used, and trained first when missing. Each run is a normal ``tools/train.py`` +
``tools/test.py`` run of a config written to the work dir (kept, so any run can be repeated).
Prints mean +- std over seeds and writes ``efficacy_<family>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.join(REPO, 'benchmarks'))

from tools.demo import CONFIGS  # noqa: E402  the demo's configs per family, written once there

METHODS = ('no_kd', 'fitnet', 'pkd', 'cwd', 'fcfd_fpn', 'fcfd_fpn_fast', 'fcfd_stages', 'fcfd_stages_fpn')

#: the detection demos: {family: teacher / student / FCFD config}
FAMILY = {family: dict(teacher=t, student=s, fcfd=f) for family, (t, s, f) in CONFIGS.items()
          if family != 'classification'}


def method_config(family: str, method: str, teacher_ckpt: str, path: str) -> str:
    """Write the config of one method (a demo config with its model replaced) and return its path."""
    from mmengine.config import Config
    from overhead import baseline_levels, fpn_losses
    f = FAMILY[family]
    if method == 'no_kd':
        cfg = Config.fromfile(osp.join(REPO, f['student']))
    else:
        cfg = Config.fromfile(osp.join(REPO, f['fcfd']))
        cfg.model.teacher_ckpt = teacher_ckpt
        if method in ('fitnet', 'pkd', 'cwd'):
            neck = Config.fromfile(osp.join(REPO, f['student'])).model.neck
            levels = baseline_levels(method, family, neck)
            from fcfd_mm.utils import resolve_model_cfg  # MMRazor's own cfg_path needs 'package::path'
            cfg.model = dict(_scope_='mmrazor', type='FpnTeacherDistill',
                             architecture=resolve_model_cfg(cfg.model.architecture, 'architecture'),
                             teacher=resolve_model_cfg(cfg.model.teacher, 'teacher'), teacher_ckpt=teacher_ckpt,
                             distiller=fpn_losses(method, levels, neck.out_channels))
            # the FCFD demo validates with FCFDValLoop (hybrid metrics), which needs an FCFDDistill
            cfg.val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')
        elif method in ('fcfd_stages', 'fcfd_stages_fpn'):
            # the stage switch with the head adapter's defaults (RetinaNet: anchors weighted by the
            # teacher's score, class-score weight 5, the student's own output as the s term, as at
            # the FPN); fcfd_stages_fpn adds the FPN switch with the demo config's settings
            neck = cfg.model.fcfd.neck if method == 'fcfd_stages_fpn' else None
            cfg.model.fcfd = dict(head=cfg.model.fcfd.head, neck=neck, stages=dict())
        elif method == 'fcfd_fpn_fast':  # the overhead controls timed by overhead.py
            from overhead import fcfd_settings
            student = Config.fromfile(osp.join(REPO, f['student'])).model
            fast = fcfd_settings(method, family, student)
            cfg.model.fcfd.head.update(fast['head'])
            cfg.model.fcfd.neck.update(fast.get('neck', {}))
    cfg.dump(path)
    return path


def run(cmd, log):
    with open(log, 'w') as fh:
        res = subprocess.run(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    if res.returncode:
        sys.exit(f'failed: {" ".join(cmd)} (see {log})')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--family', choices=sorted(FAMILY), default='retinanet')
    p.add_argument('--iters', type=int, default=600, help='student iterations (the demo schedule)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--methods', nargs='+', choices=METHODS, default=list(METHODS))
    p.add_argument('--teacher-ckpt')
    p.add_argument('--work-dir', default='work_dirs/efficacy')
    p.add_argument('--out', default='benchmarks/results')
    p.add_argument('--reuse', action='store_true',
                   help='read the mAP of runs whose test results already exist instead of training them again')
    p.add_argument('--tag', default='', help='suffix of the run names and of the JSON file (for variants)')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='extra key=value overrides for every non-baseline method, e.g. '
                        'model.fcfd.head.anchor_weighting=None')
    a = p.parse_args(argv)
    from fcfd_mm.utils.metrics import read_test_metric
    py = sys.executable
    work = osp.abspath(osp.join(a.work_dir, a.family))
    os.makedirs(work, exist_ok=True)
    teacher = osp.abspath(a.teacher_ckpt) if a.teacher_ckpt else \
        osp.join(REPO, 'work_dirs', 'demo', a.family, 'teacher', 'iter_1200.pth')
    if not osp.isfile(teacher):
        if a.teacher_ckpt:
            sys.exit(f'--teacher-ckpt {a.teacher_ckpt!r} does not exist')
        run([py, 'tools/demo.py', '--family', a.family, '--student-iters', '1'], osp.join(work, 'teacher.log'))
    schedule = [f'train_cfg.max_iters={a.iters}', f'train_cfg.val_interval={a.iters + 1}',
                f'default_hooks.checkpoint.interval={a.iters}', f'param_scheduler.1.end={a.iters}',
                f'param_scheduler.1.milestones=[{int(a.iters * 0.75)},{int(a.iters * 0.9)}]']
    results = {}
    for method in a.methods:
        name = method + (f'_{a.tag}' if a.tag and method != 'no_kd' else '')
        cfg = method_config(a.family, method, teacher, osp.join(work, f'{name}.py'))
        extra = a.cfg_options if method != 'no_kd' else []
        for seed in a.seeds:
            wd = osp.join(work, f'{name}_seed{seed}')
            metrics = osp.join(wd, 'test', 'test_metrics.json')
            if not (a.reuse and osp.isfile(metrics)):
                run([py, 'tools/train.py', cfg, '--work-dir', wd, '--cfg-options', *schedule, *extra,
                     f'randomness.seed={seed}'], wd + '_train.log')
                run([py, 'tools/test.py', cfg, osp.join(wd, f'iter_{a.iters}.pth'), '--work-dir',
                     osp.join(wd, 'test')], wd + '_test.log')
            value = read_test_metric(metrics, 'coco/bbox_mAP')  # detects nothing: no COCO keys, mAP 0
            if value is None:
                sys.exit(f'{metrics} has no coco/bbox_mAP (see {wd}_test.log)')
            results.setdefault(method, []).append(value)
            print(f'{method:<12} seed {seed}: bbox mAP {results[method][-1]:.3f}', flush=True)
    print(f'\nEfficacy ({a.family} demo, {a.iters} student iterations, seeds {a.seeds}; COCO bbox mAP)')
    base = statistics.mean(results['no_kd']) if 'no_kd' in results else None
    for method, values in results.items():
        mean = statistics.mean(values)
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        gain = f'{mean - base:+.3f}' if base is not None else ''
        print(f'{method:<12}{mean:>8.3f} +- {std:.3f}  {gain}')
    os.makedirs(a.out, exist_ok=True)
    suffix = f'_{a.tag}' if a.tag else ''
    with open(osp.join(a.out, f'efficacy_{a.family}{suffix}.json'), 'w') as fh:
        json.dump(dict(family=a.family, iters=a.iters, seeds=a.seeds, teacher_ckpt=teacher,
                       cfg_options=a.cfg_options, bbox_mAP=results), fh, indent=1)


if __name__ == '__main__':
    main()
