"""FCFDUnusedBridgesHook: bridges a step did not use (unsampled hybrid paths, every bridge after
StopDistillHook) are left exactly as they were by SGD with momentum and weight decay (their
gradient is None, as in the official step), under any optimizer wrapper (AMP included), also across
gradient accumulation and on two DDP ranks; bridges used in any micro-step of a window are stepped."""
import copy
from types import SimpleNamespace

import pytest
import torch

from fcfd_mm.engine import FCFDUnusedBridgesHook
from tests.algorithms.test_fcfd_stages import set_progress

SGD = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)


def tiny_classifier_pair(**stages):
    """resnet8 (student) / resnet14 (teacher), 10 classes: positions 1-3, switch points 1-2."""
    from mmrazor.registry import MODELS

    import fcfd_mm  # noqa: F401
    from fcfd_mm.models.zoo import classifier_cfg
    torch.manual_seed(0)
    alg = MODELS.build(dict(
        _scope_='mmrazor', type='FCFDDistill',
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10),
        architecture=classifier_cfg('resnet8', 10), teacher=classifier_cfg('resnet14', 10), teacher_norm_eval=False,
        fcfd=dict(head=dict(type='ClassifierHeadAdapter'), stages=dict(stages))))
    alg.init_weights()
    alg.train()
    return alg


def raw_batch(seed=1, n=4):
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 255, (n, 3, 32, 32), generator=g).float()
    return dict(inputs=list(x), data_samples=[DataSample().set_gt_label(i % 10) for i in range(n)])


def wrapper(alg, kind='OptimWrapper', hook=True, **kw):
    """An optimizer wrapper of ``kind`` for ``alg``, with FCFDUnusedBridgesHook's step hook (what the
    hook registers before training) unless ``hook=False``."""
    from mmengine.registry import OPTIM_WRAPPERS
    optimizer = torch.optim.SGD(alg.parameters(), **{k: v for k, v in SGD.items() if k != 'type'})
    ow = OPTIM_WRAPPERS.build(dict(type=kind, optimizer=optimizer, **kw))
    if hook:
        FCFDUnusedBridgesHook().before_train(SimpleNamespace(model=alg, optim_wrapper=ow))
    return ow


def iterations_drawing(alg, wanted, start=0):
    """The first iteration >= start whose sampled paths are exactly ``wanted``."""
    return next(it for it in range(start, 10_000) if alg.fcfd_stages.draw(it) == wanted)


def snapshot(alg, ow, name):
    bridge = alg.fcfd_stages.bridges_ts[name]
    params = [p.detach().clone() for p in bridge.parameters()]
    moms = [ow.optimizer.state.get(p, {}).get('momentum_buffer') for p in bridge.parameters()]
    return params, [None if m is None else m.clone() for m in moms]


def step(alg, ow, it, seed=1):
    set_progress(alg, it=it)
    return alg.train_step(raw_batch(seed), ow)


def rel_change(before, bridge):
    num = sum(((p.detach() - b) ** 2).sum() for p, b in zip(bridge.parameters(), before))
    den = sum((b ** 2).sum() for b in before)
    return (num / den).sqrt().item()


@pytest.mark.parametrize('hook', [True, False])
@pytest.mark.parametrize('kind', ['OptimWrapper', 'AmpOptimWrapper', 'CPUAmpOptimWrapper'])
def test_an_unsampled_bridge_is_untouched_by_sgd_only_with_the_hook(kind, hook, monkeypatch):
    if kind == 'AmpOptimWrapper' and not torch.cuda.is_available():
        # mmengine refuses AMP without a GPU; on the CPU its (disabled) GradScaler just steps
        monkeypatch.setattr('mmengine.optim.optimizer.amp_optimizer_wrapper.is_cuda_available', lambda: True)
    alg = tiny_classifier_pair(num_paths=1, mode='ts')
    ow = wrapper(alg, kind, hook)
    it_1 = iterations_drawing(alg, [(1, 'ts')])
    it_2 = iterations_drawing(alg, [(2, 'ts')])
    step(alg, ow, it_1)  # bridge ts 1 used: it gets a gradient and a momentum buffer
    params, moms = snapshot(alg, ow, '1')
    assert all(m is not None for m in moms)
    student = copy.deepcopy(alg.student.backbone.stages[2].state_dict())
    step(alg, ow, it_2, seed=2)  # bridge ts 1 not sampled: only the zero keep-in-graph term
    after, moms_after = snapshot(alg, ow, '1')
    unchanged = all(torch.equal(a, b) for a, b in zip(params, after)) and \
        all(torch.equal(a, b) for a, b in zip(moms, moms_after))
    assert unchanged == hook
    assert not torch.equal(student['0.conv1.weight'], alg.student.backbone.stages[2][0].conv1.weight)


