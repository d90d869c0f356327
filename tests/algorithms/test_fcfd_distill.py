"""FCFDDistill at the FPN switch point: every loss term against an independent computation,
gradient routing, frozen teacher, untouched teacher statistics, and clear errors."""
import copy

import pytest
import torch
import torch.nn.functional as F

from tests.tiny_models import batch, build_fcfd, fcfd_cfg, tiny_detector_cfg

FCFD_KEYS_FRCNN = {f'distill.loss_fcfd_{o}_{p}' for o in ('cls', 'reg') for p in ('s', 'st', 'ts')} | {
    'distill.loss_fcfd_app'}


# ---------------------------------------------------------------- independent reference maths
def bridge_ref(bridge, x):
    """conv -> batch-statistics BN -> optional LeakyReLU(0.1), with functional ops."""
    conv, bn = bridge.block.conv, bridge.block.norm
    if isinstance(conv, torch.nn.ConvTranspose2d):
        y = F.conv_transpose2d(x, conv.weight, conv.bias, stride=conv.stride, padding=conv.padding)
    else:
        y = F.conv2d(x, conv.weight, conv.bias, stride=conv.stride, padding=conv.padding)
    mean, var = y.mean(dim=(0, 2, 3), keepdim=True), y.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    y = (y - mean) / torch.sqrt(var + bn.eps) * bn.weight[None, :, None, None] + bn.bias[None, :, None, None]
    return F.leaky_relu(y, 0.1) if bridge.block.with_activation else y


def kl_ref(z_s, z_t, tau):
    p_t = torch.softmax(z_t / tau, dim=1)
    return tau ** 2 * (p_t * (torch.log(p_t) - torch.log_softmax(z_s / tau, dim=1))).sum(1).mean()


def sigmoid_kd_ref(z_s, z_t, tau, w=None):
    p_t, p_s = torch.sigmoid(z_t / tau).double(), torch.sigmoid(z_s / tau).double()
    kl = (p_t * torch.log(p_t / p_s) + (1 - p_t) * torch.log((1 - p_t) / (1 - p_s))).sum(1)
    per = kl if w is None else kl * w.double()
    return (tau ** 2 * (per.sum() / (len(kl) if w is None else w.double().sum()))).float()


def mse_ref(a, b, w=None):
    if w is None:
        return ((a - b) ** 2).mean()
    return (((a - b) ** 2).mean(1) * w).sum() / w.sum()


def roi_head_ref(model, feats, rois):
    rh = model.roi_head
    cls, reg = rh.bbox_head(rh.bbox_roi_extractor(tuple(feats[:rh.bbox_roi_extractor.num_inputs]), rois))
    return cls, reg


def dense_head_ref(model, feats):
    cls_l, reg_l = model.bbox_head(tuple(feats))
    c = model.bbox_head.num_classes
    cls = torch.cat([t.permute(0, 2, 3, 1).reshape(t.shape[0], -1, c) for t in cls_l], 1).reshape(-1, c)
    reg = torch.cat([t.permute(0, 2, 3, 1).reshape(t.shape[0], -1, 4) for t in reg_l], 1).reshape(-1, 4)
    return cls, reg


