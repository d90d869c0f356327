"""Grid R-CNN (``GridRoIBoxHeadAdapter``, fcfd_mm/adapters/heads/roi_box_head.py) on a small model of
mmdet's own config: the box head's class logits on the sampled RoIs, the grid head's fused heatmaps
on every positive RoI of the student's grid branch (not only the ones its loss drew), the terms by
hand, mmdet's predict."""

import torch

from tests.adapters.families import (
    assert_bridges_trained_teacher_frozen,
    assert_predict_on_features_is_the_detectors,
    build_pair,
    family_cfg,
    random_batch,
)

GRID = 'grid_rcnn/grid-rcnn_r50_fpn_gn-head_1x_coco.py'


def bernoulli_kl(z_s, z_t):
    p_t, p_s = torch.sigmoid(z_t.double()), torch.sigmoid(z_s.double())
    return p_t * torch.log(p_t / p_s) + (1 - p_t) * torch.log((1 - p_t) / (1 - p_s))


def test_terms_by_hand_class_kl_on_sampled_rois_and_per_pixel_grid_kd_on_every_positive_roi():
    alg = build_pair(family_cfg(GRID))
    with torch.no_grad():  # a teacher grid head unlike the student's, so that the grid term is far from 0
        for p in alg.teacher.roi_head.grid_head.parameters():
            p.add_(0.05 * torch.randn_like(p))
    data = random_batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    assert {k for k in losses if k.startswith('distill.')} == {
        'distill.loss_fcfd_app'} | {f'distill.loss_fcfd_{o}_{p}' for o in ('cls', 'grid') for p in ('s', 'st', 'ts')}
    box_rois = alg.fcfd_recorders.get_recorder('roi_extractor').get_record_data(0, 1)
    grid_rois = alg.fcfd_recorders.get_recorder('grid_roi_extractor').get_record_data(0, 1)
    assert grid_rois.shape[0] > 0
    x = data['inputs']

    def heads(model, feats):
        rh = model.roi_head
        cls_score, bbox_pred = rh.bbox_head(rh.bbox_roi_extractor(tuple(feats)[:rh.bbox_roi_extractor.num_inputs],
                                                                   box_rois))
        assert bbox_pred is None  # Grid R-CNN's box head classifies only
        grid = rh.grid_head(rh.grid_roi_extractor(tuple(feats)[:rh.grid_roi_extractor.num_inputs], grid_rois))
        return cls_score, grid['fused'].flatten(1)
    with torch.no_grad():
        t_cls, t_grid = heads(alg.teacher, alg.teacher.extract_feat(x))
        s_cls, s_grid = heads(alg.student, alg.student.extract_feat(x))
    p_t = torch.softmax(t_cls.double(), 1)
    kl = (p_t * (p_t.log() - torch.log_softmax(s_cls.double(), 1))).sum(1).mean()
    torch.testing.assert_close(losses['distill.loss_fcfd_cls_s'].double(), kl, rtol=1e-4, atol=1e-7)
    g = alg.teacher.roi_head.grid_head
    assert t_grid.shape == (grid_rois.shape[0], g.grid_points * (g.whole_map_size // 2) ** 2)  # 9 x 28 x 28
    grid_kd = bernoulli_kl(s_grid, t_grid).mean()  # every pixel of every positive RoI, averaged
    torch.testing.assert_close(losses['distill.loss_fcfd_grid_s'].double(), grid_kd, rtol=1e-4, atol=1e-8)
    assert losses['distill.loss_fcfd_grid_s'] > 1e-4
    assert_bridges_trained_teacher_frozen(alg, losses)
    assert alg.student.roi_head.grid_head.convs[0].conv.weight.grad is not None  # s path: into the student's grid head


def test_predict_on_features_is_mmdets_predict():
    assert_predict_on_features_is_the_detectors(build_pair(family_cfg(GRID)))
