"""Exact resume of FCFD-owned state: the RoI-draw generator of ``consistency_rois`` and the ghost BN
buffers are in the algorithm's ``state_dict`` (hence in mmengine checkpoints), a run interrupted at
N/2 and resumed from its checkpoint in a fresh model continues exactly like the uninterrupted run,
and state dicts without these keys (older checkpoints) still load strictly."""
import pytest
import torch

from tests.algorithms.test_fcfd_classification import build as build_classifier
from tests.algorithms.test_fcfd_classification import cls_batch
from tests.algorithms.test_fcfd_stages import set_progress
from tests.tiny_models import batch, build_fcfd

ROIS = dict(head=dict(type='RoIBoxHeadAdapter', consistency_rois=5))
GEN_KEY = 'head_adapter_state.roi_draw.state'


def _train(alg, opt, batches, steps):
    """One SGD step per iteration in ``steps``; mmdet's RoI sampler reads the global RNG, seeded per
    step so that only FCFD's own state can make two runs differ. Returns the loss dicts."""
    out = []
    for it in steps:
        set_progress(alg, it=it)
        torch.manual_seed(1000 + it)
        data = batches[it]
        losses = alg.loss(data['inputs'], data['data_samples'])
        total, _ = alg.parse_losses(losses)
        opt.zero_grad()
        total.backward()
        opt.step()
        out.append({k: torch.stack([t.detach() for t in v]) if isinstance(v, list) else v.detach().clone()
                    for k, v in losses.items()})
    return out


def _sgd(alg):
    return torch.optim.SGD([p for p in alg.parameters() if p.requires_grad], lr=0.01, momentum=0.9,
                           weight_decay=1e-4)


def _checkpoint(alg, opt, path):
    torch.save(dict(state_dict=alg.state_dict(), optimizer=opt.state_dict()), path)


def _resume(path, drop=()):
    from mmengine.runner.checkpoint import load_state_dict
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    state = {k: v for k, v in ckpt['state_dict'].items() if not any(k.startswith(d) for d in drop)}
    alg = build_fcfd('frcnn', ROIS, seed=5)  # a fresh model: other weights, a fresh generator
    load_state_dict(alg, state, strict=True)  # mmengine's loader, as the runner's resume uses
    opt = _sgd(alg)
    opt.load_state_dict(ckpt['optimizer'])
    return alg, opt


