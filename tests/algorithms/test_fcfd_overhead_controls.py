"""Overhead controls of the FPN switch point (RoIs per image, FPN levels): the terms they keep
match the formula on exactly the RoIs / anchors they select, the student's detection loss is
untouched, every bridge stays in the graph, and bad settings fail with a clear message."""
import pytest
import torch

from tests.algorithms.test_fcfd_distill import bridge_ref, dense_head_ref, kl_ref, mse_ref, roi_head_ref
from tests.tiny_models import batch, build_fcfd, fcfd_cfg


def _build_spread_frcnn(fcfd: dict):
    """Tiny Faster R-CNN pair whose RoI extractors spread 64-px RoIs over P2-P5 (finest_scale 8)."""
    from mmrazor.registry import MODELS

    import fcfd_mm  # noqa: F401
    torch.manual_seed(0)
    cfg = fcfd_cfg('frcnn', fcfd)
    for role in ('architecture', 'teacher'):
        cfg[role].roi_head.bbox_roi_extractor.finest_scale = 8
    alg = MODELS.build(cfg)
    alg.init_weights()
    alg.train()
    return alg


def _frcnn_reference(alg, data, rois, levels):
    """Every FCFD term on ``rois`` with bridges only at ``levels``, computed independently."""
    x = data['inputs']
    with torch.no_grad():
        t_feats, s_feats = alg.teacher.extract_feat(x), alg.student.extract_feat(x)
        bs = {lv: bridge_ref(b, s_feats[lv]) for lv, b in zip(levels, alg.fcfd_neck.bridges_st)}
        head_levels = [lv for lv in levels if lv < 4]
        bt = {lv: bridge_ref(b, t_feats[lv]) for lv, b in zip(head_levels, alg.fcfd_neck.bridges_ts)}
        # levels without a bridge get zeros: the selected RoIs must never read them
        st_in = [bs.get(lv, torch.zeros_like(t)) for lv, t in enumerate(t_feats)]
        ts_in = [bt.get(lv, torch.zeros_like(s)) for lv, s in enumerate(s_feats)]
        z_t, d_t = roi_head_ref(alg.teacher, t_feats, rois)
        outs = dict(s=roi_head_ref(alg.student, s_feats, rois), st=roi_head_ref(alg.teacher, st_in, rois),
                    ts=roi_head_ref(alg.student, ts_in, rois))
    expected = {'distill.loss_fcfd_app': sum(mse_ref(b, t_feats[lv]) for lv, b in bs.items())}
    for path, (z, d) in outs.items():
        expected[f'distill.loss_fcfd_cls_{path}'] = kl_ref(z, z_t, 1.0)
        expected[f'distill.loss_fcfd_reg_{path}'] = mse_ref(d, d_t)
    return expected


def _assert_terms(losses, expected):
    assert set(expected) == {k for k in losses if 'fcfd' in k}
    for key, value in expected.items():
        torch.testing.assert_close(losses[key].detach(), value, rtol=1e-4, atol=1e-6, msg=key)


def test_consistency_rois_caps_rois_per_image_and_keeps_the_formula():
    alg = build_fcfd('frcnn', dict(head=dict(type='RoIBoxHeadAdapter', consistency_rois=5)))
    full = build_fcfd('frcnn')  # same seed: same weights
    data = batch(alg)
    torch.manual_seed(7)  # mmdet's RoI sampler draws from the global RNG
    losses = alg.loss(data['inputs'], data['data_samples'])
    all_rois = alg.fcfd_recorders.get_recorder('roi_extractor').get_record_data(0, 1)
    assert all_rois.shape[0] == 64  # the detection loss still sees all 32 sampled RoIs per image
    torch.manual_seed(123)  # the draw uses the adapter's own generator, not the global RNG
    context = alg.head_adapter.consistency_context(alg.fcfd_recorders, alg.student)
    assert sorted(torch.bincount(context.rois[:, 0].long()).tolist()) == [5, 5]
    assert torch.equal(context.rois, all_rois[context.index])
    # the next draw in the loss used the generator's previous state: recompute the loss's own draw
    alg.head_adapter.generator.manual_seed(0)
    context = alg.head_adapter.consistency_context(alg.fcfd_recorders, alg.student)
    _assert_terms(losses, _frcnn_reference(alg, data, context.rois, levels=range(5)))
    torch.manual_seed(7)
    full_losses = full.loss(data['inputs'], data['data_samples'])
    for key in ('student.loss_cls', 'student.loss_bbox', 'student.loss_rpn_cls'):
        torch.testing.assert_close(losses[key], full_losses[key], msg=key)