def test_a_bridge_never_sampled_gets_no_optimizer_state():
    alg = tiny_classifier_pair(num_paths=1, mode='ts')
    ow = wrapper(alg)
    it_1 = iterations_drawing(alg, [(1, 'ts')])
    before = [p.detach().clone() for p in alg.fcfd_stages.bridges_ts['2'].parameters()]
    step(alg, ow, it_1)
    step(alg, ow, iterations_drawing(alg, [(1, 'ts')], it_1 + 1), seed=2)
    for p, b in zip(alg.fcfd_stages.bridges_ts['2'].parameters(), before):
        assert torch.equal(p.detach(), b) and p not in ow.optimizer.state


def test_gradient_accumulation_keeps_bridges_used_in_any_micro_step():
    alg = tiny_classifier_pair(num_paths=1, mode='ts')
    ow = wrapper(alg, accumulative_counts=2)
    ow.initialize_count_status(alg, 0, 4)
    it_1 = iterations_drawing(alg, [(1, 'ts')])
    it_2 = iterations_drawing(alg, [(2, 'ts')])
    it_1b = iterations_drawing(alg, [(1, 'ts')], it_1 + 1)
    b1 = [p.detach().clone() for p in alg.fcfd_stages.bridges_ts['1'].parameters()]
    b2 = [p.detach().clone() for p in alg.fcfd_stages.bridges_ts['2'].parameters()]
    step(alg, ow, it_1)
    step(alg, ow, it_2, seed=2)  # window 1: bridge 1 in the first micro-step, bridge 2 in the second
    assert rel_change(b1, alg.fcfd_stages.bridges_ts['1']) > 0
    assert rel_change(b2, alg.fcfd_stages.bridges_ts['2']) > 0
    b2 = [p.detach().clone() for p in alg.fcfd_stages.bridges_ts['2'].parameters()]
    step(alg, ow, it_1, seed=3)
    step(alg, ow, it_1b, seed=4)  # window 2: bridge 2 unused in both micro-steps
    assert rel_change(b2, alg.fcfd_stages.bridges_ts['2']) == 0


def test_after_stop_distill_every_bridge_is_untouched():
    alg = tiny_classifier_pair(num_paths=4)
    ow = wrapper(alg)
    step(alg, ow, 0)  # every bridge used: all have momentum
    alg.distillation_stopped = True  # what mmrazor's StopDistillHook sets
    bridges = copy.deepcopy(alg.fcfd_stages.state_dict())
    moms = {id(p): ow.optimizer.state[p]['momentum_buffer'].clone() for p in alg.fcfd_stages.parameters()}
    fc = alg.student.head.fc.weight.detach().clone()
    log = step(alg, ow, 1, seed=2)
    assert 'distill.loss_fcfd_stopped' in log
    for k, v in alg.fcfd_stages.state_dict().items():
        if 'ghost' not in k:
            assert torch.equal(v, bridges[k]), k
    assert all(torch.equal(ow.optimizer.state[p]['momentum_buffer'], moms[id(p)])
               for p in alg.fcfd_stages.parameters())
    assert not torch.equal(fc, alg.student.head.fc.weight)  # the student still trains


