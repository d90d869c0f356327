"""RepPoints, SABL RetinaNet and Guided Anchoring (fcfd_mm/adapters/heads/box_encodings.py) on small
models of mmdet's own configs: ``run_head`` is mmdet's head forward in either mode (boxes decoded
with mmdet's own functions), ``predict_on_features`` is mmdet's predict, and the ``s`` terms by hand
with the teacher-score row weights."""
import copy
from functools import partial

import pytest
import torch

from tests.adapters.families import (
    build_pair,
    flat,
    loss_and_reference_rows,
    random_batch,
    sigmoid_kd_ref,
    small_model_cfg,
)

REPPOINTS = 'reppoints/reppoints-moment_r50_fpn_1x_coco.py'
SABL = 'sabl/sabl-retinanet_r50_fpn_1x_coco.py'
GA_RETINA = 'guided_anchoring/ga-retinanet_r50_fpn_1x_coco.py'
GA_RPN = 'guided_anchoring/ga-rpn_r50_fpn_1x_coco.py'
GUIDED_ANCHORING = (GA_RETINA, GA_RPN)
ALL = [REPPOINTS, SABL, GA_RETINA, GA_RPN]


def ga_boxes(head, bbox_preds, shape_preds, loc_preds):
    """Guided Anchoring's decoded boxes by mmdet's own functions (its guided anchors of every
    location, ``bbox_coder.decode``), relative to the location's centre, per stride, as
    ``(B * sum HW, 4)`` rows in (image, level, y, x) order."""
    sizes = [b.shape[-2:] for b in bbox_preds]
    squares = head.square_anchor_generator.grid_priors(sizes, device=bbox_preds[0].device)
    strides = [s[0] for s in head.square_anchor_generator.strides]
    rows = []
    for i in range(bbox_preds[0].shape[0]):
        for lvl, stride in enumerate(strides):
            anchors, _ = head._get_guided_anchors_single(squares[lvl], shape_preds[lvl][i], loc_preds[lvl][i])
            boxes = head.bbox_coder.decode(anchors, bbox_preds[lvl][i].permute(1, 2, 0).reshape(-1, 4))
            centres = (squares[lvl][:, :2] + squares[lvl][:, 2:]) / 2
            rows.append((boxes - centres.repeat(1, 2)) / stride)
    return torch.cat(rows)


def expected_rows(path, model, feats):
    """The rows by hand from mmdet's own forward in the head's current mode."""
    head = model.bbox_head
    outs = head(tuple(feats))
    c = head.num_classes
    if path == REPPOINTS:  # training: (cls, init points, refined points); eval: (cls, refined box)
        boxes = [head.points2bbox(p) for p in outs[2]] if head.training else outs[1]
        return dict(cls=flat(outs[0], c), reg=flat(boxes, 4))
    if path in GUIDED_ANCHORING:  # (cls, deltas, anchor shape, anchor location)
        cls_width = 1 if path == GA_RPN else c
        return dict(cls=flat(outs[0], cls_width), reg=ga_boxes(head, *outs[1:4]), shape=flat(outs[2], 2),
                    loc=flat(outs[3], 1))
    width = 4 * head.side_num
    return dict(cls=flat(outs[0], c), bucket=flat([b[0] for b in outs[1]], width),
                offset=flat([b[1] for b in outs[1]], width))


@pytest.mark.parametrize('path', ALL)
def test_run_head_is_mmdets_head_forward_in_either_mode(path):
    from fcfd_mm.adapters import LevelContext
    alg = build_pair(small_model_cfg(path))
    adapter, model = alg.head_adapter, alg.teacher
    x = random_batch(alg)['inputs']
    with torch.no_grad():
        feats = model.extract_feat(x)
        got = adapter.run_head(model, feats, LevelContext())
        want = expected_rows(path, model, feats)
        assert set(got) == set(want)
        for name in want:
            torch.testing.assert_close(got[name], want[name])
        if path in GUIDED_ANCHORING:  # its eval forward needs mmcv's masked convolution, which has no CPU kernel
            return
        model.bbox_head.eval()
        got_eval = adapter.run_head(model, feats, LevelContext())
        want_eval = expected_rows(path, model, feats)
        alg.train()
    assert set(got_eval) == set(want)
    for name in want:
        torch.testing.assert_close(got_eval[name], want_eval[name])
        torch.testing.assert_close(got_eval[name], want[name], rtol=1e-4, atol=1e-5)  # the same rows in either mode
    # a level subset: those levels' rows of the full run (one location prior per location)
    sub = adapter.run_head(model, feats, LevelContext((1,)))
    sizes = [f.shape[-2] * f.shape[-1] for f in feats]
    full = got['cls'].view(x.shape[0], -1, got['cls'].shape[1])
    torch.testing.assert_close(sub['cls'], full[:, sizes[0]:sizes[0] + sizes[1]].reshape(-1, full.shape[-1]))


