"""Let ``architecture`` / ``teacher`` name a local config file, not only ``package::path``."""
from __future__ import annotations

import copy
import os
from typing import Any


def resolve_model_cfg(cfg: Any, role: str) -> Any:
    """``dict(cfg_path='path/to/config.py')`` -> that config's ``model`` dict (scoped).

    MMRazor builds ``cfg_path`` models through ``mmengine.hub.get_model``, which only accepts
    ``package::relative/path.py`` (e.g. ``mmdet::faster_rcnn/...``); those are passed through
    unchanged. A path without ``::`` is read with ``Config.fromfile`` here, so a user's own teacher
    or student config file can be used directly. ``pretrained`` is ignored for local files (load
    weights with ``teacher_ckpt`` / ``init_cfg``).
    """
    if not isinstance(cfg, dict) or 'cfg_path' not in cfg or 'type' in cfg:
        return cfg
    path = cfg['cfg_path']
    if '::' in path:
        return cfg
    from mmengine.config import Config
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{role}.cfg_path {path!r} does not exist. Give a config file path (relative to '
                                f'the working directory, or use {{{{fileDirname}}}}/... in the config) or a '
                                f'package path such as mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py.')
    loaded = Config.fromfile(path)
    if 'model' not in loaded:
        raise KeyError(f'{role}.cfg_path {path!r} defines no `model`.')
    model = copy.deepcopy(loaded.model)  # a ConfigDict: mmdet reads train_cfg.rpn as attributes
    model.setdefault('_scope_', loaded.get('default_scope', 'mmdet'))
    return model
