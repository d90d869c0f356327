#!/usr/bin/env python
"""What each distillation method buys: the same demo student, schedule and seeds, trained with no
KD, MMRazor's FitNet-style L2 / PKD / CWD on the neck, and FCFD in its variants, from the same
trained teacher; COCO bbox mAP on the benchmark's val split and on its held-out test split.

    python benchmarks/efficacy.py --family frcnn retinanet gfl rtmdet fcos atss \\
        --methods no_kd pkd cwd fcfd_fpn --seeds 0 1 2 [--jobs 2] [--iters N]

Each family trains at its instrument schedule (:data:`INSTRUMENT_ITERS`: 600 student iterations,
1200 for ATSS and RTMDet, 2400 for RetinaNet and GFL) unless ``--iters`` names another. The
benchmark data (``--data-root``, default ``data/fcfd_bench``) is the demo's shapes dataset at a
larger size (``--data-size``: 2000 train, 500 val, 500 held-out test images by default), drawn when
missing. Settings are chosen on ``val``; ``test`` is only read to confirm them (it is held out:
nothing is chosen on it). The teacher of each family is trained on the same data
(``<work-dir>/<family>/teacher``, twice the student's schedule; ``<family>_i<iters>`` instead of
``<family>`` at a schedule other than the family's) unless ``--teacher-ckpt`` is given. Each run is
an ordinary ``tools/train.py`` + ``tools/test.py`` run of a config written to the work dir (kept, so
any run can be repeated); ``--jobs N`` runs N at a time with ``cores / N`` threads each (mmengine's
seeded CPU training repeats exactly for a given thread count, so compare runs made with the same
``--jobs``). Prints mean +- std over seeds and merges the results into
``efficacy_<family>[_i<iters>][_<tag>].json`` (a method run again replaces its old entry).

Methods (``--methods``; ``fcfd_*`` start from the family's FCFD demo config, which is the setting
its COCO config ships):

* ``no_kd``: the student alone; ``fitnet`` / ``pkd`` / ``cwd``: MMRazor's ``FpnTeacherDistill``
  with MMRazor's own loss settings (PKD weight 6, CWD tau 1 weight 10) on the neck levels;
* ``fcfd_fpn``: FCFD at the neck as shipped; ``fcfd_fpn_fast``: with the overhead controls;
* ``fcfd_stages`` / ``fcfd_stages_fpn``: FCFD at the backbone stages, alone / with the neck;
* diagnosis variants of ``fcfd_fpn`` (:data:`VARIANTS`): ``fcfd_app`` (appearance term only),
  ``fcfd_s`` / ``fcfd_st`` / ``fcfd_ts`` (appearance + one path), ``fcfd_cwd_app`` (CWD as the
  appearance term), ``fcfd_cwd`` (MMRazor's CWD beside FCFD), ``fcfd_v1`` (the dense families'
  earlier default: bridges from their own initialisation, plain appearance MSE), ``fcfd_scale``
  (the scale-free setting written out: the dense families' default, Faster R-CNN's option), the
  class-score loss forms (``fcfd_qfl``, ``fcfd_spn``...), ``fcfd_scale_*`` (those on top of the
  scale-free setting; ``fcfd_scale_cwd``: the scale-free setting with MMRazor's CWD beside it, the
  setting of ``configs/fcfd_cwd_frcnn_r101_r50_coco.py`` for Faster R-CNN).
"""
from __future__ import annotations

import argparse
import copy
import fcntl
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.join(REPO, 'benchmarks'))

from tools.demo import CONFIGS  # noqa: E402  the demo's configs per family, written once there

#: MMRazor's own CWD setting (its cwd_fpn_retina / gfl configs): tau 1, weight 10 per level
CWD_LOSS = dict(type='ChannelWiseDivergence', tau=1, loss_weight=10)
#: MMRazor's own PKD setting (its pkd_fpn configs): weight 6 per level
PKD_LOSS = dict(type='PKDLoss', loss_weight=6)


def _paths(*paths: str) -> Callable[[dict, dict], None]:
    def apply(fcfd: dict, defaults: dict) -> None:
        fcfd['neck']['paths'] = tuple(paths)
    return apply


