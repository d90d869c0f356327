"""tools/train.py, tools/test.py, tools/dist_train.sh and mmdet's own train.py, end to end."""
import json

import pytest

from tests.conftest import REPO, demo_data_options, run_tool

pytestmark = pytest.mark.slow


def test_train_saves_a_checkpoint_and_test_reports_coco_map(trained_demo_student, tiny_demo_data, tmp_path):
    work, ckpt = trained_demo_student
    assert ckpt.is_file()
    res = run_tool(['python', 'tools/test.py', 'configs/demo/faster-rcnn_demo_student.py', str(ckpt),
                    '--work-dir', str(tmp_path), '--cfg-options', *demo_data_options(tiny_demo_data)])
    metrics = json.loads((tmp_path / 'test_metrics.json').read_text())
    assert {'coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75'} <= set(metrics)
    assert 'test metrics:' in res.stdout


def test_resume_continues_from_the_saved_iteration(trained_demo_student, tiny_demo_data, tmp_path):
    import shutil
    work, ckpt = trained_demo_student
    shutil.copy(ckpt, tmp_path / 'iter_4.pth')
    res = run_tool(['python', 'tools/train.py', 'configs/demo/faster-rcnn_demo_student.py', '--work-dir',
                    str(tmp_path), '--resume', str(tmp_path / 'iter_4.pth'), '--cfg-options',
                    'train_cfg.max_iters=6', 'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=6',
                    'train_dataloader.batch_size=2', *demo_data_options(tiny_demo_data)])
    assert 'resumed epoch: 0, iter: 4' in (res.stdout + res.stderr)
    assert (tmp_path / 'iter_6.pth').is_file()


def test_dist_train_runs_two_cpu_processes_of_the_fcfd_demo(tiny_demo_data, tmp_path):
    """Two gloo ranks, FCFD distillation: both finish, DDP finds no unused parameter."""
    res = run_tool(['bash', 'tools/dist_train.sh', 'configs/demo/fcfd_frcnn_demo.py', '2', '--work-dir', str(tmp_path),
                    '--no-teacher-check', '--cfg-options', 'model.teacher_ckpt=None', 'train_cfg.max_iters=3',
                    'train_cfg.val_interval=100',
                    'default_hooks.checkpoint.interval=3', 'train_dataloader.batch_size=2',
                    'default_hooks.logger.interval=1', *demo_data_options(tiny_demo_data)],
                   env={'PORT': '29517', 'PYTHON': __import__('sys').executable})
    log = res.stdout + res.stderr  # torchrun exits 0 only if every rank did
    assert 'Distributed training: True' in log and 'GPU number: 2' in log  # mmengine's words for 2 ranks
    assert (tmp_path / 'iter_3.pth').is_file()
    assert 'distill.loss_fcfd_cls_st' in log and 'Expected to have finished reduction' not in log


def test_train_amp_runs_the_fcfd_demo_with_finite_losses(tiny_demo_data, tmp_path):
    """`--amp` end to end: bf16 autocast on a CPU-only machine (fp16 AmpOptimWrapper with a GPU)."""
    import sys

    import torch
    sys.path.insert(0, str(REPO / 'benchmarks'))
    import train_log
    res = run_tool(['python', 'tools/train.py', 'configs/demo/fcfd_frcnn_demo.py', '--amp', '--work-dir', str(tmp_path),
                    '--no-teacher-check', '--cfg-options', 'model.teacher_ckpt=None', 'train_cfg.max_iters=4',
                    'train_cfg.val_interval=100',
                    'default_hooks.checkpoint.interval=4', 'train_dataloader.batch_size=2',
                    'default_hooks.logger.interval=1', *demo_data_options(tiny_demo_data)])
    log = res.stdout + res.stderr
    wrapper = "type='AmpOptimWrapper'" if torch.cuda.is_available() else "type='CPUAmpOptimWrapper'"
    assert wrapper in log  # the config dump
    summary = train_log.summarize(str(tmp_path), skip=0)
    assert summary['iters_logged'] == 4 and summary['all_finite'], summary
    assert {'distill.loss_fcfd_app', 'distill.loss_fcfd_cls_st', 'distill.loss_fcfd_reg_ts'} <= set(summary['losses'])
    assert (tmp_path / 'iter_4.pth').is_file()


