#!/usr/bin/env python
"""Evaluate a checkpoint on a config's test set (COCO mAP through pycocotools for detectors).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl] [--cfg-options ...]
    bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [same options]

For a distillation config the student is evaluated (MMRazor algorithms predict with the
student). The metrics are printed at the end and written to ``WORK_DIR/test_metrics.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import fcfd_mm  # noqa: E402,F401
from fcfd_mm.utils import FCFDUserError, check_checkpoint_file, check_data_roots  # noqa: E402
from fcfd_mm.utils.tool_cfg import add_common_args, end_distributed, load_tool_config, parse_common  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a model (fcfd-mm)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the file containing evaluation metrics')
    parser.add_argument('--out', type=str, help='dump predictions to a pickle file (offline evaluation)')
    add_common_args(parser)
    return parse_common(parser, argv)


def build_cfg(args):
    cfg = load_tool_config(args)
    cfg.load_from = check_checkpoint_file(args.checkpoint)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise FCFDUserError(f'--out must end with .pkl or .pickle, got {args.out!r}.')
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(cfg.test_evaluator, dict) else list(cfg.test_evaluator)
        cfg.test_evaluator.append(dict(type='mmdet.DumpDetResults', out_file_path=args.out))
    check_data_roots(cfg, loaders=('test_dataloader',))
    return cfg


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = build_cfg(args)
    except FCFDUserError as exc:
        sys.exit(f'error: {exc}')
    from mmengine.dist import is_main_process
    if args.launcher != 'none':  # mmengine's distributed start assumes CUDA: gloo on a CPU-only machine
        fcfd_mm.compat.enable_cpu_distributed()
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    metrics = runner.test()
    if is_main_process():
        metrics = {k: float(v) if hasattr(v, '__float__') else v for k, v in (metrics or {}).items()}
        os.makedirs(cfg.work_dir, exist_ok=True)
        with open(osp.join(cfg.work_dir, 'test_metrics.json'), 'w') as f:
            json.dump(metrics, f, indent=1)
        if not metrics:
            print('warning: the evaluator returned no metrics (for CocoMetric: the model detected nothing '
                  'above the score threshold, i.e. mAP 0)')
        print('test metrics: ' + json.dumps(metrics))
    end_distributed()


if __name__ == '__main__':
    main()