def _cwd_appearance(fcfd: dict, defaults: dict) -> None:
    fcfd['neck']['appearance_loss'] = dict(CWD_LOSS)


def _class_loss(qfl: bool, soft_positives: bool, weight: Optional[float] = None) -> Callable[[dict, dict], None]:
    """Change the class-score output loss (``cls``): quality-focal KD instead of the KL form, and / or
    reduced over every row divided by the soft positive count (SoftPositiveNorm)."""
    def apply(fcfd: dict, defaults: dict) -> None:
        losses = {k: dict(v) for k, v in (fcfd['neck'].get('output_losses') or defaults).items()}
        cls = dict(losses['cls'])
        if qfl:
            cls = dict(type='QualityFocalKDLoss', beta=2.0, tau=cls.get('tau', 1.0),
                       loss_weight=cls.get('loss_weight', 1.0))
        if weight is not None:
            cls['loss_weight'] = weight
        losses['cls'] = dict(type='SoftPositiveNorm', loss=cls) if soft_positives else cls
        fcfd['neck']['output_losses'] = losses
    return apply


def _scale_free(appearance: Optional[dict]) -> Callable[[dict, dict], None]:
    """Bridges started from the receiving network's feature statistics; with ``appearance`` also that
    appearance loss (a scale-free one)."""
    def apply(fcfd: dict, defaults: dict) -> None:
        fcfd['neck']['bridge_init'] = 'receiver_statistics'
        if appearance:
            fcfd['neck']['appearance_loss'] = dict(appearance)
    return apply


def _unscaled(fcfd: dict, defaults: dict) -> None:
    """The FPN switch point's setting before it became scale-free for the dense families: the
    bridges' own initialisation and the plain appearance MSE (Faster R-CNN's default still)."""
    from fcfd_mm.algorithms.fcfd_core import DEFAULT_MSE  # the switch points' own plain MSE
    fcfd['neck']['bridge_init'] = None
    fcfd['neck']['appearance_loss'] = dict(DEFAULT_MSE)


#: ``fcfd_fpn`` variants for the diagnosis: name -> (what, change of ``model.fcfd`` given the adapter's
#: default output losses)
VARIANTS: Dict[str, tuple] = {
    'fcfd_app': ('appearance term only (no head path)', _paths()),
    'fcfd_s': ('appearance + path s', _paths('s')),
    'fcfd_st': ('appearance + path st', _paths('st')),
    'fcfd_ts': ('appearance + path ts', _paths('ts')),
    'fcfd_cwd_app': ("MMRazor's CWD as the appearance term", _cwd_appearance),
    'fcfd_qfl': ('quality-focal KD on class scores', _class_loss(True, False)),
    'fcfd_spn': ('class-score KD summed over rows / soft positives', _class_loss(False, True)),
    'fcfd_qfl_spn': ('quality-focal KD summed over rows / soft positives', _class_loss(True, True)),
    'fcfd_spn1': ('class-score KD (weight 1) summed over rows / soft positives', _class_loss(False, True, 1.0)),
    'fcfd_v1': ("the earlier dense default: the bridges' own initialisation + plain appearance MSE", _unscaled),
    'fcfd_binit': ("bridges started from the receiver's feature statistics", _scale_free(None)),
    'fcfd_scale': ("bridges started from the receiver's statistics + relative appearance MSE",
                   _scale_free(dict(type='RelativeMSELoss', loss_weight=1.0))),
    'fcfd_scale_pkd': ("bridges started from the receiver's statistics + MMRazor's PKD as the appearance term",
                       _scale_free(PKD_LOSS)),
    'fcfd_qfl_spn1': ('quality-focal KD (weight 1) summed over rows / soft positives', _class_loss(True, True, 1.0)),
}


def _both(*changes: Callable[[dict, dict], None]) -> Callable[[dict, dict], None]:
    def apply(fcfd: dict, defaults: dict) -> None:
        for change in changes:
            change(fcfd, defaults)
    return apply