def test_mmdet_packaged_train_builds_a_custom_imports_config(tiny_demo_data, tmp_path):
    """Users of mmdet's own tools/train.py: `custom_imports=['fcfd_mm']` brings the compat layer."""
    import os

    import mmdet
    script = os.path.join(os.path.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')
    # mmdet's tool has no --no-teacher-check: the random teacher passes the check at a bar of 0
    res = run_tool(['python', script, 'configs/demo/fcfd_frcnn_demo.py', '--work-dir', str(tmp_path),
                    '--cfg-options', 'model.teacher_ckpt=None', 'custom_hooks.0.min_value=0', 'train_cfg.max_iters=2',
                    'train_cfg.val_interval=100',
                    'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
                    'default_hooks.logger.interval=1', *demo_data_options(tiny_demo_data)])
    assert 'distill.loss_fcfd_app' in res.stdout + res.stderr and 'teacher check passed' in res.stdout + res.stderr
    assert (tmp_path / 'iter_2.pth').is_file()


# ------------------------------------------------------------------ bad input, in-process
def _main_error(main, argv, capsys=None):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return str(exc.value.code)


def test_train_names_a_missing_config():
    from tools.train import main
    msg = _main_error(main, ['configs/demo/no_such_config.py'])
    assert 'config file not found' in msg and 'no_such_config.py' in msg


def test_train_names_a_missing_data_root(tmp_path):
    from tools.train import main
    msg = _main_error(main, ['configs/demo/faster-rcnn_demo_student.py', '--work-dir', str(tmp_path),
                             '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}/nowhere/'])
    assert 'train_dataloader.dataset.data_root' in msg and 'does not exist' in msg and '--cfg-options' in msg


def test_train_points_demo_users_to_the_data_generator(tmp_path, monkeypatch):
    from tools.train import main
    monkeypatch.chdir(tmp_path)  # no data/fcfd_demo here
    import shutil
    from pathlib import Path
    shutil.copytree(Path(__file__).resolve().parents[2] / 'configs', tmp_path / 'configs')
    msg = _main_error(main, ['configs/demo/faster-rcnn_demo_student.py'])
    assert 'tools/make_demo_data.py' in msg


def test_test_names_a_missing_checkpoint(tiny_demo_data, tmp_path):
    from tools.test import main
    msg = _main_error(main, ['configs/demo/faster-rcnn_demo_student.py', str(tmp_path / 'missing.pth'),
                             '--cfg-options', *demo_data_options(tiny_demo_data)])
    assert 'checkpoint file not found' in msg and 'missing.pth' in msg


def test_resume_names_a_missing_checkpoint(tmp_path):
    from tools.train import main
    msg = _main_error(main, ['configs/demo/faster-rcnn_demo_student.py', '--work-dir', str(tmp_path),
                             '--resume', str(tmp_path / 'x.pth')])
    assert f"cannot resume from '{tmp_path / 'x.pth'}': the file does not exist" in msg
    assert f'No complete checkpoint is in {tmp_path}' in msg


def test_classification_demo_fcfd_trains_and_tests(tmp_path):
    """The classification demo's FCFD config through tools/train.py and tools/test.py (tiny data)."""
    from fcfd_mm.datasets import generate_demo_classification
    root = tmp_path / 'cls_data'
    generate_demo_classification(str(root), per_class_train=6, per_class_val=3, size=32, seed=2)
    data = [f'train_dataloader.dataset.data_root={root}/', f'val_dataloader.dataset.data_root={root}/',
            f'test_dataloader.dataset.data_root={root}/', 'train_dataloader.batch_size=12']
    work = tmp_path / 'work'
    res = run_tool(['python', 'tools/train.py', 'configs/classification/demo/fcfd_resnet20_resnet8_demo.py',
                    '--work-dir', str(work), '--no-teacher-check', '--cfg-options', 'model.teacher_ckpt=None',
                    'train_cfg.max_epochs=1',
                    'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
                    'default_hooks.logger.interval=1', *data])
    log = res.stdout + res.stderr
    assert 'distill.loss_fcfd_stage_cls_s' in log and 'teacher.accuracy/top1' in log
    run_tool(['python', 'tools/test.py', 'configs/classification/demo/fcfd_resnet20_resnet8_demo.py',
              str(work / 'epoch_1.pth'), '--work-dir', str(tmp_path / 'test'), '--cfg-options',
              'model.teacher_ckpt=None', *data])
    metrics = json.loads((tmp_path / 'test' / 'test_metrics.json').read_text())
    assert 0 <= metrics['accuracy/top1'] <= 100
