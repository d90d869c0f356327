"""Hybrid-network predictions (``FCFDDistill.predict_hybrid``) against hand-composed forwards."""
import copy

import pytest
import torch

from tests.tiny_models import batch, bn_statistics, build_fcfd


def _boxes(samples):
    return [(s.pred_instances.bboxes, s.pred_instances.scores, s.pred_instances.labels) for s in samples]


def _assert_same(got, want):
    assert len(got) == len(want)
    for (gb, gs, gl), (wb, ws, wl) in zip(_boxes(got), _boxes(want)):
        assert gb.shape[0] > 0
        torch.testing.assert_close(gb, wb)
        torch.testing.assert_close(gs, ws)
        assert torch.equal(gl, wl)


def _predict_with_features(model, inputs, samples, feats):
    """``model.predict`` (mmdet's own detector code) with its ``extract_feat`` replaced by ``feats``."""
    model.extract_feat = lambda x: tuple(feats)
    try:
        return model.predict(inputs, samples)
    finally:
        del model.extract_feat


@pytest.mark.parametrize('family', ['frcnn', 'retina'])
def test_fpn_hybrids_equal_the_receiving_detectors_predict_on_bridged_features(family):
    alg = build_fcfd(family)
    alg.eval()
    data = batch(alg)
    x, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        s_feats, t_feats = alg.student.extract_feat(x), alg.teacher.extract_feat(x)
        neck = alg.fcfd_neck
        st_feats = [b(f) for b, f in zip(neck.bridges_st, s_feats)]
        want_st = _predict_with_features(alg.teacher, x, copy.deepcopy(samples), st_feats)
        # ts: the student's RPN also reads P6, which has no bridge: it takes the student's own P6
        ts_feats = [neck.bridges_ts[lv](t_feats[lv]) if lv < len(neck.bridges_ts) else s_feats[lv]
                    for lv in range(len(s_feats))]
        want_ts = _predict_with_features(alg.student, x, copy.deepcopy(samples), ts_feats)
        _assert_same(alg.predict_hybrid('st', x, copy.deepcopy(samples)), want_st)
        _assert_same(alg.predict_hybrid('ts', x, copy.deepcopy(samples)), want_ts)
        # not the teacher's / student's own prediction
        own = alg.teacher.predict(x, copy.deepcopy(samples))
        assert not torch.allclose(own[0].pred_instances.scores, want_st[0].pred_instances.scores)


def test_stage_hybrid_equals_the_hand_composed_resnet_forward():
    """st@2 of Faster R-CNN: student layer1-2 -> bridges at 1, 2 -> teacher layer3-4 -> teacher FPN
    -> teacher RPN + RoI head."""
    alg = build_fcfd('frcnn', fcfd=dict(stages=dict()))
    alg.eval()
    data = batch(alg)
    x, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        s_pos = alg.student.backbone(x)
        b = alg.fcfd_stages.bridges_st
        p1, p2 = b['1'](s_pos[0]), b['2'](s_pos[1])
        p3 = alg.teacher.backbone.layer3(p2)
        p4 = alg.teacher.backbone.layer4(p3)
        feats = alg.teacher.neck((p1, p2, p3, p4))
        want = _predict_with_features(alg.teacher, x, copy.deepcopy(samples), feats)
        _assert_same(alg.predict_hybrid('st@2', x, copy.deepcopy(samples)), want)


def test_hybrid_names_follow_the_configured_paths():
    alg = build_fcfd('frcnn', fcfd=dict(neck=dict(paths=('s', 'st')), stages=dict(positions=(2, 3), mode='ts')))
    assert alg.hybrid_names() == ['st', 'ts@2', 'ts@3']
    data = batch(alg)
    with pytest.raises(ValueError, match=r"'ts' is not available.*\['st', 'ts@2', 'ts@3'\]"):
        alg.predict_hybrid('ts', data['inputs'], data['data_samples'])