for _name in ('spn1', 'qfl_spn1'):  # the loss forms on top of the scale-free setting
    VARIANTS[f'fcfd_scale_{_name}'] = (VARIANTS['fcfd_scale'][0] + ', ' + VARIANTS[f'fcfd_{_name}'][0],
                                       _both(VARIANTS['fcfd_scale'][1], VARIANTS[f'fcfd_{_name}'][1]))
METHODS = ('no_kd', 'fitnet', 'pkd', 'cwd', 'fcfd_fpn', 'fcfd_fpn_fast', 'fcfd_stages', 'fcfd_stages_fpn',
           'fcfd_cwd', 'fcfd_scale_cwd', *VARIANTS)

#: the detection demos: {family: teacher / student / FCFD config}
FAMILY = {family: dict(teacher=t, student=s, fcfd=f) for family, (t, s, f) in CONFIGS.items()
          if family != 'classification'}
#: pairs that share runs with other families: the cross-family demo's teacher is the FCOS family's and
#: its student alone (no KD) the RetinaNet family's, so those runs are trained once, in those families'
#: work directories
SHARED_RUNS = {'fcos_retina': dict(teacher='fcos', no_kd='retinanet')}


#: the instrument's schedule per family: student iterations (the teacher trains twice as long), the
#: schedule of the family's row in benchmarks/README.md's table. The rule: the shortest schedule (600,
#: doubled) at which the teacher is 0.05 bbox mAP or more above the student alone and the student
#: alone's 3 seeds lie within 0.03 (benchmarks/README.md, "The schedule")
INSTRUMENT_ITERS = dict(frcnn=600, retinanet=2400, gfl=2400, fcos=600, atss=1200, rtmdet=1200, fcos_retina=600)


def runs_family(family: str, run: str) -> str:
    """The family whose work directory holds ``family``'s ``run`` (``'teacher'`` or a method)."""
    return SHARED_RUNS.get(family, {}).get(run, family)


def schedule_name(family: str, iters: int) -> str:
    """``family``'s name for runs and results at ``iters`` student iterations: the family itself at its
    instrument schedule (:data:`INSTRUMENT_ITERS`), ``<family>_i<iters>`` at any other (so runs of two
    schedules never share a directory: a teacher's test metrics would be read for the other's)."""
    return family if iters == INSTRUMENT_ITERS[family] else f'{family}_i{iters}'

#: the benchmark data: default root and (train, val, test) image counts
DATA_ROOT, DATA_SIZE = 'data/fcfd_bench', (2000, 500, 500)
SPLITS = ('val', 'test')


def data_options(root: str, split: str = 'val') -> List[str]:
    """``--cfg-options`` that point a demo config's dataloaders and evaluators at ``root`` and test on
    ``split`` (``'val'``, or the held-out ``'test'``)."""
    root = root.rstrip('/') + '/'
    opts = [f'{d}.dataset.data_root={root}' for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    opts += [f'val_evaluator.ann_file={root}annotations/instances_val.json',
             f'test_dataloader.dataset.ann_file=annotations/instances_{split}.json',
             f'test_dataloader.dataset.data_prefix.img={split}/',
             f'test_evaluator.ann_file={root}annotations/instances_{split}.json']
    return opts


def schedule_options(iters: int) -> List[str]:
    """The demo schedule scaled to ``iters`` (warm-up kept, LR steps at 75 % and 90 %), no validation
    during or at the end of training (tools/test.py scores each split), one checkpoint at the end."""
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters + 1}', f'train_cfg.val_begin={iters + 1}',
            f'default_hooks.checkpoint.interval={iters}', f'param_scheduler.1.end={iters}',
            f'param_scheduler.1.milestones=[{int(iters * 0.75)},{int(iters * 0.9)}]']


