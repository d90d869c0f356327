#!/usr/bin/env python
"""Function-gap table of an FCFD model: the student's, the teacher's and every hybrid network's metric.

    python tools/function_gap.py CONFIG CKPT [--work-dir DIR] [--hybrids st ts] [--cfg-options ...]
    python tools/function_gap.py CONFIG CKPT --probe-iters 200          # fresh bridges, fitted first
    python tools/function_gap.py CONFIG --student-ckpt STUDENT.pth --probe-iters 200
    python tools/function_gap.py --plot WORK_DIR                         # curves of a training run

CONFIG is an FCFD distillation config (``FCFDDistill``), CKPT a checkpoint it trained. The
validation set is evaluated with ``FCFDValLoop``; the table gives each hybrid's metric and its gap
to the reference network (the teacher for ``st*``, the student for ``ts*``). Written to the work
dir: ``function_gap.json`` and ``function_gap.png`` (bar chart of ``--metric``).

``--probe-iters N`` re-initialises the bridges and trains only them for N iterations on the
training set with FCFD's loss terms (student and teacher frozen, their BN in eval mode:
``fcfd_mm.engine.bridge_probe``), with the config's optimizer (``optim_wrapper.optimizer``,
constant lr, ``--probe-lr`` overrides it) and its ``clip_grad``. ``--student-ckpt`` loads a plain
detector / classifier checkpoint of the student config (trained with any method, or none) into the
student instead of CKPT; the teacher then comes from ``model.teacher_ckpt``.

``--bn-statistics ghost`` (default) scores a stage hybrid (``st@k`` / ``ts@k``) with the BN
statistics training tracked for its path (ghost BN), as the validation loop does; ``main`` with the
receiving network's own. The probe's fresh bridges have no ghost statistics, so probed stage
hybrids use the main ones either way.

``--plot WORK_DIR`` draws the logged student / teacher / hybrid metrics of a run with
``FCFDValLoop`` (the newest ``WORK_DIR/<timestamp>/vis_data/scalars.json``) to
``WORK_DIR/function_gap_curves.png``; nothing else runs.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import fcfd_mm  # noqa: E402,F401
from fcfd_mm.algorithms.hybrid import BN_STATISTICS  # noqa: E402
from fcfd_mm.utils import FCFDUserError, check_checkpoint_file, check_data_roots  # noqa: E402
from fcfd_mm.utils.tool_cfg import add_common_args, load_tool_config, parse_common  # noqa: E402

HYBRID_PREFIX = 'hybrid_'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Function-gap table: student, teacher and hybrid metrics (fcfd-mm)')
    parser.add_argument('config', nargs='?', help='FCFD distillation config')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint of the FCFD config (student, teacher, bridges)')
    parser.add_argument('--work-dir', help='where function_gap.json / .png go (default: the config\'s work dir)')
    parser.add_argument('--hybrids', nargs='+', help='hybrids to evaluate, e.g. st ts st@2 (default: all)')
    parser.add_argument('--metric', help='metric of the bar chart (default: the evaluator\'s first one)')
    parser.add_argument('--probe-iters', type=int, default=0,
                        help='first fit fresh bridges for N iterations (student and teacher frozen)')
    parser.add_argument('--probe-lr', type=float, help='learning rate of the probe (default: the config\'s)')
    parser.add_argument('--student-ckpt', help='a plain student (detector/classifier) checkpoint instead of CKPT; '
                        'the teacher comes from model.teacher_ckpt; needs --probe-iters')
    parser.add_argument('--bn-statistics', choices=BN_STATISTICS, default='ghost',
                        help='BN statistics of a stage hybrid\'s receiver: ghost (default: those training tracked '
                             'for its path; a probe drops them) or main (its own)')
    parser.add_argument('--plot', metavar='WORK_DIR', help='only plot the logged hybrid metrics of a run')
    add_common_args(parser)
    return parse_common(parser, argv)


# ------------------------------------------------------------------ table
def split_metrics(metrics: Dict[str, float]) -> Dict[str, Dict[str, float]]:
    """``{'coco/bbox_mAP': .., 'teacher.coco/bbox_mAP': .., 'hybrid_st.coco/bbox_mAP': ..}`` ->
    ``{'student': {'coco/bbox_mAP': ..}, 'teacher': {..}, 'hybrid_st': {..}}`` (insertion order kept)."""
    nets: Dict[str, Dict[str, float]] = {'student': {}}
    for key, value in metrics.items():
        head, dot, rest = key.partition('.')
        if dot and (head == 'teacher' or head.startswith(HYBRID_PREFIX)):
            nets.setdefault(head, {})[rest] = value
        else:
            nets['student'][key] = value
    return nets


def reference_of(net: str) -> Optional[str]:
    """The network a hybrid is read against: the teacher for ``st*``, the student for ``ts*``."""
    if not net.startswith(HYBRID_PREFIX):
        return None
    return 'teacher' if net[len(HYBRID_PREFIX):].startswith('st') else 'student'


def gap_table(metrics: Dict[str, float]) -> dict:
    """``{'metrics': {net: {metric: value}}, 'gaps': {hybrid: {'reference': net, metric: hybrid - reference}}}``."""
    nets = split_metrics({k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))})
    gaps = {}
    for net, values in nets.items():
        ref = reference_of(net)
        if ref is not None:
            gaps[net] = dict(reference=ref, **{m: v - nets[ref][m] for m, v in values.items() if m in nets[ref]})
    return dict(metrics=nets, gaps=gaps)


def format_table(table: dict, metric: str) -> str:
    rows = [f'{"network":<16}{metric:>22}{"gap":>10}  reference']
    for net, values in table['metrics'].items():
        gap = table['gaps'].get(net, {})
        gap_s = f'{gap[metric]:+10.4f}' if metric in gap else f'{"":>10}'
        rows.append(f'{net:<16}{values.get(metric, float("nan")):>22.4f}{gap_s}  {gap.get("reference", "")}')
    return '\n'.join(rows)


def first_metric(table: dict, metric: Optional[str]) -> str:
    student = table['metrics']['student']
    if metric is None:
        if not student:
            raise FCFDUserError('the evaluator returned no student metrics; nothing to tabulate.')
        return next(iter(student))
    if metric not in student:
        raise FCFDUserError(f'--metric {metric!r} is not among the metrics {list(student)}.')
    return metric


def plot_bars(table: dict, metric: str, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names = list(table['metrics'])
    values = [table['metrics'][n].get(metric, float('nan')) for n in names]
    colors = ['tab:blue' if n == 'student' else 'tab:orange' if n == 'teacher' else
              'tab:green' if reference_of(n) == 'teacher' else 'tab:purple' for n in names]
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 3.5))
    ax.bar(names, values, color=colors)
    ax.set_ylabel(metric)
    ax.set_title('function gap (st*: vs teacher, ts*: vs student)')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------ --plot
def find_scalars(work_dir: str) -> str:
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FCFDUserError(f'no {work_dir}/<timestamp>/vis_data/scalars.json: --plot takes the work dir of a '
                            f'tools/train.py run (mmengine writes the logged scalars there).')
    return found[-1]  # the timestamped folder names sort by time


def read_curves(scalars_path: str, metric: Optional[str] = None):
    """``(metric, {network: [(step, value), ...]})`` from mmengine's scalars.json (one JSON dict a line)."""
    records = []
    with open(scalars_path) as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
    hybrid_keys = [k for r in records for k in r if k.startswith(HYBRID_PREFIX) and '.' in k]
    if not hybrid_keys:
        raise FCFDUserError(f'{scalars_path} has no hybrid_<name>.<metric> scalars: was the run validated with '
                            f"val_cfg=dict(type='mmrazor.FCFDValLoop')?")
    if metric is None:
        metric = hybrid_keys[0].partition('.')[2]
    curves: Dict[str, List] = {}
    for r in records:
        for key, value in r.items():
            if key == metric:
                net = 'student'
            elif key.endswith('.' + metric) and (key.startswith('teacher.') or key.startswith(HYBRID_PREFIX)):
                net = key[:-len(metric) - 1]
            else:
                continue
            curves.setdefault(net, []).append((r['step'], float(value)))
    return metric, curves


