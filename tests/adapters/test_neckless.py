"""Detectors without a neck (CornerNet, CentripetalNet: hourglass stacks; TridentNet: trident C4
branches): the FPN switch point is the backbone's outputs, recorded from the student's own pass;
``run_head`` is mmdet's head forward, ``predict_on_features`` its predict, the terms by hand."""

from functools import partial

import pytest
import torch

from tests.adapters.families import (
    assert_bridges_trained_teacher_frozen,
    assert_predict_on_features_is_the_detectors,
    build_pair,
    family_cfg,
    flat,
    loss_and_reference_rows,
    random_batch,
    sigmoid_kd_ref,
)

CORNERNET = 'cornernet/cornernet_hourglass104_8xb6-210e-mstest_coco.py'
CENTRIPETALNET = 'centripetalnet/centripetalnet_hourglass104_16xb6-crop511-210e-mstest_coco.py'
TRIDENTNET = 'tridentnet/tridentnet_r50-caffe_1x_coco.py'
NECKLESS = {CORNERNET: ('CornerHeadAdapter', ('cls', 'reg')),
            CENTRIPETALNET: ('CentripetalHeadAdapter', ('cls', 'reg', 'shift')),
            TRIDENTNET: ('TridentRoIBoxHeadAdapter', ('cls', 'reg'))}


def corner_rows(path, model, feats):
    """CornerNet's / CentripetalNet's rows by hand from mmdet's forward: both corners' heatmaps,
    both offsets (and both corners' guiding and centripetal shifts), every stack's map."""
    outs = model.bbox_head(tuple(feats))
    c = model.bbox_head.num_classes
    if path == CORNERNET:  # (tl_heat, br_heat, tl_emb, br_emb, tl_off, br_off)
        heat = [torch.cat([t, b], 1) for t, b in zip(outs[0], outs[1])]
        return dict(cls=flat(heat, 2 * c), reg=flat([torch.cat([t, b], 1) for t, b in zip(outs[4], outs[5])], 4))
    heat = [torch.cat([t, b], 1) for t, b in zip(outs[0], outs[1])]
    return dict(cls=flat(heat, 2 * c), reg=flat([torch.cat([t, b], 1) for t, b in zip(outs[2], outs[3])], 4),
                shift=flat([torch.cat(m, 1) for m in zip(*outs[4:8])], 8))


@pytest.mark.parametrize('path', sorted(NECKLESS))
def test_the_switch_point_is_the_backbone_output_and_both_bridges_train(path):
    adapter, outputs = NECKLESS[path]
    alg = build_pair(family_cfg(path))
    assert type(alg.head_adapter).__name__ == adapter and getattr(alg.student, 'neck', None) is None
    assert alg.head_adapter.switch_source == 'backbone'
    data = random_batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    expected = {'distill.loss_fcfd_app'} | {f'distill.loss_fcfd_{o}_{p}' for o in outputs for p in ('s', 'st', 'ts')}
    assert expected == {k for k in losses if k.startswith('distill.')}
    recorded = alg.head_adapter.student_features(alg.fcfd_recorders)
    with torch.no_grad():
        own = alg.student.extract_feat(data['inputs'])  # the detector's own features: its backbone's outputs
    own = (own,) if isinstance(own, torch.Tensor) else tuple(own)
    assert len(recorded) == len(own) and all(r.shape == o.shape for r, o in zip(recorded, own))
    assert_bridges_trained_teacher_frozen(alg, losses)


@pytest.mark.parametrize('path', [CORNERNET, CENTRIPETALNET])
def test_corner_heads_rows_and_s_terms_by_hand(path):
    from fcfd_mm.adapters import LevelContext
    alg = build_pair(family_cfg(path))
    assert alg.head_adapter.strides == [4, 4]  # one map per hourglass stack, at stride 4
    losses, t, s, t_feats = loss_and_reference_rows(alg, partial(corner_rows, path))
    with torch.no_grad():
        got = alg.head_adapter.run_head(alg.teacher, t_feats, LevelContext())
    for name in t:
        torch.testing.assert_close(got[name], t[name])
    w = torch.sigmoid(t['cls']).max(1).values  # the teacher's highest corner probability
    torch.testing.assert_close(losses['distill.loss_fcfd_cls_s'].double(), sigmoid_kd_ref(s['cls'], t['cls'], w),
                               rtol=1e-4, atol=1e-7)
    for name in set(t) - {'cls'}:
        mse = (((s[name] - t[name]).double() ** 2).mean(1) * w).sum() / w.sum()
        torch.testing.assert_close(losses[f'distill.loss_fcfd_{name}_s'].double(), mse, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize('path', sorted(NECKLESS))
def test_predict_on_features_is_mmdets_predict(path):
    assert_predict_on_features_is_the_detectors(build_pair(family_cfg(path)))


@pytest.mark.parametrize('path, reason', [(CORNERNET, r'\(CornerNet\) has no neck.*fcfd.neck only'),
                                          (TRIDENTNET, r'\(TridentFasterRCNN\) has no neck.*fcfd.neck only')])
def test_the_stage_switch_point_of_a_detector_without_a_neck_is_refused_naming_the_fix(path, reason):
    from fcfd_mm.adapters import UnsupportedModelError
    with pytest.raises(UnsupportedModelError, match=reason):
        build_pair(family_cfg(path), fcfd=dict(stages=dict()))
