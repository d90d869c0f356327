#!/usr/bin/env python
"""Distillation you can watch on a CPU: teacher, student alone, student with FCFD, side by side.

    python tools/demo.py [--family frcnn|retinanet|rtmdet|gfl|fcos|atss|fcos_retina] [--teacher-iters 1200] \
        [--student-iters 600]        # fcos_retina: the FCOS teacher, the RetinaNet student (across families)
    python tools/demo.py --family classification [--teacher-iters 30] [--student-iters 30]   # epochs

Steps (each a normal tools/train.py / tools/test.py run you can repeat by hand):
 1. draw the demo dataset (tools/make_demo_data.py) if data/fcfd_demo is missing;
 2. train the demo teacher (skipped when its checkpoint exists, or with --teacher-ckpt);
 3. train the demo student without distillation, and 4. with FCFD (same schedule and seed);
 5. evaluate all three (COCO bbox mAP via pycocotools) and print a table;
 6. print the FCFD student's function-gap table (tools/function_gap.py: the teacher's, the
    student's and the hybrid networks' metrics; docs/hybrid_metrics.md).

Each step's output goes to a log file under the work dir (its path is printed as the step starts);
while it runs, a progress bar follows that log: iterations or epochs done, the time left
(mmengine's estimate), the latest total loss. A step that fails prints the last lines of its log.
"""
import argparse
import collections
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from typing import List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)  # run from a checkout
CONFIGS = {
    'frcnn': ('configs/demo/faster-rcnn_demo_teacher.py', 'configs/demo/faster-rcnn_demo_student.py',
              'configs/demo/fcfd_frcnn_demo.py'),
    'retinanet': ('configs/demo/retinanet_demo_teacher.py', 'configs/demo/retinanet_demo_student.py',
                  'configs/demo/fcfd_retina_demo.py'),
    'rtmdet': ('configs/demo/rtmdet_demo_teacher.py', 'configs/demo/rtmdet_demo_student.py',
               'configs/demo/fcfd_rtmdet_demo.py'),
    'gfl': ('configs/demo/gfl_demo_teacher.py', 'configs/demo/gfl_demo_student.py', 'configs/demo/fcfd_gfl_demo.py'),
    'fcos': ('configs/demo/fcos_demo_teacher.py', 'configs/demo/fcos_demo_student.py',
             'configs/demo/fcfd_fcos_demo.py'),
    'atss': ('configs/demo/atss_demo_teacher.py', 'configs/demo/atss_demo_student.py',
             'configs/demo/fcfd_atss_demo.py'),
    # across families: the FCOS teacher, the RetinaNet student (path st and the appearance term)
    'fcos_retina': ('configs/demo/fcos_demo_teacher.py', 'configs/demo/retinanet_demo_student.py',
                    'configs/demo/fcfd_fcos_retina_demo.py'),
    'classification': ('configs/classification/demo/resnet20_demo_teacher.py',
                       'configs/classification/demo/resnet8_demo_student.py',
                       'configs/classification/demo/fcfd_resnet20_resnet8_demo.py'),
}
#: per family: (metric key, metric label, demo data folder, data generator arguments)
METRICS = {'frcnn': ('coco/bbox_mAP', 'mAP'), 'retinanet': ('coco/bbox_mAP', 'mAP'),
           'rtmdet': ('coco/bbox_mAP', 'mAP'), 'gfl': ('coco/bbox_mAP', 'mAP'), 'fcos': ('coco/bbox_mAP', 'mAP'),
           'atss': ('coco/bbox_mAP', 'mAP'), 'fcos_retina': ('coco/bbox_mAP', 'mAP'),
           'classification': ('accuracy/top1', 'top-1 %')}
#: the teacher's schedule: iterations (detection) or epochs (classification, key True)
DEFAULT_SCHEDULE = {False: 1200, True: 30}


#: a line of mmengine's training / test log: ``Iter(train) [ 40/600]  ...  eta: 0:05:12  ...  loss: 1.2345 ...``
#: or ``Epoch(train)  [3][ 20/40]  ...``; groups: mode, epoch (or None), i, n
LOG_LINE = re.compile(r'(?:Iter|Epoch)\((train|val|test)\)\s*(?:\[\s*(\d+)\s*\])?\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]')
LOG_ETA = re.compile(r'\beta:\s*((?:\d+ days?, )?\d+:\d\d:\d\d)')
LOG_LOSS = re.compile(r'(?<![\w.])loss:\s*(\S+)')  # the total loss, not ``loss_cls:`` or ``student.loss:``
#: how many lines of a failed stage's log are printed
TAIL_LINES = 30