@pytest.mark.parametrize('path', ALL)
def test_predict_on_features_is_mmdets_predict(path):
    if path in GUIDED_ANCHORING and not torch.cuda.is_available():
        pytest.skip("Guided Anchoring's predict runs mmcv's masked convolution, which has no CPU kernel")
    alg = build_pair(small_model_cfg(path))
    alg.eval()
    # GA's masked convolution runs on the GPU and on one image at a time
    data = random_batch(alg, **(dict(batch_size=1, num_items=(3,)) if path in GUIDED_ANCHORING else {}))
    device = 'cuda' if path in GUIDED_ANCHORING else 'cpu'
    alg.to(device)
    x, samples = data['inputs'].to(device), data['data_samples']
    model = alg.teacher
    with torch.no_grad():
        ours = alg.head_adapter.predict_on_features(model, model.extract_feat(x), copy.deepcopy(samples))
        theirs = model.predict(x, copy.deepcopy(samples))
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.pred_instances.bboxes, b.pred_instances.bboxes)
        torch.testing.assert_close(a.pred_instances.scores, b.pred_instances.scores)


def test_reppoints_s_terms_compare_the_refined_boxes_with_each_heads_own_moment_transfer():
    alg = build_pair(small_model_cfg(REPPOINTS))
    with torch.no_grad():  # each head's own learned transfer: the teacher's differs from the student's
        alg.teacher.bbox_head.moment_transfer.add_(torch.tensor([0.3, -0.2]))
    losses, t, s, _ = loss_and_reference_rows(alg, partial(expected_rows, REPPOINTS))
    w = torch.sigmoid(t['cls']).max(1).values  # RepPoints' predict ranks by the class score
    torch.testing.assert_close(losses['distill.loss_fcfd_cls_s'].double(), sigmoid_kd_ref(s['cls'], t['cls'], w),
                               rtol=1e-4, atol=1e-7)
    mse = (((s['reg'] - t['reg']) ** 2).mean(1) * w).sum() / w.sum()
    torch.testing.assert_close(losses['distill.loss_fcfd_reg_s'], mse, rtol=1e-4, atol=1e-7)
    assert losses['distill.loss_fcfd_reg_s'] > 0