def method_config(family: str, method: str, teacher_ckpt: Optional[str], path: str) -> str:
    """Write the config of one method (a demo config with its model replaced) and return its path."""
    from mmengine.config import Config
    from overhead import baseline_levels, fpn_losses
    f = FAMILY[family]
    if method == 'no_kd':
        cfg = Config.fromfile(osp.join(REPO, f['student']))
    else:
        cfg = Config.fromfile(osp.join(REPO, f['fcfd']))
        cfg.model.teacher_ckpt = teacher_ckpt
        neck = Config.fromfile(osp.join(REPO, f['student'])).model.neck
        t_channels = Config.fromfile(osp.join(REPO, f['teacher'])).model.neck.out_channels
        if method in ('fitnet', 'pkd', 'cwd'):
            levels = baseline_levels(method, family, neck)
            from fcfd_mm.utils import resolve_model_cfg  # MMRazor's own cfg_path needs 'package::path'
            cfg.model = dict(_scope_='mmrazor', type='FpnTeacherDistill',
                             architecture=resolve_model_cfg(cfg.model.architecture, 'architecture'),
                             teacher=resolve_model_cfg(cfg.model.teacher, 'teacher'), teacher_ckpt=teacher_ckpt,
                             distiller=fpn_losses(method, levels, neck.out_channels, t_channels))
            # the FCFD demo validates with FCFDValLoop (hybrid metrics), which needs an FCFDDistill
            cfg.val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')
        elif method in ('fcfd_stages', 'fcfd_stages_fpn'):
            # the stage switch with the head adapter's defaults (RetinaNet: anchors weighted by the
            # teacher's score, class-score weight 5, the student's own output as the s term, as at
            # the FPN); fcfd_stages_fpn adds the FPN switch with the demo config's settings
            neck_cfg = cfg.model.fcfd.get('neck', {}) if method == 'fcfd_stages_fpn' else None
            cfg.model.fcfd = dict(head=cfg.model.fcfd.head, neck=neck_cfg, stages=dict())
        elif method == 'fcfd_fpn_fast':  # the overhead controls timed by overhead.py
            from overhead import fcfd_settings
            student = Config.fromfile(osp.join(REPO, f['student'])).model
            fast = fcfd_settings(method, family, student)
            cfg.model.fcfd.head.update(fast['head'])
            cfg.model.fcfd.neck = dict(cfg.model.fcfd.get('neck', {}), **fast.get('neck', {}))
        elif method in ('fcfd_cwd', 'fcfd_scale_cwd'):  # "FCFD + X": MMRazor's CWD on the student's neck, beside FCFD
            if method == 'fcfd_scale_cwd':
                fcfd = cfg.model.fcfd.to_dict()
                fcfd.setdefault('neck', {})
                VARIANTS['fcfd_scale'][1](fcfd, {})
                cfg.model.fcfd = fcfd
            cfg.model.distiller = fpn_losses('cwd', baseline_levels('cwd', family, neck), neck.out_channels,
                                             t_channels)
        elif method in VARIANTS:
            fcfd = copy.deepcopy(cfg.model.fcfd.to_dict() if hasattr(cfg.model.fcfd, 'to_dict')
                                 else dict(cfg.model.fcfd))
            fcfd.setdefault('neck', {})
            VARIANTS[method][1](fcfd, default_output_losses(cfg.model))
            cfg.model.fcfd = fcfd
    cfg.dump(path)
    return path


def default_output_losses(model: dict) -> dict:
    """The head adapter's default output losses for an FCFDDistill model config (built on random
    weights: some adapters read them from the heads, e.g. GFL's number of bins)."""
    from mmdet.registry import MODELS as DET

    from fcfd_mm.adapters import build_head_adapter
    from fcfd_mm.utils import resolve_model_cfg
    student, teacher = (DET.build(resolve_model_cfg(model[role], role)) for role in ('architecture', 'teacher'))
    head = dict(model.get('fcfd', {}).get('head') or {})
    return build_head_adapter(student, teacher, head).default_output_losses()


def run(cmd: List[str], log: str, threads: int) -> None:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(log, 'w') as fh:
        res = subprocess.run(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, env=env)
    if res.returncode:
        raise RuntimeError(f'failed: {" ".join(cmd)} (see {log})')


