"""The teacher check: before the first iteration, make sure the teacher is a trained teacher of
this dataset, not a random, untrained or other-dataset network that would waste a run.

Two checks, both before any training step (:class:`FCFDTeacherCheckHook`):

1. class names: the classes stored in the teacher checkpoint's ``meta`` (mmengine's
   ``meta.dataset_meta.classes``, or ``meta.CLASSES`` of older mmdet checkpoints) must equal the
   training dataset's, in the same order; a checkpoint without them is not checked;
2. quality: the teacher is evaluated with the configured validation evaluator (COCO mAP,
   top-1...) on the first ``num_samples`` validation samples (split over the DDP ranks, the
   metric gathered, so every rank takes the same decision); below ``min_value`` it stops.
"""
from __future__ import annotations

import copy
import math
import time
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import nn

from ..utils.checks import FCFDUserError

#: ``FCFDTeacherCheckHook`` defaults
TEACHER_CHECK_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    dict(num_samples=32, metric=None, min_value=None, check_classes=True))
#: metrics looked for, in order, when ``metric`` is None
KNOWN_METRICS = ('coco/bbox_mAP', 'pascal_voc/mAP', 'accuracy/top1')
#: an mAP (0-1, as mmdet reports it) below this is an untrained or wrong detector
MIN_MAP = 0.02

OFF_HINT = ('to switch the check off, remove FCFDTeacherCheckHook from custom_hooks (tools/train.py '
            '--no-teacher-check)')


class TeacherCheckError(FCFDUserError):
    """The teacher is not a trained teacher of this dataset; the message says what was measured."""


def resolve_teacher_check(cfg: Mapping) -> Dict[str, Any]:
    """The hook's settings merged with :data:`TEACHER_CHECK_DEFAULTS`, checked."""
    unknown = set(cfg) - set(TEACHER_CHECK_DEFAULTS)
    if unknown:
        raise ValueError(f'FCFDTeacherCheckHook has no setting(s) {sorted(unknown)}; it takes '
                         f'{list(TEACHER_CHECK_DEFAULTS)}.')
    settings = dict(TEACHER_CHECK_DEFAULTS, **cfg)
    if int(settings['num_samples']) < 1:
        raise ValueError(f'FCFDTeacherCheckHook.num_samples must be >= 1; {OFF_HINT}.')
    return settings


def checkpoint_classes(meta: Optional[Mapping]) -> Optional[Tuple[str, ...]]:
    """The class names a checkpoint's ``meta`` stores (mmengine or mmdet 2.x layout), or None."""
    if not meta:
        return None
    classes = (meta.get('dataset_meta') or {}).get('classes') or meta.get('CLASSES')
    return tuple(classes) if classes else None


def check_classes(teacher_classes: Optional[Sequence[str]], dataset_classes: Optional[Sequence[str]],
                  teacher_name: str) -> None:
    """Raise :class:`TeacherCheckError` when both are known and differ (names or order)."""
    if not teacher_classes or not dataset_classes:
        return
    t, d = tuple(teacher_classes), tuple(dataset_classes)
    if t == d:
        return
    if set(t) == set(d):
        first = next(i for i, (a, b) in enumerate(zip(t, d)) if a != b)
        what = (f'the same {len(t)} classes in another order (first difference at index {first}: teacher '
                f'{t[first]!r}, dataset {d[first]!r})')
    else:
        what = (f'{len(t)} teacher classes vs {len(d)} dataset classes; only in the teacher: '
                f'{sorted(set(t) - set(d))[:5]}, only in the dataset: {sorted(set(d) - set(t))[:5]}')
    raise TeacherCheckError(
        f'teacher check failed: {teacher_name} was trained on other classes than the training dataset: {what}. '
        f'Its class scores would be matched to the wrong classes. Use a teacher trained on this dataset (same '
        f'classes, same order), or set the dataset\'s metainfo.classes to the teacher\'s order; '
        f'to skip only this comparison set FCFDTeacherCheckHook.check_classes=False; {OFF_HINT}.')


def default_min_value(metric: str, num_classes: Optional[int]) -> float:
    """The default bar: mAP 0.02; top-1 (percent) 5x chance, at most 50 %."""
    if 'mAP' in metric:
        return MIN_MAP
    if metric.startswith('accuracy/top1') and num_classes:
        return min(50.0, 5 * 100.0 / num_classes)
    raise ValueError(f'teacher check: no default minimum for metric {metric!r}; set FCFDTeacherCheckHook.min_value.')


def pick_metric(metrics: Mapping[str, float], metric: Optional[str]) -> Tuple[str, float]:
    """``(name, value)`` of the metric to judge. A detector that detects nothing makes mmdet's
    COCO metric return no keys at all; that reads as 0."""
    if metric is None:
        metric = next((k for k in KNOWN_METRICS if k in metrics), None)
        if metric is None and metrics:
            raise ValueError(f'teacher check: none of {list(KNOWN_METRICS)} in the evaluator\'s metrics '
                             f'{sorted(metrics)}; set FCFDTeacherCheckHook.metric to one of them.')
        if metric is None:
            return 'mAP (nothing detected)', 0.0
    if metric not in metrics:
        if metrics:
            raise ValueError(f'FCFDTeacherCheckHook.metric {metric!r} is not among the evaluator\'s metrics '
                             f'{sorted(metrics)}.')
        return metric, 0.0
    return metric, float(metrics[metric])