class StageProgress:
    """What one stage's progress bar shows, read from the stage's log lines (mmengine's text log).

    Args:
        total: the stage's length: iterations, or epochs with ``unit='epochs'``; None while unknown
            (taken from the log's ``[i/n]`` then, e.g. an evaluation's batches).
        unit: ``'iterations'`` (``Iter(train) [i/n]`` lines), ``'epochs'`` (``Epoch(train) [e][i/n]``:
            ``e - 1 + i / n`` epochs done) or ``'batches'`` (an evaluation's ``(test) [i/n]`` or
            ``(val) [i/n]`` lines; no loss).
    Attributes:
        completed: iterations / epochs / batches done (float); total: as above; eta: mmengine's estimate
            of the time left (``'0:05:12'``) or None; loss: the latest total loss (float) or None.
    """

    def __init__(self, total: Optional[float] = None, unit: str = 'iterations') -> None:
        if unit not in ('iterations', 'epochs', 'batches'):
            raise ValueError(f"unit must be 'iterations', 'epochs' or 'batches', got {unit!r}")
        self.total, self.unit = total, unit
        self.modes = ('test', 'val') if unit == 'batches' else ('train',)
        self.completed, self.eta, self.loss = 0.0, None, None

    def feed(self, line: str) -> bool:
        """Read one log line; True if it moved the bar."""
        m = LOG_LINE.search(line)
        if m is None or m.group(1) not in self.modes:
            return False
        epoch, i, n = m.group(2), int(m.group(3)), int(m.group(4))
        if self.unit == 'epochs' and epoch is not None:
            self.completed = int(epoch) - 1 + i / n
        else:
            self.completed = float(i)
            if self.total is None or self.unit == 'batches':
                self.total = n
        eta = LOG_ETA.search(line)
        self.eta = eta.group(1) if eta else self.eta
        loss = LOG_LOSS.search(line)
        if loss:
            try:
                self.loss = float(loss.group(1))
            except ValueError:
                pass
        return True

    def finish(self) -> None:
        """The stage ended well: all done, nothing left."""
        if self.total:
            self.completed, self.eta = float(self.total), '0:00:00'

    def fields(self) -> dict:
        """The bar's texts: ``count`` (``'40/600 iterations'``; empty while the total is unknown),
        ``eta`` (``'left 0:05:12'``) and ``loss`` (``'loss 1.2345'``; ``-`` while unknown)."""
        count = f'{int(self.completed)}/{int(self.total)} {self.unit}' if self.total else ''
        eta = f'left {self.eta or "-"}' if self.total else ''
        loss = '' if self.unit == 'batches' else f'loss {"-" if self.loss is None else f"{self.loss:.4f}"}'
        return dict(count=count, eta=eta, loss=loss)


class LogFollower:
    """The lines appended to a (growing) log file since the last call; a line still being written
    waits for its end. Carriage returns (progress bars in the log) end lines too."""

    def __init__(self, path: str) -> None:
        self.path, self.pos, self.partial = path, 0, ''

    def new_lines(self) -> List[str]:
        try:
            with open(self.path, errors='replace') as f:
                f.seek(self.pos)
                text = f.read()
                self.pos = f.tell()
        except FileNotFoundError:
            return []
        parts = re.split(r'[\r\n]', self.partial + text)
        self.partial = parts.pop()
        return [p for p in parts if p]

    def rest(self) -> List[str]:
        """New lines including an unterminated last one (the process has ended)."""
        lines = self.new_lines() + ([self.partial] if self.partial else [])
        self.partial = ''
        return lines


def make_console():
    """A rich console on stdout; 120 columns where stdout is not a terminal (a log file)."""
    from rich.console import Console
    console = Console()
    return console if console.is_terminal else Console(width=120)