# ---------------------------------------------------------------- values
def test_frcnn_every_term_matches_the_formula():
    tau = 2.0
    alg = build_fcfd('frcnn', dict(neck=dict(
        path_weights=dict(s=1.0, st=0.5, ts=2.0),
        appearance_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=0.7),
        output_losses=dict(cls=dict(type='KLDivergence', tau=tau, loss_weight=1.0),
                           reg=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=3.0)))))
    data = batch(alg)
    losses = alg.loss(data["inputs"], data["data_samples"])
    assert FCFD_KEYS_FRCNN <= set(losses)
    assert {k for k in losses if k.startswith('student.')} >= {'student.loss_cls', 'student.loss_rpn_cls'}

    rois = alg.fcfd_recorders.get_recorder('roi_extractor').get_record_data(0, 1)
    assert rois.shape[1] == 5 and rois.shape[0] == 2 * 32  # the student's sampled RoIs, 32 per image
    x = data['inputs']
    with torch.no_grad():
        t_feats = alg.teacher.extract_feat(x)
        s_feats = alg.student.extract_feat(x)
        bs = [bridge_ref(b, f) for b, f in zip(alg.fcfd_neck.bridges_st, s_feats)]
        bt = [bridge_ref(b, f) for b, f in zip(alg.fcfd_neck.bridges_ts, t_feats)]
        z_t, d_t = roi_head_ref(alg.teacher, t_feats, rois)
        outs = dict(s=roi_head_ref(alg.student, s_feats, rois), st=roi_head_ref(alg.teacher, bs, rois),
                    ts=roi_head_ref(alg.student, bt, rois))
    expected = {'distill.loss_fcfd_app': 0.7 * sum(mse_ref(b, t) for b, t in zip(bs, t_feats))}
    for path, w in dict(s=1.0, st=0.5, ts=2.0).items():
        expected[f'distill.loss_fcfd_cls_{path}'] = w * kl_ref(outs[path][0], z_t, tau)
        expected[f'distill.loss_fcfd_reg_{path}'] = w * 3.0 * mse_ref(outs[path][1], d_t)
    assert len(bs) == 5 and z_t.shape[1] == 5 and d_t.shape[1] == 16  # P2-P6; 4 classes + bg; 4x4 deltas
    assert len(bt) == 4  # B_ts only where the student's RoI extractor reads (P2-P5)
    for key, value in expected.items():
        torch.testing.assert_close(losses[key].detach(), value, rtol=1e-4, atol=1e-6, msg=key)
        assert value > 0, key


@pytest.mark.parametrize('weighting', [None, 'teacher_score'])
def test_retinanet_every_term_matches_the_formula(weighting):
    tau = 3.0
    alg = build_fcfd('retina', dict(
        head=dict(type='DenseHeadAdapter', anchor_weighting=weighting), neck=dict(
            paths=('s', 'st', 'ts'), output_losses=dict(cls=dict(type='SigmoidKDLoss', tau=tau, loss_weight=1.5),
                                                        reg=dict(type='WeightedMSELoss', loss_weight=2.0)))))
    data = batch(alg)
    losses = alg.loss(data["inputs"], data["data_samples"])
    x = data['inputs']
    with torch.no_grad():
        t_feats = alg.teacher.extract_feat(x)
        s_feats = alg.student.extract_feat(x)
        bs = [bridge_ref(b, f) for b, f in zip(alg.fcfd_neck.bridges_st, s_feats)]
        bt = [bridge_ref(b, f) for b, f in zip(alg.fcfd_neck.bridges_ts, t_feats)]
        z_t, d_t = dense_head_ref(alg.teacher, t_feats)
        outs = dict(s=dense_head_ref(alg.student, s_feats), st=dense_head_ref(alg.teacher, bs),
                    ts=dense_head_ref(alg.student, bt))
    w = torch.sigmoid(z_t).max(1).values if weighting else None
    assert len(bs) == 5 and z_t.shape == (2 * 9 * sum(s * s for s in (8, 4, 2, 1, 1)), 4)  # P3-P7, 9 anchors
    # the dense families' default appearance term: the MSE relative to the teacher's mean square
    expected = {'distill.loss_fcfd_app': sum(mse_ref(b, t) / t.pow(2).mean() for b, t in zip(bs, t_feats))}
    for path in ('s', 'st', 'ts'):
        expected[f'distill.loss_fcfd_cls_{path}'] = 1.5 * sigmoid_kd_ref(outs[path][0], z_t, tau, w)
        expected[f'distill.loss_fcfd_reg_{path}'] = 2.0 * mse_ref(outs[path][1], d_t, w)
    assert set(expected) == {k for k in losses if 'fcfd' in k}
    for key, value in expected.items():
        torch.testing.assert_close(losses[key].detach(), value, rtol=1e-4, atol=1e-6, msg=key)
        assert value > 0, key


