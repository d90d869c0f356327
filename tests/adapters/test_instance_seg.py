"""The detection part of one-stage instance segmentors (fcfd_mm/adapters/heads/instance_seg.py):
CondInst's and YOLACT's box heads, SOLO's / SOLOv2's category grid, on small models of mmdet's own
configs: ``run_head`` is mmdet's head forward in either mode, ``predict_on_features`` is the
detector's predict (boxes and masks), and the ``s`` terms by hand with the teacher-score weights."""
import copy
from functools import partial

import pytest
import torch

from tests.adapters.families import (
    assert_predict_on_features_is_the_detectors,
    build_pair,
    family_cfg,
    flat,
    flat_priors,
    loss_and_reference_rows,
    random_batch,
    sigmoid_kd_ref,
    softmax_kl_ref,
)

CONDINST = 'condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py'
YOLACT = 'yolact/yolact_r50_1xb8-55e_coco.py'
SOLO = 'solo/solo_r50_fpn_1x_coco.py'
SOLOV2 = 'solov2/solov2_r50_fpn_1x_coco.py'
ALL = [CONDINST, YOLACT, SOLO, SOLOV2]


def dense_head(path, model):
    return model.mask_head if path in (SOLO, SOLOV2) else model.bbox_head


def expected_rows(path, model, feats):
    """The rows by hand from mmdet's own forward in the head's current mode."""
    head = dense_head(path, model)
    outs = head(tuple(feats))
    c = head.num_classes
    if path == CONDINST:  # FCOS: stride units (in training with norm_on_bbox mmdet already gives them)
        strides = [s[0] for s in head.prior_generator.strides]
        reg = outs[1] if (head.norm_on_bbox and head.training) else [r / s for r, s in zip(outs[1], strides)]
        return dict(cls=flat(outs[0], c), reg=flat(reg, 4), centerness=flat(outs[2], 1))
    if path == YOLACT:  # C + 1 softmax logits and 4 deltas per anchor; coefficients left out
        return dict(cls=flat_priors(outs[0], c + 1), reg=flat_priors(outs[1], 4))
    if path == SOLO and not head.training:  # probabilities after the local-maximum filter -> logits
        return dict(cls=flat([torch.logit(p, eps=1e-6) for p in outs[1]], c))
    return dict(cls=flat(outs[1], c))  # the category grids, cells as rows


def level_sizes(path, model, feats):
    """Rows per image of each level: grid cells (SOLO), locations x anchors (the others)."""
    head = dense_head(path, model)
    if path in (SOLO, SOLOV2):
        return [s * s for s in head.num_grids]
    return [f.shape[-2] * f.shape[-1] * head.num_base_priors for f in feats[:len(head.prior_generator.strides)]]


@pytest.mark.parametrize('path', ALL)
def test_run_head_is_mmdets_head_forward_in_either_mode(path):
    from fcfd_mm.adapters import LevelContext
    alg = build_pair(family_cfg(path))
    adapter, model = alg.head_adapter, alg.teacher
    x = random_batch(alg)['inputs']
    with torch.no_grad():
        feats = model.extract_feat(x)
        got = adapter.run_head(model, feats, LevelContext())
        want = expected_rows(path, model, feats)
        dense_head(path, model).eval()
        got_eval = adapter.run_head(model, feats, LevelContext())
        want_eval = expected_rows(path, model, feats)
        sub = adapter.run_head(model, feats, LevelContext((1,)))
        alg.train()
    assert set(got) == set(want) == set(got_eval)
    for name in want:
        torch.testing.assert_close(got[name], want[name])
        torch.testing.assert_close(got_eval[name], want_eval[name])
    sizes = level_sizes(path, model, feats)
    assert got['cls'].shape[0] == x.shape[0] * sum(sizes)
    full = got_eval['cls'].view(x.shape[0], -1, got['cls'].shape[1])
    torch.testing.assert_close(sub['cls'], full[:, sizes[0]:sizes[0] + sizes[1]].reshape(-1, full.shape[-1]))


@pytest.mark.parametrize('path', ALL)
def test_predict_on_features_is_the_detectors_predict_boxes_and_masks(path):
    assert_predict_on_features_is_the_detectors(build_pair(family_cfg(path)),
                                                keys=('bboxes', 'scores', 'labels', 'masks'))


@pytest.mark.parametrize('path', ALL)
def test_s_terms_by_hand_with_the_teachers_detection_score_as_row_weights(path):
    alg = build_pair(family_cfg(path))
    losses, t, s, _ = loss_and_reference_rows(alg, partial(expected_rows, path), with_mask=True)
    if path == YOLACT:  # softmax, background last: the highest foreground probability
        w = torch.softmax(t['cls'], 1)[:, :-1].max(1).values
        cls_ref = softmax_kl_ref
    else:
        w = torch.sigmoid(t['cls']).max(1).values
        cls_ref = sigmoid_kd_ref
    if path == CONDINST:  # FCOS's predict: max_c p_c * centerness
        w = w * torch.sigmoid(t['centerness'][:, 0])
        torch.testing.assert_close(losses['distill.loss_fcfd_centerness_s'].double(),
                                   sigmoid_kd_ref(s['centerness'], t['centerness'], w), rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(losses['distill.loss_fcfd_cls_s'].double(), cls_ref(s['cls'], t['cls'], w),
                               rtol=1e-4, atol=1e-7)
    if 'reg' in t:
        mse = (((s['reg'] - t['reg']) ** 2).mean(1) * w).sum() / w.sum()
        torch.testing.assert_close(losses['distill.loss_fcfd_reg_s'], mse, rtol=1e-4, atol=1e-7)


def test_boxinst_box_head_is_served_as_condinsts():
    """BoxInst's box head is CondInst's (``BoxInstBboxHead`` subclasses it and changes nothing): the
    adapter serves it (the BoxInst detector itself needs scikit-image's colour conversion to build)."""
    from mmdet.models.dense_heads import BoxInstBboxHead
    from mmdet.registry import MODELS

    from fcfd_mm.adapters import CondInstHeadAdapter
    cfg = family_cfg(CONDINST)
    model = MODELS.build(cfg)
    assert CondInstHeadAdapter.supports(model)
    head_cfg = dict(cfg.bbox_head, type='BoxInstBboxHead', _scope_='mmdet')
    model.bbox_head = MODELS.build(head_cfg)
    assert type(model.bbox_head) is BoxInstBboxHead and CondInstHeadAdapter.supports(model)


def test_solo_pair_with_different_grids_or_heads_is_refused():
    from mmrazor.registry import MODELS

    from tests.adapters.families import fcfd_pair_cfg
    student = family_cfg(SOLO)
    teacher = copy.deepcopy(student)
    teacher.mask_head.num_grids = [36, 32, 20, 12, 8]
    with pytest.raises(ValueError, match='SOLO num_grids.*cell by cell'):
        MODELS.build(fcfd_pair_cfg(student, teacher))