def test_fpn_switch_uses_every_bridge_so_nothing_is_cleared():
    from tests.tiny_models import batch, build_fcfd
    alg = build_fcfd('frcnn')
    set_progress(alg)
    alg.loss(*batch(alg).values())
    assert alg.pop_unused_parameters() == []
    alg.distillation_stopped = True
    alg.loss(*batch(alg).values())
    assert len(alg.pop_unused_parameters()) == len(list(alg.fcfd_neck.parameters())) > 0


def test_a_model_without_unused_parameters_is_left_alone_and_an_optimizer_dict_refused():
    from mmengine.optim import OptimWrapperDict
    plain = torch.nn.Linear(2, 2)
    hook = FCFDUnusedBridgesHook()
    ow = wrapper(tiny_classifier_pair(num_paths=1), hook=False)
    hook.before_train(SimpleNamespace(model=plain, optim_wrapper=ow))
    assert not hook._handles
    with pytest.raises(TypeError, match='one optimizer'):
        hook.before_train(SimpleNamespace(model=tiny_classifier_pair(num_paths=1),
                                          optim_wrapper=OptimWrapperDict(a=ow)))


def test_the_step_hook_is_removed_after_training():
    alg = tiny_classifier_pair(num_paths=1, mode='ts')
    ow = wrapper(alg, hook=False)
    hook = FCFDUnusedBridgesHook()
    runner = SimpleNamespace(model=alg, optim_wrapper=ow)
    hook.before_train(runner)
    assert len(ow.optimizer._optimizer_step_pre_hooks) == 1
    hook.after_train(runner)
    assert not ow.optimizer._optimizer_step_pre_hooks


@pytest.mark.parametrize('config', ['configs/classification/demo/fcfd_resnet20_resnet8_demo.py',
                                    'configs/demo/faster-rcnn_demo_student.py'])
@pytest.mark.parametrize('cuda', [True, False])
def test_amp_flag_picks_the_devices_amp_wrapper_and_keeps_the_hook(config, cuda, monkeypatch):
    from tools.train import build_cfg, parse_args
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)  # fp16 on a GPU, bf16 on a CPU-only machine
    monkeypatch.setattr('tools.train.check_data_roots', lambda cfg: None)
    cfg = build_cfg(parse_args([config, '--amp']))
    assert cfg.optim_wrapper.type == ('AmpOptimWrapper' if cuda else 'CPUAmpOptimWrapper')
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    assert ('FCFDUnusedBridgesHook' in hooks) == ('fcfd_' in config)


# ----------------------------------------------------------------------------- two DDP ranks
def _ddp_rank(rank, world, port, out):
    import os

    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    from mmengine.model import MMDistributedDataParallel
    alg = tiny_classifier_pair(num_paths=1, mode='ts')
    model = MMDistributedDataParallel(module=alg, find_unused_parameters=False)
    ow = wrapper(alg)
    it_1 = iterations_drawing(alg, [(1, 'ts')])
    it_2 = iterations_drawing(alg, [(2, 'ts')])
    set_progress(alg, it=it_1)
    model.train_step(raw_batch(seed=10 + rank), ow)  # different data on each rank
    params, moms = snapshot(alg, ow, '1')
    set_progress(alg, it=it_2)
    model.train_step(raw_batch(seed=20 + rank), ow)
    after, moms_after = snapshot(alg, ow, '1')
    torch.save(dict(unchanged=all(torch.equal(a, b) for a, b in zip(params + moms, after + moms_after)),
                    state={k: v.clone() for k, v in alg.state_dict().items() if 'ghost' not in k}),
               f'{out}.{rank}')
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_ddp_ranks_clear_the_same_unused_bridges(tmp_path):
    import torch.multiprocessing as mp
    out = str(tmp_path / 'rank')
    mp.spawn(_ddp_rank, args=(2, 29541, out), nprocs=2, join=True)
    r0, r1 = torch.load(f'{out}.0', weights_only=False), torch.load(f'{out}.1', weights_only=False)
    assert r0['unchanged'] and r1['unchanged']
    for k in r0['state']:  # DDP: same weights on both ranks (main BN statistics are per rank)
        if 'running' not in k and 'num_batches' not in k:
            assert torch.equal(r0['state'][k], r1['state'][k]), k
