"""FCFD at backbone-stage switch points of a detector: the total loss for a fixed set of sampled
paths against an independent computation, ghost BN, path sampling, warm-up, clear errors."""
import copy

import pytest
import torch

from fcfd_mm.algorithms.fcfd_core import FCFDStageSwitch, linear_warmup, sample_paths
from tests.algorithms.test_fcfd_distill import bridge_ref, kl_ref, mse_ref, roi_head_ref
from tests.tiny_models import batch, build_fcfd, fcfd_cfg, tiny_detector_cfg


def layers_after(model, k, h):
    out = []
    for name in model.backbone.res_layers[k:]:
        h = getattr(model.backbone, name)(h)
        out.append(h)
    return out


def set_progress(alg, epoch=0, it=0):
    """What FCFDProgressHook does before a training iteration."""
    alg.set_progress(epoch, it)


def stage_reference(alg, x, rois, paths, lam, mu):
    """Every stage term (docs/method.md), detector form, for the given hybrid paths."""
    st, s, t = alg.fcfd_stages, alg.student, alg.teacher
    with torch.no_grad():
        t_pos = list(t.backbone(x))
        t_fpn = list(t.neck(tuple(t_pos)))
        z_t, d_t = roi_head_ref(t, t_fpn, rois)
        s_pos = list(s.backbone(x))
        bs = {i: bridge_ref(st.bridges_st[str(i)], s_pos[i - 1]) for i in range(1, 5)}
        app = sum(mse_ref(bs[i], t_pos[i - 1]) for i in range(1, 5))
        feats, out = [], {'st': [], 'ts': []}
        for k, d in paths:
            if d == 'st':
                later = layers_after(t, k, bs[k])
                fpn = list(t.neck(tuple([bs[i] for i in range(1, k + 1)] + later)))
                feats += [mse_ref(h, t_pos[j]) for j, h in zip(range(k, 4), later)]
                feats += [mse_ref(h, tf) for h, tf in zip(fpn, t_fpn)]
                out['st'].append(roi_head_ref(t, fpn, rois))
            else:
                bt = [bridge_ref(st.bridges_ts[str(i)], t_pos[i - 1]) for i in range(1, k + 1)]
                later = layers_after(s, k, bt[-1])
                fpn = list(s.neck(tuple(bt + later)))
                out['ts'].append(roi_head_ref(s, fpn, rois))
        s_cls, s_reg = roi_head_ref(s, list(s.neck(tuple(s_pos))), rois)
    ref = {'distill.loss_fcfd_stage_app': lam * app,
           'distill.loss_fcfd_stage_feat': lam * sum(feats) if feats else torch.tensor(0.),
           'distill.loss_fcfd_stage_cls_s': kl_ref(s_cls, z_t, 1.0),
           'distill.loss_fcfd_stage_reg_s': mse_ref(s_reg, d_t)}
    for d in ('st', 'ts'):
        ref[f'distill.loss_fcfd_stage_cls_{d}'] = mu * sum(kl_ref(c, z_t, 1.0) for c, _ in out[d]) if out[d] \
            else torch.tensor(0.)
        ref[f'distill.loss_fcfd_stage_reg_{d}'] = mu * sum(mse_ref(r, d_t) for _, r in out[d]) if out[d] \
            else torch.tensor(0.)
    return ref


STAGES = dict(neck=None, stages=dict(num_paths=3, mode='bi', l2_weight=0.5, mixture_weight=2.0, seed=7,
                                     l2_warmup=dict(length=4, by_epoch=True)))


@pytest.mark.parametrize('iteration', [0, 5])
def test_detector_stage_terms_match_the_formula_for_the_sampled_paths(iteration):
    alg = build_fcfd('frcnn', copy.deepcopy(STAGES))
    set_progress(alg, epoch=1, it=iteration)
    data = batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    paths = alg.fcfd_stages.draw(iteration)
    assert len(paths) == 3 and paths == sample_paths(alg.fcfd_stages.candidates, 3, 7, iteration)
    assert len(alg.fcfd_stages.candidates) == 8  # positions 1..4 x {st, ts}: the FPN follows position 4
    rois = alg.fcfd_recorders.get_recorder('roi_extractor').get_record_data(0, 1)
    ref = stage_reference(alg, data['inputs'], rois, paths, lam=0.5 * 2 / 4, mu=2.0)
    assert {k for k in losses if 'fcfd' in k} == set(ref)
    for key, value in ref.items():
        torch.testing.assert_close(losses[key].detach(), value.float(), rtol=1e-4, atol=1e-6, msg=key)


def test_all_paths_every_bridge_gets_gradient_and_leaky_relu_into_post_relu_stages():
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(num_paths=100)))
    set_progress(alg)
    st = alg.fcfd_stages
    assert all(b.block.with_activation for b in list(st.bridges_st.values()) + list(st.bridges_ts.values()))
    assert [b.in_channels for b in st.bridges_st.values()] == [8, 16, 32, 64]
    assert [b.out_channels for b in st.bridges_st.values()] == [16, 32, 64, 128]
    losses = alg.loss(*batch(alg).values())
    alg.parse_losses(losses)[0].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in st.parameters())
    assert all(p.grad is None for p in alg.teacher.parameters())


