"""Shared fixtures: tiny demo data, the repo root, a subprocess runner for the tools."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fcfd_mm  # noqa: F401  (compat layer first, as in every entry point)

REPO = Path(__file__).resolve().parents[1]


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