def train_and_test(cfg: str, wd: str, iters: int, seed: int, data_root: str, extra: List[str], threads: int,
                   reuse: bool) -> Dict[str, float]:
    """Train ``cfg`` for ``iters`` with ``seed`` into ``wd`` (unless ``reuse`` finds it trained), then
    test it on the val and the held-out test split: ``{split: bbox mAP}``."""
    from fcfd_mm.utils.metrics import read_test_metric
    py, ckpt = sys.executable, osp.join(wd, f'iter_{iters}.pth')
    os.makedirs(osp.dirname(wd), exist_ok=True)
    if not (reuse and osp.isfile(ckpt)):
        run([py, 'tools/train.py', cfg, '--work-dir', wd, '--cfg-options', *data_options(data_root),
             *schedule_options(iters), *extra, f'randomness.seed={seed}'], wd + '_train.log', threads)
    scores = {}
    for split in SPLITS:
        metrics = osp.join(wd, f'test_{split}', 'test_metrics.json')
        if not (reuse and osp.isfile(metrics)):
            run([py, 'tools/test.py', cfg, ckpt, '--work-dir', osp.dirname(metrics), '--cfg-options',
                 *data_options(data_root, split), *extra], wd + f'_test_{split}.log', threads)
        value = read_test_metric(metrics, 'coco/bbox_mAP')  # detects nothing: no COCO keys, mAP 0
        if value is None:
            raise RuntimeError(f'{metrics} has no coco/bbox_mAP (see {wd}_test_{split}.log)')
        scores[split] = value
    return scores


def function_gap(family: str, method: str, cfg: str, wd: str, iters: int, teacher_ckpt: str, data_root: str,
                 probe_iters: int, threads: int, reuse: bool) -> Dict[str, float]:
    """The trained student's function gap on the val split (``tools/function_gap.py --probe-iters``):
    fresh bridges of the family's shipped FCFD setting are fitted alone for ``probe_iters``, then
    ``{'student', 'teacher', 'st', 'ts'}``: the student's and the teacher's bbox mAP and the hybrids'
    gaps (``st`` - teacher, ``ts`` - student)."""
    py, out = sys.executable, osp.join(wd, 'function_gap', 'function_gap.json')
    if not (reuse and osp.isfile(out)):
        student = osp.join(wd, f'iter_{iters}.pth')
        if method != 'no_kd':  # a distillation checkpoint: keep the student only
            run([py, 'tools/export_student.py', cfg, student, osp.join(wd, 'student.pth')], wd + '_export.log',
                threads)
            student = osp.join(wd, 'student.pth')
        run([py, 'tools/function_gap.py', osp.join(REPO, FAMILY[family]['fcfd']), '--student-ckpt', student,
             '--probe-iters', str(probe_iters), '--work-dir', osp.dirname(out), '--cfg-options',
             f'model.teacher_ckpt={teacher_ckpt}', *data_options(data_root)], wd + '_function_gap.log', threads)
    with open(out) as fh:
        table = json.load(fh)
    key = 'coco/bbox_mAP'
    return dict(student=table['metrics']['student'][key], teacher=table['metrics']['teacher'][key],
                **{h: table['gaps'][f'hybrid_{h}'][key] for h in ('st', 'ts') if f'hybrid_{h}' in table['gaps']})


def summary(values: List[float]) -> str:
    if not values:
        return ''
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f'{statistics.mean(values):.3f} +- {std:.3f} ({", ".join(f"{v:.3f}" for v in values)})'