def test_dense_families_are_scale_free_by_default_and_faster_rcnn_keeps_the_official_setting():
    retina, frcnn = build_fcfd('retina'), build_fcfd('frcnn')
    assert retina.fcfd_neck.bridge_init == 'receiver_statistics'
    assert type(retina.fcfd_neck.appearance_loss).__name__ == 'RelativeMSELoss'
    assert frcnn.fcfd_neck.bridge_init is None and not hasattr(frcnn.fcfd_neck, 'bridges_started')
    assert type(frcnn.fcfd_neck.appearance_loss).__name__ == 'L2Loss'
    plain = build_fcfd('retina', dict(neck=dict(bridge_init=None, appearance_loss=dict(type='L2Loss'))))
    assert plain.fcfd_neck.bridge_init is None and type(plain.fcfd_neck.appearance_loss).__name__ == 'L2Loss'
    with pytest.raises(ValueError, match="bridge_init='receiver'.*'receiver_statistics'"):
        build_fcfd('retina', dict(neck=dict(bridge_init='receiver')))


def test_bridges_start_from_the_receivers_statistics_on_the_first_training_step_only():
    alg = build_fcfd('retina')
    neck = alg.fcfd_neck
    data = batch(alg)
    alg.eval()
    with torch.no_grad():
        alg.loss(data['inputs'], data['data_samples'])  # not a training step: nothing starts
    assert not bool(neck.bridges_started)
    alg.train()
    alg.loss(data['inputs'], data['data_samples'])
    assert bool(neck.bridges_started)
    with torch.no_grad():
        t_feats, s_feats = alg.teacher.extract_feat(data['inputs']), alg.student.extract_feat(data['inputs'])
        for sent, received, bridges in ((s_feats, t_feats, neck.bridges_st), (t_feats, s_feats, neck.bridges_ts)):
            for lv, b in enumerate(bridges):  # BN scale and shift = the receiver's channel std and mean
                norm = b.block.norm
                torch.testing.assert_close(norm.bias, received[lv].mean((0, 2, 3)))
                torch.testing.assert_close(norm.weight, received[lv].std((0, 2, 3)).clamp(min=1e-3))
                torch.testing.assert_close(bridge_ref(b, sent[lv]).mean((0, 2, 3)), received[lv].mean((0, 2, 3)),
                                           rtol=1e-3, atol=1e-4)
    trained = [b.block.norm.weight.detach().clone() for b in neck.bridges_st]
    alg.loss(data['inputs'], data['data_samples'])  # a later step does not start them again
    assert all(torch.equal(b.block.norm.weight, w) for b, w in zip(neck.bridges_st, trained))


def test_a_checkpoint_without_the_start_flag_keeps_its_bridges_and_a_plain_switch_loads_a_started_one():
    alg = build_fcfd('retina')
    state = alg.state_dict()
    assert 'fcfd_neck.bridges_started' in state
    earlier = {k: v for k, v in state.items() if k != 'fcfd_neck.bridges_started'}  # before bridge_init existed
    fresh = build_fcfd('retina', seed=1)
    fresh.load_state_dict(earlier, strict=True)
    assert bool(fresh.fcfd_neck.bridges_started)  # trained bridges: not started again
    plain = build_fcfd('retina', dict(neck=dict(bridge_init=None)), seed=1)
    plain.load_state_dict(state, strict=True)


def test_retinanet_default_paths_are_s_st_and_ts():
    alg = build_fcfd('retina')
    losses = alg.loss(*batch(alg).values())
    assert {k for k in losses if 'fcfd' in k} == {'distill.loss_fcfd_app'} | {
        f'distill.loss_fcfd_{o}_{p}' for o in ('cls', 'reg') for p in ('s', 'st', 'ts')}