def make_progress(console):
    """A rich progress display: stage, bar, done/total and unit, time left (mmengine's eta), latest
    total loss, time elapsed."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    return Progress(TextColumn(r'\[demo] {task.description:<17}'), BarColumn(bar_width=24),
                    TextColumn('{task.fields[count]}'), TextColumn('{task.fields[eta]}'),
                    TextColumn('{task.fields[loss]}'), TimeElapsedColumn(), console=console, refresh_per_second=2)


def log_tail(log_file: str, n: int = TAIL_LINES) -> List[str]:
    """The last ``n`` lines of a log file."""
    with open(log_file, errors='replace') as f:
        return [ln.rstrip('\n') for ln in collections.deque(f, maxlen=n)]


def run(cmd, log_file, label=None, total=None, unit='iterations', poll=1.0, console=None):
    """Run one stage (``cmd``, output to ``log_file``) with a progress bar that follows its log.

    ``label``: the bar's title (default: the script's name); ``total``, ``unit``: as
    :class:`StageProgress`. On failure prints the log's last :data:`TAIL_LINES` lines and exits.
    Returns the stage's wall time in seconds."""
    console = console or make_console()
    console.print(f'$ {" ".join(cmd)}', highlight=False, soft_wrap=True)
    console.print(f'  log: {log_file}', highlight=False, soft_wrap=True)
    stage = StageProgress(total, unit)
    follower = LogFollower(log_file)
    t0 = time.time()
    with open(log_file, 'w') as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PYTHONUNBUFFERED='1'))
    try:
        with make_progress(console) as progress:
            task = progress.add_task(label or osp.basename(cmd[1]), total=stage.total, **stage.fields())
            while True:
                done = proc.poll() is not None
                lines = follower.rest() if done else follower.new_lines()
                if any([stage.feed(line) for line in lines]):
                    progress.update(task, completed=stage.completed, total=stage.total, **stage.fields())
                if done:
                    break
                time.sleep(poll)
            if proc.returncode == 0:
                stage.finish()
                progress.update(task, completed=stage.completed, total=stage.total, **stage.fields())
    finally:
        if proc.poll() is None:  # interrupted (Ctrl-C): stop the stage too
            proc.terminate()
            proc.wait()
    if proc.returncode != 0:
        tail = log_tail(log_file)
        console.print(f'--- last {len(tail)} lines of {log_file}', highlight=False, soft_wrap=True)
        for line in tail:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        console.print('---', highlight=False)
        sys.exit(f'failed ({proc.returncode}); full log: {log_file}')
    return time.time() - t0


def schedule_options(family, length):
    """Shorten/lengthen a demo schedule: iterations (detection) or epochs (classification)."""
    if family == 'classification':
        return [f'train_cfg.max_epochs={length}', f'train_cfg.val_interval={length + 1}',
                f'default_hooks.checkpoint.interval={length}',
                f'param_scheduler.milestones=[{int(length * 2 / 3)},{int(length * 5 / 6)}]']
    return [f'train_cfg.max_iters={length}', f'train_cfg.val_interval={length + 1}',
            f'default_hooks.checkpoint.interval={length}',
            f'param_scheduler.1.end={length}',
            f'param_scheduler.1.milestones=[{int(length * 0.75)},{int(length * 0.9)}]']