def test_roi_draw_generator_is_in_the_state_dict_and_resume_is_exact(tmp_path):
    n = 4
    full = build_fcfd('frcnn', ROIS)
    batches = [batch(full) for _ in range(n)]
    ref = _train(full, _sgd(full), batches, range(n))

    part = build_fcfd('frcnn', ROIS)
    opt = _sgd(part)
    _train(part, opt, batches, range(n // 2))
    state = part.state_dict()
    assert state[GEN_KEY].dtype == torch.uint8
    assert torch.equal(state[GEN_KEY], part.head_adapter.generator.get_state())
    _checkpoint(part, opt, tmp_path / 'half.pth')

    resumed, opt = _resume(tmp_path / 'half.pth')
    assert torch.equal(resumed.head_adapter.generator.get_state(), part.head_adapter.generator.get_state())
    got = _train(resumed, opt, batches, range(n // 2, n))
    for step, (a, b) in enumerate(zip(got, ref[n // 2:])):
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (n // 2 + step, key)
    assert torch.equal(resumed.head_adapter.generator.get_state(), full.head_adapter.generator.get_state())

    # without the generator state (an older checkpoint) the draw, hence the consistency terms, differ
    stale, opt = _resume(tmp_path / 'half.pth', drop=(GEN_KEY,))
    first = _train(stale, opt, batches, [n // 2])[0]
    assert not torch.equal(first['distill.loss_fcfd_cls_st'], ref[n // 2]['distill.loss_fcfd_cls_st'])
    assert torch.equal(first['student.loss_rpn_cls'], ref[n // 2]['student.loss_rpn_cls'])  # the rest is exact


def test_ghost_bn_buffers_are_saved_and_restored():
    alg = build_classifier('resnet20', 'resnet56', dict(num_paths=4))
    data, _ = cls_batch(alg)
    for it in range(2):
        set_progress(alg, it=it)
        alg.loss(data['inputs'], data['data_samples'])
    store = alg.fcfd_stages.ghost_statistics.statistics()
    assert {k[0] for k in store} == {'st@1', 'st@2', 'ts@1', 'ts@2'}
    state = alg.state_dict()
    ghost = [k for k in state if k.startswith('fcfd_stages.ghost_statistics.')]
    assert len(ghost) == 3 * len(store)
    assert 'fcfd_stages.ghost_statistics.hybrids.ts@1.backbone/stages/2/0/bn1.running_var' in ghost

    fresh = build_classifier('resnet20', 'resnet56', dict(num_paths=4))
    assert not fresh.fcfd_stages.ghost_statistics.statistics()
    fresh.load_state_dict(state, strict=True)
    loaded = fresh.fcfd_stages.ghost_statistics.statistics()
    assert loaded.keys() == store.keys()
    for key, tensors in store.items():
        assert all(torch.equal(a, b) for a, b in zip(tensors, loaded[key])), key
    # the restored buffers are the ones the next hybrid pass updates
    key = ('ts@1', 'backbone.stages.2.0.bn1')
    mean, count = loaded[key][0].clone(), loaded[key][2].item()
    set_progress(fresh, it=2)
    fresh.loss(data['inputs'], data['data_samples'])
    assert not torch.equal(mean, fresh.fcfd_stages.ghost_statistics.statistics()[key][0])
    assert fresh.fcfd_stages.ghost_statistics.statistics()[key][2].item() == count + 1


@pytest.mark.parametrize('loader', ['torch', 'mmengine'])
def test_state_dicts_without_the_new_keys_still_load_strictly(loader):
    from mmengine.runner.checkpoint import load_state_dict
    det = build_fcfd('frcnn', ROIS)
    det_state = {k: v for k, v in det.state_dict().items() if k != GEN_KEY}
    cls = build_classifier('resnet20', 'resnet56', dict(num_paths=4))
    data, _ = cls_batch(cls)
    set_progress(cls)
    cls.loss(data['inputs'], data['data_samples'])
    cls_state = {k: v for k, v in cls.state_dict().items() if '.ghost_statistics.' not in k}
    for model, state in ((build_fcfd('frcnn', ROIS, seed=3), det_state),
                         (build_classifier('resnet20', 'resnet56', dict(num_paths=4)), cls_state)):
        if loader == 'torch':
            model.load_state_dict(state, strict=True)
        else:
            load_state_dict(model, state, strict=True)
    # the teacher (checkpoints of the teacher config) and the student (export) have no FCFD keys
    assert not any(k.startswith(('head_adapter_state', 'fcfd_stages')) for k in det.teacher.state_dict())
    assert not any('ghost' in k or 'roi_draw' in k for k in det.student.state_dict())


def test_a_bad_generator_state_is_reported():
    alg = build_fcfd('frcnn', ROIS)
    state = alg.state_dict()
    state[GEN_KEY] = torch.zeros(7, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match='roi_draw.state: not the state of a CPU torch.Generator'):
        alg.load_state_dict(state)


#: submodule names of fcfd-mm before the third renovation, as its checkpoints hold them (new -> old)
EARLIER_NAMES = {'.bridges_st.': '.bridges_s2t.', '.bridges_ts.': '.bridges_t2s.',
                 '.ghost_statistics.hybrids.': '.ghost_statistics.paths.'}


def earlier_format(state):
    """``state`` with the keys an fcfd-mm checkpoint of before the third renovation would have."""
    out = {}
    for key, value in state.items():
        for new, old in EARLIER_NAMES.items():
            key = key.replace(new, old)
        out[key] = value
    return out


@pytest.mark.parametrize('loader', ['torch', 'mmengine'])
def test_checkpoints_of_the_earlier_names_load_strictly_into_the_new_ones(loader):
    """The directions' one spelling (bridges_st / bridges_ts) and the ghost statistics per hybrid
    renamed state-dict keys; a checkpoint written under the earlier names loads strictly and every
    tensor lands where the new model keeps it (both switch points, ghost statistics included)."""
    from mmengine.runner.checkpoint import load_state_dict
    cls = build_classifier('resnet20', 'resnet56', dict(num_paths=4))
    data, _ = cls_batch(cls)
    set_progress(cls)
    cls.loss(data['inputs'], data['data_samples'])
    det = build_fcfd('frcnn', dict(neck=dict(), stages=dict(num_paths=8)), seed=2)
    set_progress(det)
    det.loss(*batch(det).values())
    for alg, expected in ((cls, ('fcfd_stages.bridges_t2s.1.block.conv.weight',
                                 'fcfd_stages.ghost_statistics.paths.ts@1.backbone/stages/2/0/bn1.running_var')),
                          (det, ('fcfd_neck.bridges_s2t.4.block.bn.running_mean',
                                 'fcfd_neck.bridges_t2s.0.block.conv.weight',
                                 'fcfd_stages.bridges_s2t.1.block.bn.bias'))):
        state = alg.state_dict()
        old = earlier_format(state)
        assert set(expected) <= set(old) and not any('_st.' in k or '_ts.' in k or 'hybrids' in k for k in old)
        fresh = build_classifier('resnet20', 'resnet56', dict(num_paths=4)) if alg is cls else \
            build_fcfd('frcnn', dict(neck=dict(), stages=dict(num_paths=8)), seed=5)
        if loader == 'torch':
            fresh.load_state_dict(old, strict=True)
        else:
            load_state_dict(fresh, old, strict=True)
        loaded = fresh.state_dict()
        assert loaded.keys() == state.keys()
        assert all(torch.equal(loaded[k], v) for k, v in state.items())
