"""Student-only export of a distillation checkpoint (what ``tools/export_student.py`` does)."""
from __future__ import annotations

import copy
import os
from typing import Optional, Tuple

from mmengine.config import Config

from .utils.checks import FCFDUserError, check_checkpoint_file
from .utils.model_cfg import resolve_model_cfg

STUDENT_PREFIX = 'architecture.'


def student_config(distill_cfg: Config) -> Config:
    """The distillation config with ``model`` replaced by the student, runnable by plain mmdet.

    Data, schedule, optimizer and evaluator settings are kept; the MMRazor distillation validation
    loop (MMRazor's ``SingleTeacherDistillValLoop`` or ``FCFDValLoop``) is replaced by mmengine's
    ``ValLoop``. FCFD's runtime hooks may stay: on a plain detector they find no teacher or bridges
    and do nothing.
    """
    model = distill_cfg.get('model', {})
    if 'architecture' not in model:
        raise FCFDUserError('the config has no model.architecture: it is not a distillation config. Export '
                            'only applies to MMRazor distillation configs (e.g. configs/demo/fcfd_frcnn_demo.py).')
    arch = resolve_model_cfg(copy.deepcopy(model['architecture']), 'model.architecture')
    if isinstance(arch, dict) and 'cfg_path' in arch:  # package path: mmdet::...
        from mmengine.hub import get_config
        arch = copy.deepcopy(get_config(arch['cfg_path']).model)
        arch.setdefault('_scope_', 'mmdet')
    cfg = copy.deepcopy(distill_cfg)
    cfg.model = arch
    cfg.pop('teacher_ckpt', None)
    for loop in ('val_cfg', 'test_cfg'):
        if any(name in str(cfg.get(loop, {}).get('type', '')) for name in ('SingleTeacherDistill', 'FCFDValLoop')):
            cfg[loop] = dict(type='ValLoop' if loop == 'val_cfg' else 'TestLoop')
    return cfg


def export_student(config: str, checkpoint: str, out: str, out_config: Optional[str] = None) -> Tuple[str, int]:
    """Write ``out`` = ``{'meta': ..., 'state_dict': student weights}``; returns (out, number of tensors).

    Raises :class:`FCFDUserError` when the checkpoint holds no ``architecture.*`` (student) keys.
    """
    import torch
    from mmengine.runner.checkpoint import CheckpointLoader
    check_checkpoint_file(checkpoint)
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    student = {k[len(STUDENT_PREFIX):]: v for k, v in state.items() if k.startswith(STUDENT_PREFIX)}
    if not student:
        raise FCFDUserError(f'{checkpoint!r} holds no student weights (no "{STUDENT_PREFIX}*" keys): it is not '
                            f'an MMRazor distillation checkpoint; a plain detector checkpoint needs no export.')
    meta = dict(ckpt.get('meta', {}) or {})
    keep = {k: meta[k] for k in ('dataset_meta', 'epoch', 'iter', 'seed', 'experiment_name') if k in meta}
    keep['fcfd_mm_export'] = dict(source_checkpoint=os.path.abspath(checkpoint), source_config=config)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    torch.save(dict(meta=keep, state_dict=student), out)
    if out_config:
        student_config(Config.fromfile(config)).dump(out_config)
    return out, len(student)
