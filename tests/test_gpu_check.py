"""benchmarks/gpu_check.sh: the script parses, and every python command it runs in GPU mode takes
its flags (recorded by tests/argv_check.py standing in for python, then parsed by each tool's own
argparse)."""
import json
import os
import stat
import subprocess
import sys

from tests.argv_check import check
from tests.conftest import REPO

STEPS = ['install', 'cuda_ops', 'tests', 'demo_data', 'train_fp32', 'train_amp', 'dist_train', 'overhead']


def test_gpu_check_parses_and_passes_accepted_flags_to_every_python_tool(tmp_path):
    assert subprocess.run(['bash', '-n', 'benchmarks/gpu_check.sh'], cwd=REPO).returncode == 0
    shim = tmp_path / 'python'
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "tests" / "argv_check.py"}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / 'calls.jsonl'
    env = {k: v for k, v in os.environ.items() if not k.startswith(('GPU_CHECK_', 'FCFD_WHEELHOUSE', 'OUT'))}
    env.update(PYTHON=str(shim), OUT=str(tmp_path / 'out'), GPU_CHECK_WORK=str(tmp_path / 'work'),
               ARGV_CHECK_LOG=str(log), OMP_NUM_THREADS='1')
    res = subprocess.run(['bash', 'benchmarks/gpu_check.sh'], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]

    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert sum(check(c, str(REPO)) for c in calls) == 9  # build_mmcv, demo data, 2 x train, 3 x log, torchrun, overhead
    scripts = [os.path.relpath(c[0], REPO) if os.path.isabs(c[0]) else c[0] for c in calls if c[0] not in '-m-c']
    assert scripts.count('tools/train.py') == 2 and scripts.count('benchmarks/train_log.py') == 3
    assert {'tools/build_mmcv.py', 'tools/make_demo_data.py', 'benchmarks/overhead.py'} <= set(scripts)
    train = [c for c in calls if c[0] == 'tools/train.py']
    assert ['--amp' in c for c in train] == [False, True] and all('train_cfg.max_iters=100' in c for c in train)
    overhead = next(c for c in calls if c[0] == 'benchmarks/overhead.py')
    assert ' '.join(overhead).count('--device cuda') == 1 and '--size 800 1333' in ' '.join(overhead)
    assert {'pkd', 'fcfd_fpn'} <= set(overhead)
    torchrun = next(c for c in calls if c[:2] == ['-m', 'torch.distributed.run'])
    assert '--nproc_per_node=1' in torchrun
    assert ['-m', 'pytest', '-m', 'not slow', '-x', '-q'] in calls

    summary = json.loads((tmp_path / 'out' / 'gpu_check_summary.json').read_text())
    assert summary['ok'] and [s['step'] for s in summary['steps']] == STEPS
