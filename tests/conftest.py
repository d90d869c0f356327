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


@pytest.fixture
def broken_demo_data(tiny_demo_data, tmp_path):
    """A copy of ``tiny_demo_data`` with the faults CheckedCocoDataset and tools/check_data.py name, in
    its train split: image 000003.png empty, 000004.png cut in half; three malformed annotations added
    to image 000006.png (outside the image, negative size, unknown category) and one zero-width box
    (degenerate); images 000000.png and 000001.png without boxes. Returns a namespace: ``root``, the
    train annotation file ``ann``, ``unreadable`` {file name: words of its problem}, ``malformed``
    {annotation id: kind}, ``degenerate`` [annotation id], ``empty`` [file names]."""
    import json
    import shutil
    from types import SimpleNamespace
    root = tmp_path / 'broken'
    shutil.copytree(tiny_demo_data, root)
    ann = root / 'annotations' / 'instances_train.json'
    coco = json.loads(ann.read_text())
    files = {img['id']: img['file_name'] for img in coco['images']}
    ids = {name: i for i, name in files.items()}
    coco['annotations'] = [a for a in coco['annotations'] if files[a['image_id']] not in ('000000.png', '000001.png')]
    size, next_id = coco['images'][0]['width'], max(a['id'] for a in coco['annotations']) + 1
    added = [([size + 10, 5, 10, 10], 1, 'outside the image'), ([5, 5, -4, 10], 1, 'negative size'),
             ([5, 5, 10, 10], 99, 'unknown category'), ([5, 5, 0, 10], 1, 'degenerate')]
    for k, (box, cat, _) in enumerate(added):
        coco['annotations'].append(dict(id=next_id + k, image_id=ids['000006.png'], bbox=box, category_id=cat,
                                        area=box[2] * box[3], iscrowd=0))
    ann.write_text(json.dumps(coco))
    (root / 'train' / '000003.png').write_bytes(b'')
    cut = root / 'train' / '000004.png'
    cut.write_bytes(cut.read_bytes()[:cut.stat().st_size // 2])
    return SimpleNamespace(root=root, ann=ann, unreadable={'000003.png': 'empty', '000004.png': 'a PNG cut short'},
                           malformed={next_id + k: kind for k, (_, _, kind) in enumerate(added[:3])},
                           degenerate=[next_id + 3], empty=['000000.png', '000001.png'])


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
