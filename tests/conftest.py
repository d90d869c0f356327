"""Shared fixtures: tiny demo data, the repo root, a subprocess runner for the tools."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fcfd_mm  # noqa: F401  (compat layer first, as in every entry point)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _restore_mmengine_globals():
    """A test that builds an mmengine ``Runner`` in-process leaves its ``DefaultScope`` (e.g.
    'mmdet') and ``MessageHub`` as the current instances, which would change how later tests'
    registries resolve names and what training progress they read; drop what a test added."""
    from mmengine.logging import MessageHub
    from mmengine.registry import DefaultScope
    before = {cls: list(cls._instance_dict) for cls in (DefaultScope, MessageHub)}
    yield
    for cls, names in before.items():
        for name in [n for n in cls._instance_dict if n not in names]:
            del cls._instance_dict[name]


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope='session')
def tiny_demo_data(tmp_path_factory) -> Path:
    """A 16-train / 8-val image demo dataset (the same generator as tools/make_demo_data.py)."""
    from fcfd_mm.datasets import generate_demo_coco
    root = tmp_path_factory.mktemp('demo_data')
    generate_demo_coco(str(root), num_train=16, num_val=8, size=96, seed=1)
    return root


def run_tool(args, cwd=REPO, timeout=900, env=None, check=True):
    """Run a command (list) with the test interpreter's environment; returns CompletedProcess."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    full_env.update(env or {})
    cmd = [sys.executable if a == 'python' else a for a in args]
    res = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f'{" ".join(map(str, cmd))} failed ({res.returncode}):\n'
                             f'--- stdout\n{res.stdout[-4000:]}\n--- stderr\n{res.stderr[-6000:]}')
    return res


def demo_data_options(root) -> list:
    """``--cfg-options`` that point the demo configs at another copy of the demo dataset."""
    root = str(root).rstrip('/') + '/'
    ann = root + 'annotations/instances_val.json'
    return [f'train_dataloader.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
            f'test_dataloader.dataset.data_root={root}', f'val_evaluator.ann_file={ann}',
            f'test_evaluator.ann_file={ann}']


@pytest.fixture(scope='session')
def trained_demo_student(tiny_demo_data, tmp_path_factory):
    """tools/train.py on the demo Faster R-CNN student for 4 iterations; returns (work_dir, ckpt)."""
    work = tmp_path_factory.mktemp('train_student')
    run_tool(['python', 'tools/train.py', 'configs/demo/faster-rcnn_demo_student.py', '--work-dir', str(work),
              '--cfg-options', 'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
              'default_hooks.checkpoint.interval=4', 'train_dataloader.batch_size=2',
              *demo_data_options(tiny_demo_data)])
    return work, work / 'iter_4.pth'