def checkpoint_name(family, length):
    return f'epoch_{length}.pth' if family == 'classification' else f'iter_{length}.pth'


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
    p.add_argument('--teacher-iters', type=int, help='teacher schedule: iterations (detection, 1200) or epochs '
                                                      '(classification, 30)')
    p.add_argument('--student-iters', type=int, help='student schedule: iterations (detection, 600) or epochs '
                                                      '(classification, 30)')
    p.add_argument('--teacher-ckpt', help='use this trained demo teacher instead of training one')
    a = p.parse_args(argv)
    cls = a.family == 'classification'
    unit = 'epochs' if cls else 'iterations'
    t_len = a.teacher_iters or DEFAULT_SCHEDULE[cls]
    s_len = a.student_iters or (30 if cls else 600)
    teacher_cfg, student_cfg, fcfd_cfg = CONFIGS[a.family]
    metric, metric_label = METRICS[a.family]
    work = osp.abspath(osp.join(a.work_dir, a.family))
    os.makedirs(work, exist_ok=True)
    py = sys.executable
    data_marker = 'data/fcfd_cls_demo/val/.done' if cls else 'data/fcfd_demo/annotations/instances_val.json'
    if not osp.isfile(osp.join(REPO, data_marker)):
        run([py, 'tools/make_demo_data.py', '--task', 'classification' if cls else 'detection'],
            osp.join(work, 'make_data.log'), label='demo data', unit='batches')

    teacher_ckpt = osp.abspath(a.teacher_ckpt) if a.teacher_ckpt else \
        osp.join(work, 'teacher', checkpoint_name(a.family, t_len))
    if not osp.isfile(teacher_ckpt):
        if a.teacher_ckpt:
            sys.exit(f'--teacher-ckpt {a.teacher_ckpt!r} does not exist')
        print(f'[demo] training the teacher ({t_len} {"epochs" if cls else "iterations"})...', flush=True)
        run([py, 'tools/train.py', teacher_cfg, '--work-dir', osp.join(work, 'teacher'), '--cfg-options',
             *schedule_options(a.family, t_len)], osp.join(work, 'teacher.log'), label='teacher', total=t_len,
            unit=unit)
    runs = [('teacher', teacher_cfg, teacher_ckpt, osp.join(work, 'teacher'))]
    fcfd_extra = [f'model.teacher_ckpt={teacher_ckpt}']
    if not a.teacher_ckpt and t_len < DEFAULT_SCHEDULE[cls]:
        # a teacher trained on a shortened schedule may score below the teacher check's bar;
        # the demo still runs, and the check reports the teacher's metric in the FCFD log
        print('[demo] short teacher schedule: the teacher check only reports its metric (min_value=0)', flush=True)
        fcfd_extra.append('custom_hooks.0.min_value=0')  # FCFDTeacherCheckHook (fcfd_runtime.py)
    for name, cfg, extra in (('student', student_cfg, []), ('student+FCFD', fcfd_cfg, fcfd_extra)):
        wd = osp.join(work, name.replace('+', '_'))
        print(f'[demo] training the {name} ({s_len} {"epochs" if cls else "iterations"})...', flush=True)
        run([py, 'tools/train.py', cfg, '--work-dir', wd, '--cfg-options', *schedule_options(a.family, s_len),
             *extra], osp.join(work, name.replace('+', '_') + '.log'), label=name, total=s_len, unit=unit)
        runs.append((name, cfg, osp.join(wd, checkpoint_name(a.family, s_len)), wd))
    from fcfd_mm.utils.metrics import read_test_metric
    rows = []
    for name, cfg, ckpt, wd in runs:
        extra = ['--cfg-options', f'model.teacher_ckpt={teacher_ckpt}'] if cfg == fcfd_cfg else []
        run([py, 'tools/test.py', cfg, ckpt, '--work-dir', osp.join(wd, 'test'), *extra],
            osp.join(work, name.replace('+', '_') + '_test.log'), label=f'{name} test', unit='batches')
        # a detector that detects nothing gets no COCO keys: read as mAP 0 (as benchmarks/efficacy.py)
        rows.append((name, read_test_metric(osp.join(wd, 'test', 'test_metrics.json'), metric), seconds_per_iter(wd)))
    print(results_table(rows, f'{a.family}; {s_len} student {"epochs" if cls else "iterations"}; {metric} on the '
                              f'demo val set', metric_label))
    with open(osp.join(work, 'demo_results.json'), 'w') as f:
        json.dump([dict(model=r[0], metric=metric, value=r[1], s_per_iter=r[2]) for r in rows], f, indent=1)
    with open(osp.join(runs[-1][3], 'test', 'test_metrics.json')) as f:
        fcfd_scored = metric in json.load(f)
    print(function_gap(py, fcfd_cfg, runs[-1][2], teacher_ckpt, metric, work, fcfd_scored))


def function_gap(py, fcfd_cfg, fcfd_ckpt, teacher_ckpt, metric, work, fcfd_scored):
    """The FCFD student's function-gap table (tools/function_gap.py: the student's, the teacher's and
    each hybrid network's metric, the gap to its reference), or why there is none."""
    if not fcfd_scored:  # the evaluator returned nothing (a detector that detects nothing)
        return '\nFunction gap: n/a (the FCFD student detects nothing yet)'
    out = osp.join(work, 'function_gap')
    run([py, 'tools/function_gap.py', fcfd_cfg, fcfd_ckpt, '--work-dir', out, '--metric', metric,
         '--cfg-options', f'model.teacher_ckpt={teacher_ckpt}'],
        osp.join(work, 'function_gap.log'), label='function gap', unit='batches')
    from tools.function_gap import format_table
    with open(osp.join(out, 'function_gap.json')) as f:
        table = json.load(f)
    return ('\nFunction gap of the student+FCFD run (hybrid networks; docs/hybrid_metrics.md: a large st gap '
            'means\nthe student\'s features do not yet work in the teacher\'s head, a large ts gap that its '
            f'head rejects teacher-like features)\n{format_table(table, metric)}')


def results_table(rows, title, metric_label):
    """The demo's table: one line per ``(model, metric value or None, s/iter)``; None reads 'n/a'."""
    lines = [f'\nDemo ({title})', f'{"model":<16}{metric_label:>10}{"s/iter":>9}']
    for name, value, t in rows:
        shown = f'{value:>10.3f}' if value is not None else f'{"n/a":>10}'
        lines.append(f'{name:<16}{shown}{t:>9.3f}')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
