"""ResumeCheckHook: --resume (auto or with a path) from a cut, damaged, weights-only or foreign
checkpoint stops before training, naming the file, what is wrong and the --resume of the newest
complete checkpoint; with nothing to resume, auto-resume says it starts from iteration 0."""
import os

import pytest
import torch

from fcfd_mm.engine import ResumeCheckError
from fcfd_mm.engine.resume_check import state_problem
from tests.tiny_models import toy_runner

CKPT = dict(type='AtomicCheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=3)


def _run(work_dir, max_iters, **kw):
    runner = toy_runner(work_dir, max_iters=max_iters, checkpoint=CKPT, custom_hooks=[dict(type='ResumeCheckHook')],
                        **kw)
    runner.train()
    return runner


@pytest.fixture
def work_dir(tmp_path):
    """A work dir with iter_2.pth, iter_4.pth (complete) and iter_6.pth cut to 60 % (last_checkpoint names it)."""
    _run(tmp_path, 6)
    cut = tmp_path / 'iter_6.pth'
    cut.write_bytes(cut.read_bytes()[:int(cut.stat().st_size * 0.6)])
    return tmp_path


@pytest.mark.parametrize('auto', [True, False], ids=['auto', 'with-a-path'])
def test_a_cut_checkpoint_stops_before_training_with_the_resume_to_use(work_dir, auto):
    kw = dict(resume=True) if auto else dict(resume=True, load_from=str(work_dir / 'iter_6.pth'))
    with pytest.raises(ResumeCheckError) as exc:
        _run(work_dir, 8, **kw)
    msg = str(exc.value)
    assert f"cannot resume from '{work_dir / 'iter_6.pth'}'" in msg and 'cut short' in msg
    assert ('named by' in msg) == auto  # auto: says that last_checkpoint named it
    assert msg.endswith(f'--resume {work_dir / "iter_4.pth"}') and '(iteration 4)' in msg
    assert not (work_dir / 'iter_8.pth').exists()  # nothing trained


def test_a_damaged_byte_is_found_by_its_crc(work_dir):
    path = work_dir / 'iter_4.pth'
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ResumeCheckError, match=r'(?s)iter_4\.pth.*CRC-32.*--resume .*iter_2\.pth'):
        _run(work_dir, 8, resume=True, load_from=str(path))


def test_auto_resume_without_last_checkpoint_names_the_checkpoints_that_are_there(work_dir):
    os.remove(work_dir / 'last_checkpoint')
    with pytest.raises(ResumeCheckError, match=r'(?s)has checkpoints but no last_checkpoint.*--resume .*iter_4\.pth'):
        _run(work_dir, 8, resume=True)


def test_auto_resume_with_nothing_to_resume_starts_from_zero_and_says_so(tmp_path, monkeypatch):
    runner = toy_runner(tmp_path, max_iters=2, checkpoint=CKPT, custom_hooks=[dict(type='ResumeCheckHook')],
                        resume=True)
    warned = []
    monkeypatch.setattr(runner.logger, 'warning', lambda msg, *a, **k: warned.append(msg))
    runner.train()
    assert runner.iter == 2
    assert any('--resume: nothing to resume' in w and 'training starts from iteration 0' in w for w in warned)


def test_a_complete_checkpoint_resumes(work_dir):
    runner = _run(work_dir, 8, resume=True, load_from=str(work_dir / 'iter_4.pth'))
    assert runner.iter == 8


def test_a_checkpoint_without_training_state_points_to_load_from(work_dir):
    ckpt = torch.load(work_dir / 'iter_4.pth', map_location='cpu', weights_only=False)
    torch.save(dict(meta=ckpt['meta'], state_dict=ckpt['state_dict']), work_dir / 'weights.pth')
    with pytest.raises(ResumeCheckError, match=r'no training state \(no optimizer\).*load_from=PATH'):
        _run(work_dir, 8, resume=True, load_from=str(work_dir / 'weights.pth'))


def test_state_problem_names_what_does_not_fit(work_dir):
    from mmengine.optim import OptimWrapper
    ckpt = torch.load(work_dir / 'iter_4.pth', map_location='cpu', weights_only=False)
    model = torch.nn.Sequential()
    model.lin = torch.nn.Linear(3, 1)  # another input size: lin.weight (1, 2) in the checkpoint, (1, 3) here
    model.extra = torch.nn.Linear(1, 1)
    msg = state_problem(ckpt, model)
    assert "does not fit this config's model" in msg and '2 parameters of the model are not in it' in msg
    assert 'extra.bias, extra.weight' in msg and 'lin.weight (1, 2) vs (1, 3)' in msg
    same = torch.nn.Sequential()
    same.lin = torch.nn.Linear(2, 1)
    assert state_problem(ckpt, same) is None
    lazy = dict(ckpt, state_dict={**ckpt['state_dict'], 'ghost.paths.st@1.bn.running_mean': torch.zeros(4)})
    assert state_problem(lazy, same) is None  # state a module creates when it is loaded (ghost BN) is no misfit
    two_groups = OptimWrapper(torch.optim.SGD([{'params': [same.lin.weight]}, {'params': [same.lin.bias]}], lr=0.1))
    assert 'parameter groups of [2] parameters in the checkpoint, [1, 1] here' in state_problem(ckpt, same, two_groups)
    assert 'holds no state_dict' in state_problem({'weights': 1}, same)


def test_a_checkpoint_with_ghost_bn_statistics_fits_a_fresh_model():
    """The stage switch points' ghost BN buffers exist only once a hybrid path trained: a fresh model
    has none, and their checkpoint still fits it (loading creates them)."""
    pytest.importorskip('mmpretrain')
    from tests.algorithms.test_fcfd_classification import build, cls_batch
    from tests.algorithms.test_fcfd_stages import set_progress
    trained = build('resnet20', 'resnet56', dict(num_paths=4))
    data, _ = cls_batch(trained)
    set_progress(trained, it=0)
    trained.loss(data['inputs'], data['data_samples'])
    state = trained.state_dict()
    assert any(k.startswith('fcfd_stages.ghost_statistics.hybrids.') for k in state)
    ckpt = dict(meta=dict(epoch=1, iter=1), state_dict=state, optimizer={})
    assert state_problem(ckpt, build('resnet20', 'resnet56', dict(num_paths=4))) is None
