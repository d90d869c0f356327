"""RNGStateHook: a run interrupted and resumed through tools/train.py logs the same losses as the
uninterrupted run (FCFD with the RoI draw on, and a plain mmdet student)."""
import json
import shutil

import pytest
import torch

from fcfd_mm.engine import RNGStateHook
from tests.conftest import demo_data_options, run_tool


def test_the_states_round_trip_through_a_checkpoint():
    hook, checkpoint = RNGStateHook(), {}
    torch.manual_seed(3)
    hook.before_save_checkpoint(None, checkpoint)
    expected = torch.rand(4)
    hook.after_load_checkpoint(type('R', (), {'rank': 0})(), checkpoint)
    torch.rand(10)  # the resumed process draws something else before its first iteration
    hook.before_train_iter(None, 0)
    assert torch.equal(torch.rand(4), expected)


def _losses(work):
    logs = [json.loads(line) for f in work.glob('*/vis_data/scalars.json') for line in f.read_text().splitlines()]
    return {e['iter']: e['loss'] for e in logs if 'loss' in e}


@pytest.mark.slow
@pytest.mark.parametrize('family', ['fcfd', 'plain_mmdet'])
def test_a_resumed_run_logs_the_losses_of_the_uninterrupted_run(family, tiny_demo_data, tmp_path, repo_root):
    if family == 'fcfd':  # FCFD with the RoI draw on: its generator is in the model's state_dict
        config = 'configs/demo/fcfd_frcnn_demo.py'
        flags, extra = ['--no-teacher-check'], ['model.teacher_ckpt=None', 'model.fcfd.head.consistency_rois=16']
    else:  # a plain mmdet config that only adds the hook
        config = str(tmp_path / 'student_with_rng_hook.py')
        (tmp_path / 'student_with_rng_hook.py').write_text(
            f"_base_ = '{repo_root / 'configs/demo/faster-rcnn_demo_student.py'}'\n"
            "custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)\n"
            "custom_hooks = [dict(type='RNGStateHook')]\n")
        flags, extra = [], []
    common = [*flags, '--cfg-options', 'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=3',
              'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',  # as in the demo
              'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2', *extra,
              *demo_data_options(tiny_demo_data)]
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    run_tool(['python', 'tools/train.py', config, '--work-dir', str(straight), *common, 'train_cfg.max_iters=6'])
    run_tool(['python', 'tools/train.py', config, '--work-dir', str(resumed), *common, 'train_cfg.max_iters=3'])
    shutil.rmtree(next(resumed.glob('2*')))  # keep only the checkpoint of the interrupted run
    run_tool(['python', 'tools/train.py', config, '--work-dir', str(resumed), '--resume', str(resumed / 'iter_3.pth'),
              *common, 'train_cfg.max_iters=6'])
    a, b = _losses(straight), _losses(resumed)
    assert sorted(b) == [4, 5, 6]
    assert [a[i] for i in (4, 5, 6)] == [b[i] for i in (4, 5, 6)]