def merge_results(path: str, header: dict, results: Dict[str, Dict[int, Dict[str, float]]],
                  gaps: Optional[Dict[str, Dict[int, Dict[str, float]]]] = None) -> dict:
    """The JSON of ``path`` with ``results`` ({method: {seed: {split: mAP}}}) and function ``gaps``
    ({method: {seed: {...}}}) merged in: a method's seeds run now replace its old ones; other methods
    are kept when the header (family, data, iterations, teacher) is the same, else the file starts
    afresh."""
    old = {}
    if osp.isfile(path):
        with open(path) as fh:
            old = json.load(fh)
        if any(old.get(k) != v for k, v in header.items() if k != 'cfg_options'):
            old = {}
    runs = old.get('runs', {})
    for method, per_seed in results.items():
        entry = runs.setdefault(method, {})
        entry.update({str(seed): scores for seed, scores in per_seed.items()})
    gap_runs = old.get('function_gap', {})
    for method, per_seed in (gaps or {}).items():
        gap_runs.setdefault(method, {}).update({str(seed): g for seed, g in per_seed.items()})
    out = dict(header, runs=runs)
    if gap_runs:
        out['function_gap'] = gap_runs
    for split, key in (('val', 'bbox_mAP'), ('test', 'bbox_mAP_heldout')):
        out[key] = {m: [runs[m][s][split] for s in sorted(runs[m], key=int)] for m in runs}
    out['seeds'] = {m: sorted(int(s) for s in runs[m]) for m in runs}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--family', nargs='+', choices=sorted(FAMILY), default=['retinanet'])
    p.add_argument('--iters', type=int, help="student iterations (the teacher trains twice as long); default: each "
                                               "family's instrument schedule (INSTRUMENT_ITERS); runs and results of "
                                               'another schedule go to <family>_i<iters>')
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--methods', nargs='+', choices=METHODS, default=['no_kd', 'pkd', 'cwd', 'fcfd_fpn'])
    p.add_argument('--teacher-ckpt', help='a trained teacher (one --family only); default: train one on the data')
    p.add_argument('--data-root', default=DATA_ROOT)
    p.add_argument('--data-size', type=int, nargs=3, default=DATA_SIZE, metavar=('TRAIN', 'VAL', 'TEST'),
                   help='images per split when the data is drawn (it is drawn when its root is missing)')
    p.add_argument('--jobs', type=int, default=1, help='runs at a time (threads per run: cores / jobs)')
    p.add_argument('--threads', type=int, help='threads per run (default: cores / jobs); compare runs made with the '
                                                'same number: seeded CPU training repeats exactly only for it')
    p.add_argument('--work-dir', default='work_dirs/efficacy')
    p.add_argument('--out', default='benchmarks/results',
                   help='where efficacy_<family>.json goes (the earlier demo measurements: results/demo_earlier/)')
    p.add_argument('--reuse', action='store_true', help='read finished runs (checkpoint, test metrics) instead '
                                                        'of training / testing them again')
    p.add_argument('--function-gap', type=int, default=0, metavar='N',
                   help="also the function gap of each method's student of the first seed: fresh bridges of the "
                        'shipped FCFD setting fitted alone for N iterations (tools/function_gap.py --probe-iters)')
    p.add_argument('--tag', default='', help='suffix of the run names and of the JSON file (for variants)')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='extra key=value overrides for every distillation method (not no_kd), e.g. '
                        'model.fcfd.head.anchor_weighting=None')
    a = p.parse_args(argv)
    if a.teacher_ckpt and len(a.family) > 1:
        p.error('--teacher-ckpt goes with a single --family')
    from fcfd_mm.datasets import generate_demo_coco
    data_root = osp.abspath(a.data_root)
    if not osp.isfile(osp.join(data_root, 'annotations', 'instances_test.json')):
        train, val, test = a.data_size
        generate_demo_coco(data_root, num_train=train, num_val=val, num_test=test)
    threads = a.threads or max(1, (os.cpu_count() or 1) // a.jobs)
    lock = threading.Lock()

    def iters_of(family: str) -> int:
        return a.iters or INSTRUMENT_ITERS[family]

    def work_of(family: str, run: str) -> str:
        """The directory of ``family``'s ``run`` (``'teacher'`` or a method) at the family's schedule."""
        owner = runs_family(family, run)
        return osp.join(osp.abspath(a.work_dir), schedule_name(owner, iters_of(family)))

    def run_stem(family: str, method: str) -> str:
        """``<work>/<method>[_<tag>]``: the path of a method's config (``+ '.py'``) and runs (``+ '_seed<s>'``)."""
        return osp.join(work_of(family, method), method + (f'_{a.tag}' if a.tag and method != 'no_kd' else ''))

    def teacher_of(family: str) -> tuple:
        if a.teacher_ckpt:
            if not osp.isfile(a.teacher_ckpt):
                sys.exit(f'--teacher-ckpt {a.teacher_ckpt!r} does not exist')
            return osp.abspath(a.teacher_ckpt), None
        wd = osp.join(work_of(family, 'teacher'), 'teacher')
        t_iters = 2 * iters_of(family)
        scores = train_and_test(osp.join(REPO, FAMILY[family]['teacher']), wd, t_iters, 0, data_root, [], threads,
                                reuse=True)
        return osp.join(wd, f'iter_{t_iters}.pth'), scores

    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        teachers = dict(zip(a.family, pool.map(teacher_of, a.family)))
        jobs = {}
        for family in a.family:
            for method in a.methods:
                stem = run_stem(family, method)
                os.makedirs(osp.dirname(stem), exist_ok=True)
                cfg = method_config(family, method, teachers[family][0], f'{stem}.py')
                extra = a.cfg_options if method != 'no_kd' else []
                for seed in a.seeds:
                    jobs[family, method, seed] = pool.submit(
                        train_and_test, cfg, f'{stem}_seed{seed}', iters_of(family), seed, data_root, extra, threads,
                        a.reuse)
        results: Dict[str, dict] = {}
        gap_jobs: Dict[tuple, object] = {}
        failed = []
        for (family, method, seed), job in jobs.items():
            try:
                scores = job.result()
            except RuntimeError as exc:
                failed.append(str(exc))
                continue
            with lock:
                results.setdefault(family, {}).setdefault(method, {})[seed] = scores
            print(f'{family:<10}{method:<14} seed {seed}: bbox mAP val {scores["val"]:.3f}  '
                  f'held-out {scores["test"]:.3f}', flush=True)
            if a.function_gap and seed == a.seeds[0]:
                stem = run_stem(family, method)
                gap_jobs[family, method, seed] = pool.submit(
                    function_gap, family, method, f'{stem}.py', f'{stem}_seed{seed}', iters_of(family),
                    teachers[family][0], data_root, a.function_gap, threads, a.reuse)
        gaps: Dict[str, dict] = {}
        for (family, method, seed), job in gap_jobs.items():
            try:
                gaps.setdefault(family, {}).setdefault(method, {})[seed] = job.result()
            except RuntimeError as exc:
                failed.append(str(exc))
    os.makedirs(a.out, exist_ok=True)
    for family, per_method in results.items():
        t_ckpt, t_scores = teachers[family]
        header = dict(family=family, iters=iters_of(family), data_root=osp.relpath(data_root, REPO),
                      teacher_ckpt=osp.relpath(t_ckpt, REPO), teacher_bbox_mAP=t_scores, threads=threads,
                      cfg_options=a.cfg_options)
        path = osp.join(a.out, f'efficacy_{schedule_name(family, iters_of(family))}{"_" + a.tag if a.tag else ""}.json')
        with open(path + '.lock', 'w') as lock_fh:  # other efficacy.py processes may merge into it too
            fcntl.flock(lock_fh, fcntl.LOCK_EX)
            merged = merge_results(path, header, per_method, gaps.get(family))
            with open(path + '.tmp', 'w') as fh:
                json.dump(merged, fh, indent=1)
            os.replace(path + '.tmp', path)
        print(f'\nEfficacy ({family}, {iters_of(family)} student iterations; COCO bbox mAP, mean +- std (seeds)); '
              f'teacher {t_scores}')
        for method in merged['runs']:
            print(f'  {method:<14} val {summary(merged["bbox_mAP"][method])}')
            print(f'  {"":<14} held-out {summary(merged["bbox_mAP_heldout"][method])}')
        for method, per_seed in merged.get('function_gap', {}).items():
            print(f'  function gap {method:<14} ' + '; '.join(f'seed {s}: ' + ', '.join(
                f'{k} {v:+.3f}' if k in ('st', 'ts') else f'{k} {v:.3f}' for k, v in g.items())
                for s, g in per_seed.items()))
    if failed:
        sys.exit('\n'.join(failed))


if __name__ == '__main__':
    main()
