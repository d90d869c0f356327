"""What tools/train.py and tools/test.py share: common arguments and loading the config."""
from __future__ import annotations

import argparse
import os
import os.path as osp

from .checks import check_config_file


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local_rank``, as in mmdet's tools."""
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value pairs, e.g. train_cfg.max_iters=10')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_common(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def end_distributed() -> None:
    """Destroy the default process group at the end of a distributed tools/ run. MMEngine leaves it
    to interpreter exit, where tearing down gloo's threads can abort a rank ("terminate called
    without an active exception"), and torchrun then reports a finished run as failed."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def load_tool_config(args: argparse.Namespace):
    """The config of ``args.config`` with ``--cfg-options``, ``--work-dir`` and the launcher applied;
    on a machine without CUDA a distributed launch uses gloo."""
    import torch
    from mmengine.config import Config
    cfg = Config.fromfile(check_config_file(args.config))
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.launcher != 'none' and not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    return cfg
