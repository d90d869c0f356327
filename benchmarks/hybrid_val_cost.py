#!/usr/bin/env python
"""What the hybrid metrics of ``FCFDValLoop`` add to one validation, on a demo FCFD config.

    python benchmarks/hybrid_val_cost.py [--config configs/demo/fcfd_frcnn_demo.py] [--data-root DIR]
                                         [--teacher-ckpt CKPT] [--repeats 3]

The config's own ``Runner`` validates twice per setting (the first run is a warm-up): with
``val_cfg.hybrids=()`` (student + teacher, what ``SingleTeacherDistillValLoop`` does) and with
``hybrids='all'``; the median seconds of the timed runs and their ratio are printed. Without
``--teacher-ckpt`` student, teacher and bridges are randomly initialised (the same work per
image for Faster R-CNN, whose RPN keeps a fixed number of proposals; a random RetinaNet keeps few
boxes, so its NMS and COCO evaluation cost less than a trained one's).
"""
from __future__ import annotations

import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def validation_seconds(args, hybrids) -> tuple:
    from mmengine.config import Config
    from mmengine.runner import Runner

    import fcfd_mm  # noqa: F401
    cfg = Config.fromfile(args.config)
    cfg.model.teacher_ckpt = args.teacher_ckpt
    cfg.work_dir = tempfile.mkdtemp(prefix='hybrid_val_cost_')
    cfg.experiment_name = f'hybrid_val_cost_{"all" if hybrids else "none"}'
    cfg.val_cfg.hybrids = hybrids
    if args.data_root:
        root = args.data_root.rstrip('/') + '/'
        for loader in ('train_dataloader', 'val_dataloader'):
            cfg[loader].dataset.data_root = root
        if 'ann_file' in cfg.val_evaluator:
            cfg.val_evaluator.ann_file = root + 'annotations/instances_val.json'
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    runner.val()  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        runner.val()
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(runner.val_dataloader.dataset), runner.val_loop.hybrids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/demo/fcfd_frcnn_demo.py')
    parser.add_argument('--data-root', default=None, help='another copy of the demo dataset')
    parser.add_argument('--teacher-ckpt', default=None)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    base, n, _ = validation_seconds(args, ())
    full, _, hybrids = validation_seconds(args, 'all')
    print(f'{args.config}: {n} validation images; student + teacher {base:.2f} s, with {len(hybrids)} hybrids '
          f'({", ".join(hybrids)}) {full:.2f} s: +{full - base:.2f} s (x{full / base:.2f})')


if __name__ == '__main__':
    main()
