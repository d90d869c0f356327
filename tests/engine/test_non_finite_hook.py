"""NonFiniteLossHook: a NaN/Inf loss term stops training, named, before it is checkpointed."""
import json
import math
import re
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub

from fcfd_mm.engine import NonFiniteLossError, NonFiniteLossHook
from tests.conftest import demo_data_options, run_tool


def _runner(name, values, last_ckpt=None, iteration=4):
    hub = MessageHub.get_instance(name)
    for key, value in values.items():
        hub.update_scalar(f'train/{key}', value)
    if last_ckpt:
        hub.update_info('last_ckpt', last_ckpt)
    return SimpleNamespace(message_hub=hub, iter=iteration)


def test_finite_losses_pass():
    values = {'loss': 2.0, 'student.loss_cls': 1.0, 'distill.loss_fcfd_app': 1.0}
    runner = _runner('nf_finite', values)
    NonFiniteLossHook().after_train_iter(runner, 0, outputs={k: torch.tensor(v) for k, v in values.items()})


@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_a_non_finite_distillation_term_is_named_with_the_iteration_and_last_checkpoint(bad):
    values = {'loss': bad, 'student.loss_cls': 1.0, 'distill.loss_fcfd_cls_st': bad, 'grad_norm': bad}
    runner = _runner(f'nf_{bad}', values, last_ckpt='/w/iter_4.pth')
    with pytest.raises(NonFiniteLossError) as exc:
        NonFiniteLossHook().after_train_iter(runner, 0, outputs={k: torch.tensor(v) for k, v in values.items()})
    msg = str(exc.value)
    assert 'iteration 5' in msg and 'distill.loss_fcfd_cls_st' in msg and "'loss'" not in msg
    assert 'student.loss_cls' not in msg and 'grad_norm' not in msg  # only the non-finite loss terms
    assert '/w/iter_4.pth' in msg and '--resume' in msg


def test_terms_not_in_the_message_hub_are_read_from_the_outputs():
    runner = _runner('nf_unlogged', {})
    with pytest.raises(NonFiniteLossError, match='No checkpoint had been written yet'):
        NonFiniteLossHook().after_train_iter(runner, 0, outputs={'student.loss_bbox': torch.tensor(float('nan'))})


def test_the_guard_runs_after_the_logging_hook_and_before_the_checkpoint_hook():
    from mmengine.hooks import CheckpointHook, RuntimeInfoHook
    from mmengine.runner.priority import get_priority
    order = [get_priority(h.priority) for h in (RuntimeInfoHook(), NonFiniteLossHook(), CheckpointHook())]
    assert order == sorted(order) and len(set(order)) == 3


@pytest.mark.slow
def test_a_diverging_fcfd_run_stops_at_the_first_nan_and_saves_no_nan_checkpoint(tiny_demo_data, tmp_path):
    res = run_tool(['python', 'tools/train.py', 'configs/demo/fcfd_frcnn_demo.py', '--work-dir', str(tmp_path),
                    '--no-teacher-check', '--cfg-options', 'model.teacher_ckpt=None',
                    'optim_wrapper.optimizer.lr=50', 'optim_wrapper.clip_grad=None', 'train_cfg.max_iters=40',
                    'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1',
                    'default_hooks.logger.interval=1',
                    'default_hooks.checkpoint.max_keep_ckpts=100', 'train_dataloader.batch_size=2',
                    *demo_data_options(tiny_demo_data)], check=False)
    log = res.stdout + res.stderr
    assert res.returncode != 0 and 'NonFiniteLossError: non-finite ' in log
    stopped = int(re.search(r'non-finite (?:loss at|weights after) iteration (\d+)', log).group(1))
    assert stopped < 40
    ckpts = sorted(tmp_path.glob('iter_*.pth'), key=lambda p: int(p.stem.split('_')[1]))
    assert [int(p.stem.split('_')[1]) for p in ckpts] == list(range(1, stopped))  # none at or after it
    if ckpts:
        assert f'The last checkpoint written before it is {ckpts[-1]}' in log
    for ckpt in ckpts:
        state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()), ckpt.name
    # every term logged before the stop was finite; the named term(s) are loss keys
    logs = [json.loads(line) for f in tmp_path.glob('*/vis_data/*.json') for line in f.read_text().splitlines()]
    assert logs and all(math.isfinite(v) for e in logs for k, v in e.items() if 'loss' in k)
    named = log.split('NonFiniteLossError: non-finite ')[1].split('. Training stopped')[0]
    assert ('loss' in named and ('=nan' in named or '=inf' in named)) or 'weights' in named


def test_a_checkpoint_with_non_finite_weights_is_not_written():
    hook = NonFiniteLossHook()
    runner = _runner('nf_ckpt', {}, last_ckpt='/w/iter_3.pth', iteration=2)
    hook.before_train(runner)
    ok = {'state_dict': {'a.weight': torch.ones(2), 'a.num_batches_tracked': torch.tensor(3)}}
    runner.message_hub.update_info('last_ckpt', '/w/iter_3.pth')
    hook.before_save_checkpoint(runner, ok)  # finite: passes, and becomes the last written one
    runner.message_hub.update_info('last_ckpt', '/w/iter_4.pth')  # CheckpointHook names the next file first
    bad = {'state_dict': {'a.weight': torch.ones(2), 'b.bias': torch.tensor([1.0, float('inf')])}}
    with pytest.raises(NonFiniteLossError) as exc:
        hook.before_save_checkpoint(runner, bad)
    msg = str(exc.value)
    assert 'b.bias' in msg and 'was not written' in msg and '/w/iter_3.pth' in msg and 'iter_4' not in msg