@pytest.mark.parametrize('direction', ['st', 'ts'])
def test_classifier_stage_hybrid_equals_the_hand_composed_forward(direction):
    pytest.importorskip('mmpretrain')
    from tests.algorithms.test_fcfd_classification import build, cls_batch, logits, run_after
    alg = build('resnet20', 'resnet56')
    alg.eval()
    data, _ = cls_batch(alg)
    sender, receiver = (alg.student, alg.teacher) if direction == 'st' else (alg.teacher, alg.student)
    bridges = alg.fcfd_stages.bridges_st if direction == 'st' else alg.fcfd_stages.bridges_ts
    k = 2
    assert f'{direction}@{k}' in alg.hybrid_names()
    with torch.no_grad():
        h = bridges[str(k)](sender.backbone(data['inputs'])[k - 1])
        want = torch.softmax(logits(receiver, run_after(receiver, k, h)[-1]), dim=1)
        got = alg.predict_hybrid(f'{direction}@{k}', data['inputs'], copy.deepcopy(data['data_samples']))
        own = receiver.predict(data['inputs'], copy.deepcopy(data['data_samples']))
    torch.testing.assert_close(torch.stack([s.pred_score for s in got]), want)
    assert [int(s.pred_label) for s in got] == want.argmax(1).tolist()
    assert not torch.allclose(torch.stack([s.pred_score for s in own]), want)


def test_stage_hybrid_scores_with_the_ghost_statistics_its_path_tracked():
    """ts@2 after a training pass of every T->S path (the student's BN trains, as in the demo configs):
    with bn_statistics='ghost' the student's BN layers normalise with path ts@2's ghost statistics, with
    'main' with their own; a hand-composed forward of a student copy holding those statistics agrees,
    and no main or ghost buffer changes."""
    alg = build_fcfd('frcnn', fcfd=dict(neck=None, stages=dict(num_paths=100, mode='ts')))
    alg.set_progress(0, 0)
    data = batch(alg)
    with torch.no_grad():  # (no graph left in the recorders: the student is deep-copied below)
        alg.loss(data['inputs'], data['data_samples'])  # tracks the ghost statistics of every ts path
    ghosts = {layer: stats for (path, layer), stats in alg.fcfd_stages.ghost_statistics.statistics().items()
              if path == 'ts@2'}
    assert any(layer.startswith('backbone.layer3') for layer in ghosts)
    alg.eval()
    x, samples = data['inputs'], data['data_samples']
    before = bn_statistics(alg)  # main and ghost buffers
    assert any('.ghost_statistics.hybrids.ts@2.' in k for k in before)
    with torch.no_grad():
        got_ghost = alg.predict_hybrid('ts@2', x, copy.deepcopy(samples))
        got_main = alg.predict_hybrid('ts@2', x, copy.deepcopy(samples), bn_statistics='main')
        t_pos = alg.teacher.backbone(x)
        b = alg.fcfd_stages.bridges_ts
        p1, p2 = b['1'](t_pos[0]), b['2'](t_pos[1])
        with_ghost = copy.deepcopy(alg.student)
        modules = dict(with_ghost.named_modules())
        for layer, (mean, var, count) in ghosts.items():
            modules[layer].running_mean.copy_(mean)
            modules[layer].running_var.copy_(var)
            modules[layer].num_batches_tracked.copy_(count)
        want = {}
        for key, receiver in (('ghost', with_ghost), ('main', alg.student)):
            p3 = receiver.backbone.layer3(p2)
            feats = receiver.neck((p1, p2, p3, receiver.backbone.layer4(p3)))
            want[key] = _predict_with_features(receiver, x, copy.deepcopy(samples), feats)
    _assert_same(got_ghost, want['ghost'])
    _assert_same(got_main, want['main'])
    assert not all(g.shape == m.shape and torch.allclose(g, m) for (_, g, _), (_, m, _) in
                   zip(_boxes(got_ghost), _boxes(got_main))), 'ghost and main statistics gave the same scores'
    after = bn_statistics(alg)
    assert after.keys() == before.keys()
    for name, value in before.items():
        assert torch.equal(after[name], value), name


def test_bad_bn_statistics_name_the_choices():
    alg = build_fcfd('frcnn', fcfd=dict(neck=None, stages=dict()))
    alg.eval()
    data = batch(alg)
    with pytest.raises(ValueError, match="bn_statistics='mean'.*'ghost'.*'main'"):
        alg.predict_hybrid('st@2', data['inputs'], data['data_samples'], bn_statistics='mean')