# ---------------------------------------------------------------- gradients and frozen teacher
def _grads(loss, params):
    return torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)


def _has_grad(loss, module):
    params = [p for p in module.parameters() if p.requires_grad]
    return any(g is not None and g.abs().sum() > 0 for g in _grads(loss, params))


@pytest.mark.parametrize('family', ['frcnn', 'retina'])
def test_gradient_routing(family):
    alg = build_fcfd(family, dict(neck=dict(paths=('s', 'st', 'ts'))) if family == 'retina' else None)
    losses = alg.loss(*batch(alg).values())
    s, f = alg.student, alg.fcfd_neck
    head = s.roi_head if family == 'frcnn' else s.bbox_head
    st = losses['distill.loss_fcfd_cls_st'] + losses['distill.loss_fcfd_reg_st']
    ts = losses['distill.loss_fcfd_cls_ts'] + losses['distill.loss_fcfd_reg_ts']
    app = losses['distill.loss_fcfd_app']
    # S->T: through the frozen teacher head into B_st, the student neck and backbone; not the student head.
    assert _has_grad(st, f.bridges_st) and _has_grad(st, s.backbone) and _has_grad(st, s.neck)
    assert not _has_grad(st, head) and not _has_grad(st, f.bridges_ts)
    # T->S: into B_ts and the student head only (teacher features carry no graph).
    assert _has_grad(ts, f.bridges_ts) and _has_grad(ts, head)
    assert not _has_grad(ts, s.backbone) and not _has_grad(ts, f.bridges_st)
    assert _has_grad(app, f.bridges_st) and _has_grad(app, s.backbone) and not _has_grad(app, head)
    assert all(not p.requires_grad for p in alg.teacher.parameters())
    alg.parse_losses(losses)[0].backward()
    assert all(p.grad is None for p in alg.teacher.parameters())


@pytest.mark.parametrize('family', ['frcnn', 'retina'])
def test_training_step_leaves_teacher_and_its_statistics_untouched(family):
    from mmengine.optim import OptimWrapper
    alg = build_fcfd(family)
    data = batch(alg)
    t_state = copy.deepcopy(alg.teacher.state_dict())
    s_bn = alg.student.backbone.bn1.running_mean.clone()
    b_weight = alg.fcfd_neck.bridges_st[0].block.conv.weight.detach().clone()
    optim = OptimWrapper(torch.optim.SGD([p for p in alg.parameters() if p.requires_grad], lr=0.01))
    log = alg.train_step(data, optim)
    assert any('fcfd' in k for k in log)
    for k, v in alg.teacher.state_dict().items():
        assert torch.equal(v, t_state[k]), f'teacher {k} changed'
    assert any('running_mean' in k for k in t_state)  # the check covered BN statistics
    assert not torch.equal(alg.student.backbone.bn1.running_mean, s_bn)  # the student does train
    assert not torch.equal(alg.fcfd_neck.bridges_st[0].block.conv.weight, b_weight)  # and the bridges


def test_prediction_is_the_students():
    alg = build_fcfd('frcnn')
    alg.eval()
    data = batch(alg)
    with torch.no_grad():
        got = alg(data['inputs'], copy.deepcopy(data['data_samples']), mode='predict')
        ref = alg.student(data['inputs'], copy.deepcopy(data['data_samples']), mode='predict')
    assert torch.equal(got[0].pred_instances.bboxes, ref[0].pred_instances.bboxes)


def test_stop_distillation_drops_fcfd_terms_and_keeps_every_parameter_in_the_graph():
    alg = build_fcfd('frcnn')
    alg.distillation_stopped = True
    losses = alg.loss(*batch(alg).values())
    fcfd_keys = [k for k in losses if 'fcfd' in k]
    assert fcfd_keys == ['distill.loss_fcfd_stopped'] and losses['distill.loss_fcfd_stopped'].item() == 0
    alg.parse_losses(losses)[0].backward()
    assert all(p.grad is not None for p in alg.fcfd_neck.parameters())