def plot_curves(work_dir: str, metric: Optional[str] = None) -> str:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    scalars = find_scalars(work_dir)
    metric, curves = read_curves(scalars, metric)
    fig, ax = plt.subplots(figsize=(7, 4))
    for net, points in curves.items():
        steps, values = zip(*points)
        ax.plot(steps, values, marker='o', label=net, linestyle='--' if net.startswith(HYBRID_PREFIX) else '-')
    ax.set_xlabel('step')
    ax.set_ylabel(metric)
    ax.legend()
    fig.tight_layout()
    out = osp.join(work_dir, 'function_gap_curves.png')
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f'{sorted(curves)} from {scalars} -> {out}')
    return out


# ------------------------------------------------------------------ evaluation
def build_cfg(args):
    if args.config is None:
        raise FCFDUserError('give CONFIG and CKPT (or CONFIG --student-ckpt PATH), or --plot WORK_DIR.')
    if (args.checkpoint is None) == (args.student_ckpt is None):
        raise FCFDUserError('give exactly one of CKPT (an FCFD checkpoint of CONFIG) and --student-ckpt PATH.')
    if args.student_ckpt is not None and args.probe_iters < 1:
        raise FCFDUserError('--student-ckpt has no trained bridges: add --probe-iters N to fit them first.')
    if args.probe_iters < 0:
        raise FCFDUserError(f'--probe-iters must be >= 0, got {args.probe_iters}.')
    if args.probe_iters and args.launcher != 'none':
        # the probe steps the bare algorithm, outside DDP: its ranks' gradients would not be averaged
        raise FCFDUserError('--probe-iters runs in one process; drop --launcher (the probe is short).')
    cfg = load_tool_config(args)
    if cfg.model.get('type', '').split('.')[-1] != 'FCFDDistill':
        raise FCFDUserError(f'{args.config} is not an FCFD distillation config (model.type={cfg.model.get("type")!r}); '
                            f'give the FCFD config (e.g. configs/demo/fcfd_frcnn_demo.py) and --student-ckpt for a '
                            f'plain student checkpoint.')
    cfg.load_from = check_checkpoint_file(args.checkpoint) if args.checkpoint else None
    if args.student_ckpt is not None:
        check_checkpoint_file(args.student_ckpt)
    cfg.val_cfg = dict(type='mmrazor.FCFDValLoop', hybrids=list(args.hybrids) if args.hybrids else 'all',
                       hybrid_bn_statistics=args.bn_statistics)
    loaders = ('val_dataloader', 'train_dataloader') if args.probe_iters else ('val_dataloader',)
    check_data_roots(cfg, loaders=loaders)
    return cfg


