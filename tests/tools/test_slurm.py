"""tools/slurm_train.sh and tools/slurm_test.sh build mmdet's srun command line: run with a stand-in
``srun`` on PATH that records its argv and environment, then check what it was given."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FAKE_SRUN = f"""#!{sys.executable}
import json, os, sys
with open(os.environ['FAKE_SRUN_RECORD'], 'w') as f:
    json.dump(dict(argv=sys.argv[1:], pythonpath=os.environ.get('PYTHONPATH', ''),
                   master_port=os.environ.get('MASTER_PORT')), f)
"""


@pytest.fixture
def slurm(tmp_path):
    """Run a slurm script with the stand-in srun; returns (recorded argv, recorded PYTHONPATH)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN)
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    record = tmp_path / 'srun.json'

    def call(script, args, **env):
        full_env = {k: v for k, v in os.environ.items() if k not in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK',
                                                                       'SRUN_ARGS', 'PYTHON')}
        full_env.update(env, PATH=f'{bin_dir}:{os.environ["PATH"]}', FAKE_SRUN_RECORD=str(record))
        res = subprocess.run(['bash', str(REPO / 'tools' / script), *args], cwd=tmp_path, env=full_env,
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        return json.loads(record.read_text())
    return call


def split_srun(argv):
    """(srun options, the command srun runs): the command starts at the interpreter."""
    i = argv.index('-u') - 1
    return argv[:i], argv[i:]


def test_slurm_train_builds_mmdets_srun_line(slurm):
    rec = slurm('slurm_train.sh', ['gpu', 'fcfd_r50', 'configs/fcfd_frcnn_r101_r50_coco.py', 'work_dirs/run1', '--amp',
                                   '--cfg-options', 'train_dataloader.batch_size=4', 'model.teacher_ckpt=a b.pth'],
                GPUS='16', GPUS_PER_NODE='8', CPUS_PER_TASK='6', SRUN_ARGS='--time=72:00:00 --qos=high',
                PYTHON='python3.11', MASTER_PORT='29611')
    opts, cmd = split_srun(rec['argv'])
    assert opts == ['-p', 'gpu', '--job-name=fcfd_r50', '--gres=gpu:8', '--ntasks=16', '--ntasks-per-node=8',
                    '--cpus-per-task=6', '--kill-on-bad-exit=1', '--time=72:00:00', '--qos=high']
    assert cmd == ['python3.11', '-u', str(REPO / 'tools' / 'train.py'), 'configs/fcfd_frcnn_r101_r50_coco.py',
                   '--work-dir=work_dirs/run1', '--launcher=slurm', '--amp', '--cfg-options',
                   'train_dataloader.batch_size=4', 'model.teacher_ckpt=a b.pth']  # one argument, space kept
    assert rec['pythonpath'].split(':')[0] == str(REPO / 'tools' / '..')  # this checkout's fcfd_mm first
    assert rec['master_port'] == '29611'  # srun hands the environment to the tasks


def test_slurm_test_builds_mmdets_srun_line_with_defaults(slurm):
    rec = slurm('slurm_test.sh', ['gpu', 'eval', 'configs/fcfd_frcnn_r101_r50_coco.py', 'ckpt.pth', '--out', 'r.pkl'])
    opts, cmd = split_srun(rec['argv'])
    assert opts == ['-p', 'gpu', '--job-name=eval', '--gres=gpu:8', '--ntasks=8', '--ntasks-per-node=8',
                    '--cpus-per-task=5', '--kill-on-bad-exit=1']  # mmdet's defaults, no SRUN_ARGS
    assert cmd == ['python', '-u', str(REPO / 'tools' / 'test.py'), 'configs/fcfd_frcnn_r101_r50_coco.py', 'ckpt.pth',
                   '--launcher=slurm', '--out', 'r.pkl']


def test_fewer_gpus_than_a_node_ask_for_only_those(slurm):
    rec = slurm('slurm_train.sh', ['p', 'j', 'c.py', 'wd'], GPUS='2')
    opts, _ = split_srun(rec['argv'])
    assert '--gres=gpu:2' in opts and '--ntasks=2' in opts and '--ntasks-per-node=2' in opts


@pytest.mark.parametrize('script', ['slurm_train.sh', 'slurm_test.sh'])
def test_missing_arguments_print_the_usage(script, tmp_path):
    res = subprocess.run(['bash', str(REPO / 'tools' / script), 'gpu', 'job'], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert res.returncode != 0 and f'usage: bash tools/{script} PARTITION JOB_NAME CONFIG' in res.stderr


def test_the_built_command_lines_parse_as_tools_options(slurm):
    """tools/train.py and tools/test.py accept what the scripts hand them, as a Slurm launch."""
    from tools import test as test_tool
    from tools import train as train_tool
    rec = slurm('slurm_train.sh', ['p', 'j', 'c.py', 'wd', '--resume', '--cfg-options', 'train_cfg.max_iters=8'])
    args = train_tool.parse_args(split_srun(rec['argv'])[1][3:])
    assert (args.config, args.work_dir, args.launcher, args.resume) == ('c.py', 'wd', 'slurm', 'auto')
    assert args.cfg_options == {'train_cfg.max_iters': 8}
    rec = slurm('slurm_test.sh', ['p', 'j', 'c.py', 'ckpt.pth', '--work-dir', 'out'])
    args = test_tool.parse_args(split_srun(rec['argv'])[1][3:])
    assert (args.config, args.checkpoint, args.launcher, args.work_dir) == ('c.py', 'ckpt.pth', 'slurm', 'out')