def test_inherit_copies_teacher_neck_and_heads():
    from mmrazor.registry import MODELS
    cfg = fcfd_cfg('frcnn', inherit_teacher=('neck', 'rpn_head', 'roi_head'))
    cfg['architecture'] = tiny_detector_cfg('frcnn', 16, fpn_channels=32)  # same neck shapes
    alg = MODELS.build(cfg)
    alg.init_weights()
    for name in ('neck', 'rpn_head', 'roi_head'):
        s, t = getattr(alg.student, name).state_dict(), getattr(alg.teacher, name).state_dict()
        assert all(torch.equal(s[k], t[k]) for k in s)


# ---------------------------------------------------------------- bad input
def test_inherit_with_different_shapes_is_refused():
    from mmrazor.registry import MODELS
    alg = MODELS.build(fcfd_cfg('frcnn', inherit_teacher=('neck',)))  # FPN channels 24 vs 32
    with pytest.raises(ValueError, match='identical shapes'):
        alg.copy_teacher_into_student()


def test_missing_teacher_checkpoint_is_named(tmp_path):
    from mmrazor.registry import MODELS
    with pytest.raises(FileNotFoundError, match='teacher_ckpt .*does not exist'):
        MODELS.build(fcfd_cfg('frcnn', teacher_ckpt=str(tmp_path / 'nope.pth')))


def test_unloadable_teacher_checkpoint_is_reported(tmp_path):
    from mmrazor.registry import MODELS
    bad = tmp_path / 'broken.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(RuntimeError, match='teacher_ckpt .*could not be loaded'):
        MODELS.build(fcfd_cfg('frcnn', teacher_ckpt=str(bad)))


ZOO_URL = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/tiny/tiny_teacher_20200130-f513f705.pth'


@pytest.fixture
def zoo_served_locally(tmp_path, monkeypatch):
    """torch.hub's download served from a local file (no network): mmengine's http loader, torch's
    hub cache and the project's safe loading all run as for a real model-zoo URL."""
    import shutil
    served = {}
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, 'download_url_to_file',
                        lambda url, dst, *a, **k: shutil.copy(served[url], dst))
    return served


def test_a_model_zoo_url_teacher_loads_strictly_through_mmengine(tmp_path, zoo_served_locally):
    from mmrazor.registry import MODELS
    reference = build_fcfd('frcnn', seed=3).teacher
    zoo_served_locally[ZOO_URL] = tmp_path / 'served.pth'
    torch.save({'state_dict': reference.state_dict(), 'meta': {'CLASSES': ('a', 'b', 'c', 'd')}},
               zoo_served_locally[ZOO_URL])
    torch.manual_seed(0)
    alg = MODELS.build(fcfd_cfg('frcnn', teacher_ckpt=ZOO_URL))
    alg.init_weights()  # the loaded teacher must survive the runner's weight init
    for k, v in reference.state_dict().items():
        assert torch.equal(v, alg.teacher.state_dict()[k]), k
    assert alg.teacher_ckpt_meta == {'CLASSES': ('a', 'b', 'c', 'd')}
    assert (tmp_path / 'torch_home' / 'hub' / 'checkpoints' / ZOO_URL.rsplit('/', 1)[1]).is_file()


@pytest.mark.parametrize('scheme, urls', [('open-mmlab://', 'get_external_models'),
                                          ('torchvision://', 'get_torchvision_models')])
