"""``FCFDValLoop``: validation of the student, the teacher and FCFD's hybrid networks."""
from __future__ import annotations

from typing import Dict, List, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import autocast
from mmrazor.engine.runner.distill_val_loop import SingleTeacherDistillValLoop
from mmrazor.registry import LOOPS
from torch.utils.data import DataLoader

from ..algorithms.hybrid import check_bn_statistics


@LOOPS.register_module()
class FCFDValLoop(SingleTeacherDistillValLoop):
    """MMRazor's distillation validation (the student's metrics, then the teacher's as
    ``teacher.<metric>``) plus the metrics of FCFD's hybrid networks as ``hybrid_<name>.<metric>``,
    e.g. ``hybrid_st.coco/bbox_mAP``, ``hybrid_ts@2.accuracy/top1``, with the same evaluator.

    A hybrid (:mod:`fcfd_mm.algorithms.hybrid`) is the full prediction of one network on the other's
    bridged features: ``st`` = student backbone + FPN -> student->teacher bridges -> the teacher's
    heads, ``ts`` the reverse; ``st@k`` / ``ts@k`` switch at backbone stage position ``k``. Every
    pass runs in eval mode under ``no_grad``: no BN running statistic changes.

    Args:
        runner, dataloader, evaluator, fp16: as in ``SingleTeacherDistillValLoop``.
        hybrids: the hybrids to evaluate: ``'all'`` (default: every hybrid the algorithm has bridges
            for, ``FCFDDistill.hybrid_names()``), or a list such as ``('st', 'ts@2')``; ``()`` turns
            the hybrid metrics off.
        hybrid_interval: evaluate the hybrids at every ``hybrid_interval``-th validation only (the
            ``n``-th, ``2n``-th, ...); the student and the teacher are evaluated every time. Each
            hybrid costs about one more pass over the validation set.
        hybrid_bn_statistics: BN running statistics of a stage hybrid's receiver: ``'ghost'``
            (default: the ghost statistics training tracked for that hybrid, where it did) or
            ``'main'`` (its own); see :mod:`fcfd_mm.algorithms.hybrid`.
    """

    def __init__(self, runner, dataloader: Union[DataLoader, Dict], evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False, hybrids: Union[str, Sequence[str]] = 'all', hybrid_interval: int = 1,
                 hybrid_bn_statistics: str = 'ghost') -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.algorithm = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(self.algorithm, 'hybrid_names'):
            raise TypeError(f'FCFDValLoop validates FCFDDistill models (hybrid networks); the model is '
                            f'{type(self.algorithm).__name__}. Use val_cfg=dict(type=\'mmrazor.'
                            f'SingleTeacherDistillValLoop\') for other distillers.')
        available = self.algorithm.hybrid_names()
        if isinstance(hybrids, str):
            if hybrids != 'all':
                raise ValueError(f"val_cfg.hybrids={hybrids!r}: give 'all', a list of hybrids from {available}, "
                                 f'or () for none.')
            hybrids = available
        unknown = [h for h in hybrids if h not in available]
        if unknown:
            raise ValueError(f'val_cfg.hybrids: {unknown} not available for this model; it has {available} '
                             f'(st / ts: fcfd.neck.paths; st@k / ts@k: the fcfd.stages path candidates).')
        if int(hybrid_interval) != hybrid_interval or hybrid_interval < 1:
            raise ValueError(f'val_cfg.hybrid_interval must be a positive integer, got {hybrid_interval!r}.')
        self.hybrid_bn_statistics = check_bn_statistics(hybrid_bn_statistics, 'val_cfg.hybrid_bn_statistics')
        self.hybrids = tuple(hybrids)
        self.hybrid_interval = int(hybrid_interval)
        self._num_runs = 0

    def run(self) -> Dict[str, float]:
        """Launch validation: student, teacher, then the hybrids (when due); returns the metrics."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        self._num_runs += 1
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        passes = [('teacher', self.run_iter_teacher)]
        if self._num_runs % self.hybrid_interval == 0:
            passes += [(f'hybrid_{name}', self._hybrid_iter(name)) for name in self.hybrids]
        for prefix, run_iter in passes:
            self.runner.call_hook('before_val_epoch')
            for idx, data_batch in enumerate(self.dataloader):
                run_iter(idx, data_batch)
            found = self.evaluator.evaluate(len(self.dataloader.dataset))
            metrics.update({f'{prefix}.{k}': v for k, v in found.items()})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    def _hybrid_iter(self, name: str):
        @torch.no_grad()
        def run_iter(idx: int, data_batch: Sequence[dict]) -> None:
            self.runner.call_hook('before_val_iter', batch_idx=idx, data_batch=data_batch)
            with autocast(enabled=self.fp16):
                data = self.algorithm.data_preprocessor(data_batch, False)
                outputs = self.algorithm.predict_hybrid(name, data['inputs'], data['data_samples'],
                                                        self.hybrid_bn_statistics)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
            self.runner.call_hook('after_val_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)
        return run_iter