def test_levels_restrict_bridges_and_rois_and_keep_the_formula():
    alg = _build_spread_frcnn(dict(neck=dict(levels=(1, 2, 3, 4))))
    assert len(alg.fcfd_neck.bridges_st) == 4 and len(alg.fcfd_neck.bridges_ts) == 3  # P3-P6; B_ts on P3-P5
    data = batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    all_rois = alg.fcfd_recorders.get_recorder('roi_extractor').get_record_data(0, 1)
    extractor = alg.student.roi_head.bbox_roi_extractor
    mapped = extractor.map_roi_levels(all_rois, 4)
    kept = all_rois[mapped > 0]
    assert 0 < kept.shape[0] < all_rois.shape[0]  # some RoIs on P2 were dropped, some kept
    _assert_terms(losses, _frcnn_reference(alg, data, kept, levels=(1, 2, 3, 4)))
    total = sum(v for k, v in losses.items() if 'fcfd' in k)
    total.backward()
    for name, p in alg.fcfd_neck.named_parameters():
        assert p.grad is not None, name  # DDP with find_unused_parameters=False


def test_levels_that_leave_no_roi_give_a_zero_term_and_keep_every_bridge_in_the_graph():
    # at 64 px with the default finest_scale (56) every RoI maps to P2, which is left out
    alg = build_fcfd('frcnn', dict(neck=dict(levels=(1, 2, 3))))
    data = batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    for key in (f'distill.loss_fcfd_{o}_{p}' for o in ('cls', 'reg') for p in ('s', 'st', 'ts')):
        assert torch.isfinite(losses[key]) and losses[key].item() == 0.0, key
    sum(v for k, v in losses.items() if 'fcfd' in k).backward()
    assert all(p.grad is not None for p in alg.fcfd_neck.parameters())


def test_dense_head_levels_run_the_head_on_those_levels_only():
    alg = build_fcfd('retina', dict(head=dict(anchor_weighting=None), neck=dict(
        levels=(2, 3, 4), paths=('s', 'st', 'ts'), output_losses=dict(
            cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0), reg=dict(type='WeightedMSELoss')))))
    data = batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    x = data['inputs']
    with torch.no_grad():
        t_feats, s_feats = alg.teacher.extract_feat(x), alg.student.extract_feat(x)
        bs = [bridge_ref(b, s_feats[lv]) for lv, b in zip((2, 3, 4), alg.fcfd_neck.bridges_st)]
        bt = [bridge_ref(b, t_feats[lv]) for lv, b in zip((2, 3, 4), alg.fcfd_neck.bridges_ts)]
        z_t, d_t = dense_head_ref(alg.teacher, t_feats[2:])
        outs = dict(s=dense_head_ref(alg.student, s_feats[2:]), st=dense_head_ref(alg.teacher, bs),
                    ts=dense_head_ref(alg.student, bt))
    assert z_t.shape[0] == 2 * 9 * (2 * 2 + 1 + 1)  # P5-P7 of a 64-px input, 9 anchors, 2 images
    expected = {'distill.loss_fcfd_app': sum(mse_ref(b, t_feats[lv]) / t_feats[lv].pow(2).mean()  # relative MSE
                                             for lv, b in zip((2, 3, 4), bs))}
    from tests.algorithms.test_fcfd_distill import sigmoid_kd_ref
    for path, (z, d) in outs.items():
        expected[f'distill.loss_fcfd_cls_{path}'] = sigmoid_kd_ref(z, z_t, 1.0)
        expected[f'distill.loss_fcfd_reg_{path}'] = mse_ref(d, d_t)
    _assert_terms(losses, expected)


@pytest.mark.parametrize('fcfd, match', [
    (dict(neck=dict(levels=(0, 7))), r'level\(s\) \[7\] do not exist; the FPN has levels 0..4'),
    (dict(neck=dict(levels=(4,))), 'no level the head reads'),
    (dict(head=dict(type='RoIBoxHeadAdapter', consistency_rois=0)), 'consistency_rois must be a positive integer'),
])
def test_bad_overhead_controls_say_what_to_fix(fcfd, match):
    with pytest.raises(ValueError, match=match):
        build_fcfd('frcnn', fcfd)
