"""CrowdDet (``MultiInstanceRoIBoxHeadAdapter``, fcfd_mm/adapters/heads/roi_box_head.py) on a small
model of mmdet's own config: paths st / ts (s refused with the reason), the st terms by hand, the
refinement module's outputs, mmdet's predict."""

import pytest
import torch

from tests.adapters.families import (
    assert_bridges_trained_teacher_frozen,
    assert_predict_on_features_is_the_detectors,
    build_pair,
    family_cfg,
    random_batch,
)

CROWDDET = 'crowddet/crowddet-rcnn_r50_fpn_8xb2-30e_crowdhuman.py'


def crowddet_cfg(with_refine=False):
    cfg = family_cfg(CROWDDET)
    cfg.roi_head.bbox_head.with_refine = with_refine
    return cfg


@pytest.mark.parametrize('with_refine', [False, True])
def test_loss_step_runs_paths_st_and_ts_with_gradients_into_both_bridges(with_refine):
    alg = build_pair(crowddet_cfg(with_refine))
    assert type(alg.head_adapter).__name__ == 'MultiInstanceRoIBoxHeadAdapter'
    assert tuple(alg.fcfd_neck.paths) == ('st', 'ts')
    data = random_batch(alg, num_classes=1)
    losses = alg.loss(data['inputs'], data['data_samples'])
    outputs = ('cls', 'reg', 'cls_ref', 'reg_ref') if with_refine else ('cls', 'reg')
    expected = {'distill.loss_fcfd_app'} | {f'distill.loss_fcfd_{o}_{p}' for o in outputs for p in ('st', 'ts')}
    assert expected == {k for k in losses if k.startswith('distill.')}
    assert_bridges_trained_teacher_frozen(alg, losses)


def test_st_terms_by_hand_softmax_kl_per_predicted_object_and_mse():
    alg = build_pair(crowddet_cfg())
    data = random_batch(alg, num_classes=1)
    losses = alg.loss(data['inputs'], data['data_samples'])
    rois = alg.fcfd_recorders.get_recorder('roi_extractor').get_record_data(0, 1)
    trh = alg.teacher.roi_head
    k, c1 = trh.bbox_head.num_instance, trh.bbox_head.num_classes + 1
    with torch.no_grad():
        def box_head(feats):
            return trh.bbox_head(trh.bbox_roi_extractor(tuple(feats)[:trh.bbox_roi_extractor.num_inputs], rois))
        t_cls, t_reg = box_head(alg.teacher.extract_feat(data['inputs']))
        bridged = [b(f) for b, f in zip(alg.fcfd_neck.bridges_st, alg.student.extract_feat(data['inputs']))]
        st_cls, st_reg = box_head(bridged)
    assert t_cls.shape == (rois.shape[0], k * c1) and t_reg.shape == (rois.shape[0], k * 4)
    p_t = torch.softmax(t_cls.double().view(-1, k, c1), -1)
    kl = (p_t * (p_t.log() - torch.log_softmax(st_cls.double().view(-1, k, c1), -1))).sum(-1).mean()
    torch.testing.assert_close(losses['distill.loss_fcfd_cls_st'].double(), kl, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(losses['distill.loss_fcfd_reg_st'], ((st_reg - t_reg) ** 2).mean(), rtol=1e-4,
                               atol=1e-7)


def test_path_s_is_refused_because_the_predicted_objects_are_an_unordered_set():
    with pytest.raises(ValueError, match="path s is not defined for CrowdDet.*either order.*'st', 'ts'"):
        build_pair(crowddet_cfg(), fcfd=dict(neck=dict(paths=('s', 'st', 'ts'))))


def test_predict_on_features_is_mmdets_predict():
    assert_predict_on_features_is_the_detectors(build_pair(crowddet_cfg()), num_classes=1)