def test_a_teacher_checkpoint_of_any_loader_scheme_loads(scheme, urls, tmp_path, zoo_served_locally, monkeypatch):
    """``open-mmlab://`` and ``torchvision://`` teacher checkpoints, which MMEngine's CheckpointLoader
    loads, reach it (they were refused as missing files): here their names map to a served URL."""
    import mmengine.runner.checkpoint as mmengine_checkpoint
    from mmrazor.registry import MODELS
    reference = build_fcfd('frcnn', seed=3).teacher
    zoo_served_locally[ZOO_URL] = tmp_path / 'served.pth'
    torch.save({'state_dict': reference.state_dict()}, zoo_served_locally[ZOO_URL])
    monkeypatch.setattr(mmengine_checkpoint, urls, lambda: {'tiny_teacher': ZOO_URL})
    alg = MODELS.build(fcfd_cfg('frcnn', teacher_ckpt=f'{scheme}tiny_teacher'))
    for k, v in reference.state_dict().items():
        assert torch.equal(v, alg.teacher.state_dict()[k]), k


def test_a_model_zoo_url_of_another_architecture_is_refused(tmp_path, zoo_served_locally):
    from mmrazor.registry import MODELS
    zoo_served_locally[ZOO_URL] = tmp_path / 'served.pth'
    torch.save({'state_dict': build_fcfd('frcnn').student.state_dict()}, zoo_served_locally[ZOO_URL])
    with pytest.raises(RuntimeError, match='teacher_ckpt .*could not be loaded'):
        MODELS.build(fcfd_cfg('frcnn', teacher_ckpt=ZOO_URL))


def test_class_count_mismatch_is_refused():
    from mmrazor.registry import MODELS
    cfg = fcfd_cfg('frcnn')
    cfg['teacher'] = tiny_detector_cfg('frcnn', 16, num_classes=80)
    with pytest.raises(ValueError, match='number of classes'):
        MODELS.build(cfg)


def test_unsupported_detector_is_refused():
    from mmrazor.registry import MODELS

    from fcfd_mm.adapters import UnsupportedModelError
    from tests.adapters.families import small_model_cfg
    cfg = fcfd_cfg('frcnn')
    # a SABL cascade: its stage box heads predict side buckets, which no built-in adapter serves
    cfg['architecture'] = small_model_cfg('sabl/sabl-cascade-rcnn_r50_fpn_1x_coco.py', width=256)
    with pytest.raises(UnsupportedModelError, match='no adapter for CascadeRCNN'):
        MODELS.build(cfg)
    cfg['fcfd'] = dict(head=dict(type='DenseHeadAdapter'))
    with pytest.raises(UnsupportedModelError, match='RetinaNet'):
        MODELS.build(cfg)


def test_bridge_channel_mismatch_is_refused():
    from mmrazor.registry import MODELS
    with pytest.raises(ValueError, match='bridge in_channels=64 does not match'):
        MODELS.build(fcfd_cfg('frcnn', dict(neck=dict(bridge=dict(type='FCFDBridge', in_channels=64)))))


def test_unknown_path_is_refused():
    from mmrazor.registry import MODELS
    with pytest.raises(ValueError, match='unknown path'):
        MODELS.build(fcfd_cfg('frcnn', dict(neck=dict(paths=('s', 'tt')))))


def test_flat_fcfd_settings_are_pointed_to_fcfd_neck():
    from mmrazor.registry import MODELS
    with pytest.raises(ValueError, match='go under fcfd.neck'):
        MODELS.build(fcfd_cfg('frcnn', dict(paths=('s',))))


def test_an_output_loss_without_row_weights_under_weighted_rows_names_the_fix():
    """Row weights reach the output losses as mmdet's weight / avg_factor; MMRazor's KL takes neither."""
    alg = build_fcfd('retina', dict(head=dict(type='DenseHeadAdapter', anchor_weighting='teacher_score'), neck=dict(
        output_losses=dict(cls=dict(type='KLDivergence', tau=1.0), reg=dict(type='WeightedMSELoss')))))
    with pytest.raises(TypeError, match="'cls' \\(KLDivergence\\) takes no row weights.*anchor_weighting=None"):
        alg.loss(*batch(alg).values())