def test_unsampled_bridges_stay_in_the_graph_for_ddp():
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(num_paths=1, mode='ts', seed=0)))
    set_progress(alg)
    losses = alg.loss(*batch(alg).values())
    alg.parse_losses(losses)[0].backward()
    (k, _), = alg.fcfd_stages.draw(0)
    for i, bridge in alg.fcfd_stages.bridges_ts.items():
        assert all(p.grad is not None for p in bridge.parameters()), i
        assert (int(i) <= k) == any(p.grad.abs().sum() > 0 for p in bridge.parameters())


def test_st_bridges_fed_only_by_hybrid_paths_stay_in_the_graph():
    """positions=(3,): an S->T path at 3 also bridges positions 1-2 for the FPN; unsampled, they get zeros."""
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(positions=(3,), num_paths=1, mode='ts')))
    set_progress(alg)
    assert sorted(alg.fcfd_stages.bridges_st) == ['3'] and sorted(alg.fcfd_stages.bridges_ts) == ['1', '2', '3']
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(positions=(3,), num_paths=0)))
    assert sorted(alg.fcfd_stages.bridges_st) == ['1', '2', '3']
    losses = alg.loss(*batch(alg).values())
    alg.parse_losses(losses)[0].backward()
    for i, bridge in alg.fcfd_stages.bridges_st.items():
        grads = [p.grad for p in bridge.parameters()]
        assert all(g is not None for g in grads), i
        assert (i == '3') == any(g.abs().sum() > 0 for g in grads)


def test_ghost_bn_keeps_main_statistics_equal_to_the_pure_paths():
    """Student BN is in train mode (demo configs: norm_eval=False): T->S hybrids must not move it."""
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(num_paths=100, mode='ts')))
    set_progress(alg)
    data = batch(alg)
    pure = copy.deepcopy(alg)
    torch.manual_seed(0)
    alg.loss(data['inputs'], data['data_samples'])
    torch.manual_seed(0)
    with torch.no_grad():
        pure.teacher.backbone(data['inputs'])
    pure.student(data['inputs'], data['data_samples'], mode='loss')
    checked = 0
    for (name, a), (_, b) in zip(alg.named_buffers(), pure.named_buffers()):
        if name.startswith(('architecture.', 'teacher.')) and ('running' in name or 'num_batches' in name):
            assert torch.equal(a, b), name
            checked += 1
    assert checked > 50
    ghosts = alg.fcfd_stages.ghost_statistics.statistics()
    assert any(key[0].startswith('ts') and key[1].startswith('backbone.layer') for key in ghosts)


def test_ghost_bn_can_be_switched_off_and_then_statistics_move():
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(num_paths=100, mode='ts', ghost_bn=False)))
    set_progress(alg)
    data = batch(alg)
    pure = copy.deepcopy(alg)
    alg.loss(data['inputs'], data['data_samples'])
    pure.student(data['inputs'], data['data_samples'], mode='loss')
    assert not torch.equal(alg.student.backbone.layer4[0].bn1.running_mean,
                           pure.student.backbone.layer4[0].bn1.running_mean)


def test_warmup_follows_the_linear_schedule():
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(num_paths=0, l2_warmup=dict(length=5))))
    data = batch(alg)
    values = []
    for epoch in range(7):
        set_progress(alg, epoch=epoch)
        values.append(alg.loss(data['inputs'], data['data_samples'])['distill.loss_fcfd_stage_app'].item())
    for epoch, v in enumerate(values):
        assert v == pytest.approx(values[-1] * min(1.0, (epoch + 1) / 5), rel=1e-4)
    assert [linear_warmup(e, 20) for e in (0, 9, 19, 30)] == [0.05, 0.5, 1.0, 1.0]
    by_iter = FCFDStageSwitch([4], [4], [1.0], positions=[1], max_switch=1, neck_reads=None,
                              output_losses={}, l2_warmup=dict(length=10, by_epoch=False))
    assert by_iter.warmup_factor(epoch=3, iteration=4) == 0.5


def test_path_sampling_is_reproducible_and_uniform():
    cands = [(k, d) for k in (1, 2, 3) for d in ('st', 'ts')]
    assert sample_paths(cands, 2, 0, 11) == sample_paths(cands, 2, 0, 11)
    draws = [tuple(sample_paths(cands, 2, 0, it)) for it in range(3000)]
    assert all(len(set(d)) == 2 for d in draws)
    counts = {c: sum(c in d for d in draws) for c in cands}
    assert all(abs(n / 3000 - 2 / 6) < 0.04 for n in counts.values())  # each in 1/3 of the draws
    assert len({sample_paths(cands, 2, seed, 0)[0] for seed in range(20)}) > 1