@torch.no_grad()
def evaluate_teacher(algorithm: nn.Module, dataloader, evaluator, num_samples: int) -> Tuple[Dict[str, float], int]:
    """Evaluate ``algorithm.teacher`` on the first ``num_samples`` samples of ``dataloader``
    (``ceil(num_samples / world_size)`` per rank), in eval mode; every module's train/eval mode is
    restored afterwards, so no running statistic changes. Returns ``(metrics, samples seen)``; the
    metrics are the same on every rank (mmengine's evaluator gathers and broadcasts them)."""
    teacher = algorithm.teacher
    modes = [(m, m.training) for m in teacher.modules()]
    teacher.eval()
    per_rank = math.ceil(num_samples / get_world_size())
    seen, img_ids = 0, []
    try:
        for batch in dataloader:
            data = algorithm.data_preprocessor(batch, False)
            if hasattr(algorithm, 'teacher_inputs'):  # FCFDDistill: the teacher's own normalisation
                data['inputs'] = algorithm.teacher_inputs(data['inputs'], data['data_samples'])
            outputs = teacher(**data, mode='predict')
            evaluator.process(data_samples=outputs, data_batch=batch)
            img_ids += [s.metainfo.get('img_id') for s in outputs]
            seen += len(outputs)
            if seen >= per_rank:
                break
    finally:
        for m, mode in modes:
            m.training = mode
    total = sum(all_gather_object(seen))
    all_ids = [i for ids in all_gather_object(img_ids) for i in ids]
    if all_ids and all(i is not None for i in all_ids):
        # mmdet's CocoMetric scores every image of its annotation file unless img_ids is set; the
        # check saw only a few, so restrict it to those (this evaluator is the check's own copy).
        for metric in evaluator.metrics:
            if hasattr(metric, 'img_ids'):
                metric.img_ids = sorted(set(all_ids))
    return evaluator.evaluate(total), total


@HOOKS.register_module()
class FCFDTeacherCheckHook(Hook):
    """Run the teacher check (see the module docstring) before the first training iteration.

    Works for any distillation algorithm with a ``teacher`` (``FCFDDistill``, MMRazor's
    ``SingleTeacherDistill``...). Every FCFD config has it in ``custom_hooks``
    (``configs/_base_/fcfd_runtime.py``); removing it from ``custom_hooks`` (``tools/train.py
    --no-teacher-check``) switches the check off.

    Args:
        num_samples: validation samples the teacher is scored on (split over the DDP ranks).
        metric: the evaluator's metric to judge (``None``: the first of :data:`KNOWN_METRICS` found).
        min_value: the bar (``None``: mAP 0.02; top-1 5x chance, at most 50 %).
        check_classes: compare the class names stored in the teacher checkpoint with the dataset's.
    """

    priority = 'LOW'

    def __init__(self, num_samples: int = TEACHER_CHECK_DEFAULTS['num_samples'], metric: Optional[str] = None,
                 min_value: Optional[float] = None, check_classes: bool = True) -> None:
        self.settings = resolve_teacher_check(dict(num_samples=num_samples, metric=metric, min_value=min_value,
                                                   check_classes=check_classes))
        #: whether the teacher passed the check (set in ``before_train``)
        self.passed = False

    def before_train(self, runner) -> None:
        algorithm = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(algorithm, 'teacher'):
            print_log('FCFDTeacherCheckHook: the model has no teacher; nothing to check.', logger='current')
            return
        settings = self.settings
        start = time.perf_counter()
        ckpt = getattr(algorithm, 'teacher_ckpt_path', None)
        name = f'the teacher ({ckpt})' if ckpt else 'the teacher'
        classes = _dataset_classes(runner.train_dataloader.dataset)
        if settings['check_classes']:
            check_classes(checkpoint_classes(getattr(algorithm, 'teacher_ckpt_meta', None)), classes, name)
        val_loop = runner.val_loop
        if val_loop is None:
            print_log('teacher check: no validation loop (val_cfg), so the teacher\'s metric was not checked.',
                      logger='current', level=30)
        else:
            evaluator = runner.build_evaluator(copy.deepcopy(runner.cfg.val_evaluator))
            evaluator.dataset_meta = val_loop.dataloader.dataset.metainfo
            metrics, seen = evaluate_teacher(algorithm, val_loop.dataloader, evaluator, int(settings['num_samples']))
            key, value = pick_metric(metrics, settings['metric'])
            floor = settings['min_value']
            floor = default_min_value(key, len(classes) if classes else None) if floor is None else float(floor)
            if value < floor:
                raise TeacherCheckError(
                    f'teacher check failed: {name} scores {key}={value:.4f} on the first {seen} validation '
                    f'samples, below the minimum {floor:g}: it looks untrained, or trained on other data or '
                    f'classes. Check model.teacher_ckpt (a trained checkpoint of the teacher config); to change '
                    f'the bar set FCFDTeacherCheckHook.min_value in custom_hooks; {OFF_HINT}.')
            print_log(f'teacher check: {key}={value:.4f} on {seen} validation samples (minimum {floor:g}).',
                      logger='current')
        self.passed = True
        print_log(f'teacher check passed in {time.perf_counter() - start:.1f} s.', logger='current')


def _dataset_classes(dataset) -> Optional[Tuple[str, ...]]:
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    return tuple(classes) if classes else None
