"""Up-front checks for the command-line tools: fail early with a message that names the fix."""
from __future__ import annotations

import os
from typing import Iterator, Tuple

from mmengine.config import Config, ConfigDict


class FCFDUserError(RuntimeError):
    """An input problem the user can fix; the message says how."""


def check_config_file(path: str) -> str:
    if not os.path.isfile(path):
        hint = ''
        if not path.endswith('.py'):
            hint = ' (configs are Python files ending in .py)'
        raise FCFDUserError(f'config file not found: {path!r}{hint}. Pass the path of a config, '
                            f'e.g. configs/demo/frcnn_r18_demo.py.')
    return path


def check_checkpoint_file(path: str, what: str = 'checkpoint') -> str:
    if path.startswith(('http://', 'https://', 's3://', 'torchvision://', 'open-mmlab://')):
        return path  # remote: mmengine's CheckpointLoader reports its own errors
    if not os.path.isfile(path):
        raise FCFDUserError(f'{what} file not found: {path!r}. Give the path of a .pth file saved by '
                            f'tools/train.py (e.g. work_dirs/<config>/iter_NNN.pth or epoch_N.pth).')
    return path


def _iter_datasets(cfg: ConfigDict, where: str) -> Iterator[Tuple[str, ConfigDict]]:
    if isinstance(cfg, (dict, ConfigDict)):
        if 'ann_file' in cfg or 'data_root' in cfg:
            yield where, cfg
        for key in ('dataset', 'datasets'):
            if key in cfg:
                sub = cfg[key]
                subs = sub if isinstance(sub, (list, tuple)) else [sub]
                for i, s in enumerate(subs):
                    yield from _iter_datasets(s, f'{where}.{key}' + (f'[{i}]' if len(subs) > 1 else ''))


def check_data_roots(cfg: Config, loaders: Tuple[str, ...] = ('train_dataloader', 'val_dataloader',
                                                               'test_dataloader')) -> None:
    """Raise :class:`FCFDUserError` if a dataloader's ``data_root`` or annotation file is missing."""
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not loader_cfg or 'dataset' not in loader_cfg:
            continue
        for where, ds in _iter_datasets(loader_cfg['dataset'], f'{loader}.dataset'):
            root = ds.get('data_root', '') or ''
            if root and not os.path.isdir(root):
                demo = 'fcfd_demo' in root
                fix = ('create it with `python tools/make_demo_data.py`' if demo else
                       f'point it at your data with `--cfg-options {where}.data_root=/path/to/coco/`')
                raise FCFDUserError(f'{where}.data_root {root!r} does not exist: {fix}.')
            ann = ds.get('ann_file', '')
            if ann:
                path = ann if os.path.isabs(ann) else os.path.join(root, ann)
                if not os.path.isfile(path):
                    raise FCFDUserError(f'{where}.ann_file {path!r} does not exist: check '
                                        f'{where}.data_root and {where}.ann_file.')