def _rank_draws(rank, world, port, out):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
    cands = [(k, d) for k in (1, 2, 3) for d in ('st', 'ts')]
    mine = torch.tensor([[k * 10 + (d == 'ts') for k, d in sample_paths(cands, 2, 5, it)] for it in range(50)])
    gathered = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(gathered, mine)
    if rank == 0:
        torch.save(gathered, out)
    dist.destroy_process_group()


def test_path_sampling_is_identical_on_two_ddp_ranks(tmp_path):
    import torch.multiprocessing as mp
    out = tmp_path / 'draws.pt'
    mp.spawn(_rank_draws, args=(2, 29533, str(out)), nprocs=2, join=True)
    a, b = torch.load(out)
    assert torch.equal(a, b) and len({tuple(r.tolist()) for r in a}) > 5


# ---------------------------------------------------------------- bad input
def test_different_number_of_stages_is_refused():
    from mmrazor.registry import MODELS
    cfg = fcfd_cfg('frcnn', dict(neck=None, stages=dict()))
    teacher = tiny_detector_cfg('frcnn', 16, fpn_channels=32)
    teacher.backbone.update(num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(0, 1, 2))
    teacher.neck.in_channels = [16, 32, 64]
    cfg['teacher'] = teacher
    with pytest.raises(ValueError, match='same number'):
        MODELS.build(cfg)


def test_nonexistent_stage_position_is_refused():
    from mmrazor.registry import MODELS
    with pytest.raises(ValueError, match=r'position\(s\) \[5\] do not exist.*1\.\.4'):
        MODELS.build(fcfd_cfg('frcnn', dict(neck=None, stages=dict(positions=(2, 5)))))


def test_unsupported_resolution_ratio_is_refused():
    from mmrazor.registry import MODELS
    cfg = fcfd_cfg('frcnn', dict(neck=None, stages=dict()))
    cfg['teacher'].backbone.update(strides=(1, 1, 1, 2))  # position 3 at 4x the student's resolution
    with pytest.raises(ValueError, match='position 3 .*resolution ratio 4'):
        MODELS.build(cfg)


def test_stage_switch_needs_every_stage_as_output():
    from mmrazor.registry import MODELS

    from fcfd_mm.adapters import UnsupportedModelError
    cfg = fcfd_cfg('frcnn', dict(neck=None, stages=dict()))
    cfg['architecture'].backbone.out_indices = (1, 2, 3)
    cfg['architecture'].neck.in_channels = [16, 32, 64]
    with pytest.raises(UnsupportedModelError, match='out_indices'):
        MODELS.build(cfg)


def test_frozen_student_stage_gets_no_appearance_term_and_no_st_path():
    """mmdet's frozen_stages=1 (stem and stage 1 frozen, as in the COCO configs): an appearance term
    or an S->T path at position 1 would train only the bridge, so there is none; the T->S path at 1
    still trains the student's later stages, and the S->T bridge at 1 still feeds the teacher's FPN
    on S->T paths at 2..4."""
    from mmrazor.registry import MODELS
    cfg = fcfd_cfg('frcnn', dict(neck=None, stages=dict(num_paths=100)))
    cfg['architecture'].backbone.frozen_stages = 1
    torch.manual_seed(0)
    alg = MODELS.build(cfg)
    alg.init_weights()
    alg.train()
    st = alg.fcfd_stages
    assert st.frozen_positions == (1,) and st.app_positions == (2, 3, 4)
    assert (1, 'st') not in st.candidates and (1, 'ts') in st.candidates and len(st.candidates) == 7
    assert sorted(st.bridges_st) == ['1', '2', '3', '4']
    set_progress(alg)
    data = batch(alg)
    losses = alg.loss(*data.values())
    alg.parse_losses(losses)[0].backward()
    with torch.no_grad():
        s_pos, t_pos = alg.student.backbone(data['inputs']), alg.teacher.backbone(data['inputs'])
        app = sum(mse_ref(bridge_ref(st.bridges_st[str(i)], s_pos[i - 1]), t_pos[i - 1]) for i in (2, 3, 4))
    torch.testing.assert_close(losses['distill.loss_fcfd_stage_app'], app, rtol=1e-4, atol=1e-6)
    assert all(p.grad is None for p in alg.student.backbone.layer1.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in st.parameters())
    layer2 = list(alg.student.backbone.layer2.parameters())  # (zero-initialised last BN of a block: some 0)
    assert all(p.grad is not None for p in layer2) and sum(float(p.grad.abs().sum()) for p in layer2) > 0


def test_stage_switch_with_nothing_trainable_is_refused():
    with pytest.raises(ValueError, match='frozen_stages'):
        FCFDStageSwitch([4, 8], [4, 8], [1.0, 1.0], positions=(1, 2), max_switch=2, neck_reads=None,
                        output_losses={}, frozen_positions=(1, 2), mode='st')


def test_frozen_positions_are_not_a_config_key():
    with pytest.raises(ValueError, match="frozen_stages instead"):
        build_fcfd('frcnn', dict(neck=None, stages=dict(frozen_positions=(1,))))
