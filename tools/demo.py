#!/usr/bin/env python
"""Distillation you can watch on a CPU: teacher, student alone, student with FCFD, side by side.

    python tools/demo.py [--family frcnn|retinanet] [--teacher-iters 1200] [--student-iters 600]

Steps (each a normal tools/train.py / tools/test.py run you can repeat by hand):
 1. draw the demo dataset (tools/make_demo_data.py) if data/fcfd_demo is missing;
 2. train the demo teacher (skipped when its checkpoint exists, or with --teacher-ckpt);
 3. train the demo student without distillation, and 4. with FCFD (same schedule and seed);
 5. evaluate all three (COCO bbox mAP via pycocotools) and print a table.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'frcnn': ('configs/demo/faster-rcnn_demo_teacher.py', 'configs/demo/faster-rcnn_demo_student.py',
              'configs/demo/fcfd_frcnn_demo.py'),
    'retinanet': ('configs/demo/retinanet_demo_teacher.py', 'configs/demo/retinanet_demo_student.py',
                  'configs/demo/fcfd_retina_demo.py'),
}


def run(cmd, log_file):
    print('$ ' + ' '.join(cmd), flush=True)
    t0 = time.time()
    with open(log_file, 'w') as log:
        res = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        sys.exit(f'failed ({res.returncode}); see {log_file}')
    return time.time() - t0


def schedule_options(iters):
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters + 1}',
            f'default_hooks.checkpoint.interval={iters}',
            f'param_scheduler.1.end={iters}',
            f'param_scheduler.1.milestones=[{int(iters * 0.75)},{int(iters * 0.9)}]']


def seconds_per_iter(work_dir):
    """Median of the logged per-iteration times (mmengine's `time`), warm-up iterations excluded."""
    times = []
    for root, _, files in os.walk(work_dir):
        for f in files:
            if f == 'scalars.json':
                with open(osp.join(root, f)) as fh:
                    times += [json.loads(line)['time'] for line in fh if '"time"' in line and '"lr"' in line]
    times = sorted(times[1:] or times)
    return times[len(times) // 2] if times else float('nan')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--family', choices=sorted(CONFIGS), default='frcnn')
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--teacher-iters', type=int, default=1200)
    p.add_argument('--student-iters', type=int, default=600)
    p.add_argument('--teacher-ckpt', help='use this trained demo teacher instead of training one')
    a = p.parse_args(argv)
    teacher_cfg, student_cfg, fcfd_cfg = CONFIGS[a.family]
    work = osp.abspath(osp.join(a.work_dir, a.family))
    os.makedirs(work, exist_ok=True)
    py = sys.executable
    if not osp.isfile(osp.join(REPO, 'data/fcfd_demo/annotations/instances_val.json')):
        run([py, 'tools/make_demo_data.py'], osp.join(work, 'make_data.log'))

    teacher_ckpt = osp.abspath(a.teacher_ckpt) if a.teacher_ckpt else osp.join(work, 'teacher', f'iter_{a.teacher_iters}.pth')
    rows = []
    if not osp.isfile(teacher_ckpt):
        if a.teacher_ckpt:
            sys.exit(f'--teacher-ckpt {a.teacher_ckpt!r} does not exist')
        print(f'[demo] training the teacher ({a.teacher_iters} iterations)...', flush=True)
        run([py, 'tools/train.py', teacher_cfg, '--work-dir', osp.join(work, 'teacher'), '--cfg-options',
             *schedule_options(a.teacher_iters)], osp.join(work, 'teacher.log'))
    runs = [('teacher', teacher_cfg, teacher_ckpt, osp.join(work, 'teacher'))]
    for name, cfg, extra in (('student', student_cfg, []),
                             ('student+FCFD', fcfd_cfg, [f'model.teacher_ckpt={teacher_ckpt}'])):
        wd = osp.join(work, name.replace('+', '_'))
        print(f'[demo] training the {name} ({a.student_iters} iterations)...', flush=True)
        run([py, 'tools/train.py', cfg, '--work-dir', wd, '--cfg-options', *schedule_options(a.student_iters),
             *extra], osp.join(work, name.replace('+', '_') + '.log'))
        runs.append((name, cfg, osp.join(wd, f'iter_{a.student_iters}.pth'), wd))
    for name, cfg, ckpt, wd in runs:
        extra = ['--cfg-options', f'model.teacher_ckpt={teacher_ckpt}'] if cfg == fcfd_cfg else []
        run([py, 'tools/test.py', cfg, ckpt, '--work-dir', osp.join(wd, 'test'), *extra],
            osp.join(work, name.replace('+', '_') + '_test.log'))
        with open(osp.join(wd, 'test', 'test_metrics.json')) as f:
            m = json.load(f)
        rows.append((name, m['coco/bbox_mAP'], m['coco/bbox_mAP_50'], seconds_per_iter(wd)))
    print(f'\nDemo ({a.family}, {a.student_iters} student iterations, COCO bbox mAP on the demo val set)')
    print(f'{"model":<16}{"mAP":>8}{"mAP@50":>9}{"s/iter":>9}')
    for name, m, m50, t in rows:
        print(f'{name:<16}{m:>8.3f}{m50:>9.3f}{t:>9.3f}')
    with open(osp.join(work, 'demo_results.json'), 'w') as f:
        json.dump([dict(model=r[0], bbox_mAP=r[1], bbox_mAP_50=r[2], s_per_iter=r[3]) for r in rows], f, indent=1)


if __name__ == '__main__':
    main()