def test_sabl_buckets_are_a_softmax_per_side_and_offsets_an_mse():
    alg = build_pair(small_model_cfg(SABL))
    side = alg.student.bbox_head.side_num
    assert alg.fcfd_neck.output_losses['bucket'].num_bins == side
    losses, t, s, _ = loss_and_reference_rows(alg, partial(expected_rows, SABL))
    w = torch.sigmoid(t['cls']).max(1).values.double()
    n = t['bucket'].shape[0]
    # the bucketing coder decodes each side's buckets with a softmax over (N * 4, side_num), side-major
    p_t = torch.softmax(t['bucket'].double().view(n, 4, side), -1)
    log_p_s = torch.log_softmax(s['bucket'].double().view(n, 4, side), -1)
    kl = (p_t * (p_t.log() - log_p_s)).sum(-1).mean(-1)
    torch.testing.assert_close(losses['distill.loss_fcfd_bucket_s'].double(), (kl * w).sum() / w.sum(), rtol=1e-4,
                               atol=1e-7)
    mse = (((s['offset'] - t['offset']).double() ** 2).mean(1) * w).sum() / w.sum()
    torch.testing.assert_close(losses['distill.loss_fcfd_offset_s'].double(), mse, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(losses['distill.loss_fcfd_cls_s'].double(), sigmoid_kd_ref(s['cls'], t['cls'], w),
                               rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize('path', [GA_RETINA, GA_RPN])
def test_guided_anchoring_s_terms_compare_decoded_boxes_and_weight_rows_by_the_anchor_location(path):
    alg = build_pair(small_model_cfg(path))
    with torch.no_grad():  # a teacher head unlike the student's, so that every term is far from 0
        for p in alg.teacher.bbox_head.parameters():
            p.add_(0.1 * torch.randn_like(p))
    losses, t, s, t_feats = loss_and_reference_rows(alg, partial(expected_rows, path))
    w = torch.sigmoid(t['cls']).max(1).values * torch.sigmoid(t['loc'][:, 0])
    for name in ('cls', 'loc'):
        torch.testing.assert_close(losses[f'distill.loss_fcfd_{name}_s'].double(),
                                   sigmoid_kd_ref(s[name], t[name], w), rtol=1e-4, atol=1e-7)
        assert losses[f'distill.loss_fcfd_{name}_s'] > 1e-4
    for name in ('reg', 'shape'):
        mse = (((s[name] - t[name]).double() ** 2).mean(1) * w).sum() / w.sum()
        torch.testing.assert_close(losses[f'distill.loss_fcfd_{name}_s'].double(), mse, rtol=1e-4, atol=1e-7)
        assert losses[f'distill.loss_fcfd_{name}_s'] > 1e-4
    # the raw deltas are not what is compared: the teacher's anchors are shaped by its own branch
    raw = flat(alg.teacher.bbox_head(t_feats)[1], 4)
    assert not torch.allclose(raw, t['reg'])


def test_reppoints_and_sabl_refuse_a_teacher_whose_outputs_mean_something_else():
    from mmrazor.registry import MODELS

    from tests.adapters.families import fcfd_pair_cfg
    student = small_model_cfg(REPPOINTS)
    teacher = copy.deepcopy(student)
    teacher.bbox_head.transform_method = 'minmax'
    with pytest.raises(ValueError, match='RepPoints transform_method.*identically'):
        MODELS.build(fcfd_pair_cfg(student, teacher))
    student = small_model_cfg(SABL)
    teacher = copy.deepcopy(student)
    teacher.bbox_head.bbox_coder.num_buckets = 12
    with pytest.raises(ValueError, match='SABL num_buckets.*identically'):
        MODELS.build(fcfd_pair_cfg(student, teacher))


def test_sabl_faster_rcnn_box_head_buckets_are_compared_per_side_and_a_sabl_cascade_is_not_served():
    """SABL's RoI box head (``SABLHead``) predicts side buckets and offsets instead of deltas: the RoI
    adapter names them ``bucket`` / ``offset`` (softmax KL per side, MSE), not ``reg``. FPN width
    kept (SABLHead's side-aware extractor has its own channel settings)."""
    from fcfd_mm.adapters import CascadeRoIHeadAdapter
    alg = build_pair(small_model_cfg('sabl/sabl-faster-rcnn_r50_fpn_1x_coco.py', width=256))
    assert type(alg.head_adapter).__name__ == 'RoIBoxHeadAdapter'
    side = alg.student.roi_head.bbox_head.side_num
    data = random_batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    assert {'distill.loss_fcfd_bucket_s', 'distill.loss_fcfd_offset_s'} <= set(losses)
    assert not any('_reg_' in k for k in losses if k.startswith('distill.'))
    rois = alg.fcfd_recorders.get_recorder('roi_extractor').get_record_data(0, 1)

    def box_head(model):
        rh = model.roi_head
        feats = model.extract_feat(data['inputs'])
        return rh.bbox_head(rh.bbox_roi_extractor(tuple(feats)[:rh.bbox_roi_extractor.num_inputs], rois))
    with torch.no_grad():
        _, (t_bucket, t_offset) = box_head(alg.teacher)
        _, (s_bucket, s_offset) = box_head(alg.student)
    p_t = torch.softmax(t_bucket.double().view(-1, 4, side), -1)
    kl = (p_t * (p_t.log() - torch.log_softmax(s_bucket.double().view(-1, 4, side), -1))).sum(-1).mean(-1).mean()
    torch.testing.assert_close(losses['distill.loss_fcfd_bucket_s'].double(), kl, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(losses['distill.loss_fcfd_offset_s'], ((s_offset - t_offset) ** 2).mean(),
                               rtol=1e-4, atol=1e-7)
    from mmdet.registry import MODELS
    cascade = MODELS.build(small_model_cfg('sabl/sabl-cascade-rcnn_r50_fpn_1x_coco.py', width=256))
    assert not CascadeRoIHeadAdapter.supports(cascade)