def load_student(algorithm, path: str) -> None:
    """A plain detector/classifier checkpoint into the FCFD algorithm's student (strict)."""
    from mmengine.runner import load_checkpoint
    try:
        load_checkpoint(algorithm.student, path, map_location='cpu', strict=True)
    except Exception as exc:
        raise FCFDUserError(f'--student-ckpt {path!r} does not fit the student of the config ({type(exc).__name__}: '
                            f'{str(exc)[:300]}); it must be a checkpoint of the config in model.architecture.') from exc


def probe_settings(cfg, lr: Optional[float]):
    """(optimizer config, max grad norm) for the probe: the config's SGD settings, constant lr."""
    from fcfd_mm.engine.bridge_probe import DEFAULT_PROBE_OPTIMIZER
    wrapper = cfg.get('optim_wrapper', {}) or {}
    optimizer = dict(wrapper.get('optimizer') or DEFAULT_PROBE_OPTIMIZER)
    if lr is not None:
        optimizer['lr'] = lr
    clip = wrapper.get('clip_grad') or {}
    return optimizer, clip.get('max_norm')


def run_gap(args) -> dict:
    from mmengine.model import is_model_wrapper
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    cfg = build_cfg(args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.load_or_resume()  # CKPT now, before the probe replaces the bridges
    algorithm = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if args.student_ckpt is not None:
        load_student(algorithm, args.student_ckpt)
    probe = None
    if args.probe_iters:
        from fcfd_mm.engine.bridge_probe import probe_bridges
        optimizer, max_norm = probe_settings(cfg, args.probe_lr)
        losses = probe_bridges(algorithm, runner.build_dataloader(cfg.train_dataloader), args.probe_iters,
                               optimizer=optimizer, max_grad_norm=max_norm)
        probe = dict(iters=args.probe_iters, optimizer=optimizer, max_grad_norm=max_norm,
                     loss_first=losses[0], loss_last=losses[-1])
    metrics = runner.val()
    table = gap_table(metrics or {})
    table['metric'] = first_metric(table, args.metric)
    table.update(config=args.config, checkpoint=args.checkpoint, student_ckpt=args.student_ckpt, probe=probe,
                 bn_statistics=args.bn_statistics)
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, 'function_gap.json'), 'w') as f:
        json.dump(table, f, indent=1)
    plot_bars(table, table['metric'], osp.join(cfg.work_dir, 'function_gap.png'))
    print(format_table(table, table['metric']))
    print(f'written: {osp.join(cfg.work_dir, "function_gap.json")}, {osp.join(cfg.work_dir, "function_gap.png")}')
    return table


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.plot is not None:
            plot_curves(args.plot, args.metric)
        else:
            run_gap(args)
    except FCFDUserError as exc:
        sys.exit(f'error: {exc}')


if __name__ == '__main__':
    main()
