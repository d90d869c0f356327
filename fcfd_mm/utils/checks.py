"""Up-front checks for the command-line tools: fail early with a message that names the fix."""
from __future__ import annotations

import difflib
import os
import re
from typing import Iterator, List, Optional, Tuple

from mmengine.config import Config, ConfigDict


class FCFDUserError(RuntimeError):
    """An input problem the user can fix; the message says how."""


class CheckpointNotFoundError(FCFDUserError, FileNotFoundError):
    """A local checkpoint file that does not exist (also a ``FileNotFoundError``)."""


#: the repository's config folder (present in a checkout / editable install)
CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'configs')


def _shown(path: str) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith('..') else rel


def shipped_configs(config_dir: str = CONFIG_DIR) -> List[str]:
    """Paths of the runnable configs under ``config_dir`` (those outside ``_base_`` folders), sorted,
    relative to the working directory when below it; empty when the folder is absent."""
    found = []
    for root, dirs, files in os.walk(config_dir):
        dirs[:] = sorted(d for d in dirs if d != '_base_')
        found += [_shown(os.path.join(root, f)) for f in sorted(files) if f.endswith('.py')]
    return found


def config_suggestions(path: str, config_dir: str = CONFIG_DIR, n: int = 3) -> List[str]:
    """Shipped configs whose paths are closest to ``path`` (at least one: the first FCFD demo
    config when nothing is close), all existing files; empty when no config folder is found."""
    configs = shipped_configs(config_dir)
    close = difflib.get_close_matches(_shown(path) if path else path, configs, n=n, cutoff=0.6)
    if not close:
        names = difflib.get_close_matches(os.path.basename(path), [os.path.basename(c) for c in configs], n=n,
                                          cutoff=0.6)
        close = [c for c in configs if os.path.basename(c) in names][:n]
    if not close:
        demos = [c for c in configs if 'demo' in c and os.path.basename(c).startswith('fcfd_')]
        close = (demos or configs)[:1]
    return close


def check_config_file(path: str) -> str:
    if not os.path.isfile(path):
        hint = ''
        if not path.endswith('.py'):
            hint = ' (configs are Python files ending in .py)'
        suggestions = config_suggestions(path)
        names = f', e.g. {" or ".join(suggestions)}' if suggestions else ''
        raise FCFDUserError(f'config file not found: {path!r}{hint}. Pass the path of a config{names}.')
    return path


def is_remote_checkpoint(path: str) -> bool:
    """Whether MMEngine's ``CheckpointLoader`` reads ``path`` through a registered scheme rather than
    from a local file: ``http(s)://``, ``torchvision://`` / ``modelzoo://``, ``open-mmlab://`` /
    ``openmmlab://``, ``mmcls://``, ``pavi://``, ``s3://`` / ``petrel://`` (with a backend prefix),
    and any a library registers later."""
    from mmengine.runner.checkpoint import CheckpointLoader
    # The loader keeps its schemes (regular expressions; the empty one is the local-file loader) in
    # ``_schemes`` and exposes no public list: reading it keeps this check in step with the loader.
    return any(scheme and re.match(scheme, path) for scheme in CheckpointLoader._schemes)


def check_checkpoint_file(path: str, what: str = 'checkpoint', fix: Optional[str] = None) -> str:
    """``path`` if MMEngine's ``CheckpointLoader`` can try it: a remote scheme
    (:func:`is_remote_checkpoint`, whose loader reports its own errors) or an existing local file;
    else :class:`CheckpointNotFoundError` naming ``what`` and ``fix``."""
    if is_remote_checkpoint(path):
        return path
    if not os.path.isfile(path):
        fix = fix or ('Give the path of a .pth file saved by tools/train.py (e.g. work_dirs/<config>/iter_NNN.pth or '
                      'epoch_N.pth).')
        raise CheckpointNotFoundError(f'{what} file not found: {path!r} does not exist. {fix}')
    return path


#: the runtime hooks FCFD's training relies on (``configs/_base_/fcfd_runtime.py`` has them): the
#: teacher check, the training progress for the stage switch points, the unused bridges' skip
FCFD_RUNTIME_HOOKS = ('FCFDTeacherCheckHook', 'FCFDProgressHook', 'FCFDUnusedBridgesHook')


def missing_fcfd_hooks(cfg: Config, switched_off: Tuple[str, ...] = ()) -> List[str]:
    """The :data:`FCFD_RUNTIME_HOOKS` an ``FCFDDistill`` config lacks in ``custom_hooks`` (those in
    ``switched_off`` aside); empty for other models."""
    if str(cfg.get('model', {}).get('type', '')).rsplit('.', 1)[-1] != 'FCFDDistill':
        return []
    present = {str(h.get('type', '')).rsplit('.', 1)[-1] for h in cfg.get('custom_hooks', None) or []}
    return [h for h in FCFD_RUNTIME_HOOKS if h not in present and h not in switched_off]


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
