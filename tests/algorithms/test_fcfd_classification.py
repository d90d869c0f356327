"""FCFD for image classifiers (docs/method.md, "Loss terms at the stage switch points"): the total
loss for a fixed set of sampled paths
against an independent computation, ghost BN with a train-mode teacher, and clear errors."""
import copy

import pytest
import torch
import torch.nn.functional as F

from tests.algorithms.test_fcfd_distill import bridge_ref, kl_ref, mse_ref
from tests.algorithms.test_fcfd_stages import set_progress


def classifier(arch_cfg, feat_dim):
    return dict(_scope_='mmpretrain', type='ImageClassifier', backbone=arch_cfg,
                neck=dict(type='ReLUGlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=100, in_channels=feat_dim,
                          loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


def cls_cfg(student, teacher, stages=None, **kw):
    from fcfd_mm.models.zoo import REPDISTILLER_FEAT_DIM as D
    from fcfd_mm.models.zoo import REPDISTILLER_MODELS as M
    cfg = dict(_scope_='mmrazor', type='FCFDDistill',
               data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=100),
               architecture=classifier(M[student], D[student]), teacher=classifier(M[teacher], D[teacher]),
               teacher_norm_eval=False, fcfd=dict(head=dict(type='ClassifierHeadAdapter'), stages=stages or {}))
    cfg.update(kw)
    return cfg


def build(student, teacher, stages=None, **kw):
    from mmrazor.registry import MODELS
    torch.manual_seed(0)
    alg = MODELS.build(cls_cfg(student, teacher, stages, **kw))
    alg.init_weights()
    alg.train()
    return alg


def cls_batch(alg, n=4):
    from mmpretrain.structures import DataSample
    torch.manual_seed(1)
    x = torch.randint(0, 255, (n, 3, 32, 32)).float()
    labels = [3, 7, 11, 99][:n]
    return alg.data_preprocessor(dict(inputs=list(x), data_samples=[DataSample().set_gt_label(y) for y in labels]),
                                 True), torch.tensor(labels)


def pool(x):
    return F.adaptive_avg_pool2d(F.relu(x), 1).flatten(1)


def run_after(model, k, h):
    """Stages k+1..N by hand (the ModuleList, not forward_from)."""
    outs = []
    for stage in model.backbone.stages[k + 1:]:
        h = stage(h)
        outs.append(h)
    return outs


def logits(model, feat):
    return model.head.fc(pool(feat))


PAIRS = [('resnet20', 'resnet56'), ('MobileNetV2', 'vgg13')]


@pytest.mark.parametrize('student,teacher', PAIRS)
def test_total_loss_matches_the_formula_for_the_sampled_paths(student, teacher):
    tau, lam, mu, epoch, it = 4.0, 5.0, 0.2, 3, 17
    alg = build(student, teacher, dict(num_paths=2, l2_weight=lam, mixture_weight=mu, seed=11,
                                       l2_warmup=dict(length=20, by_epoch=True),
                                       output_losses=dict(cls=dict(type='KLDivergence', tau=tau))))
    set_progress(alg, epoch=epoch, it=it)
    data, labels = cls_batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    total, _ = alg.parse_losses(losses)
    paths = alg.fcfd_stages.draw(it)
    n = alg.fcfd_stages.num_positions
    assert len(paths) == 2 and all(k < n for k, _ in paths)  # no switch after position N

    st, s, t = alg.fcfd_stages, alg.student, alg.teacher
    x = data['inputs']
    with torch.no_grad():
        t_pos = list(t.backbone(x))
        z_t = logits(t, t_pos[-1])
        s_pos = list(s.backbone(x))
        z_s = logits(s, s_pos[-1])
        bs = {i: bridge_ref(st.bridges_st[str(i)], s_pos[i - 1]) for i in range(1, n + 1)}
        mse = [mse_ref(bs[i], t_pos[i - 1]) for i in range(1, n + 1)] + [mse_ref(pool(bs[n]), pool(t_pos[-1]))]
        kls = []
        for k, d in paths:
            if d == 'st':
                later = run_after(t, k, bs[k])
                mse += [mse_ref(h, t_pos[j - 1]) for j, h in zip(range(k + 1, n + 1), later)]
                mse.append(mse_ref(pool(later[-1]), pool(t_pos[-1])))
                kls.append(kl_ref(logits(t, later[-1]), z_t, tau))
            else:
                later = run_after(s, k, bridge_ref(st.bridges_ts[str(k)], t_pos[k - 1]))
                kls.append(kl_ref(logits(s, later[-1]), z_t, tau))
        r = min(1.0, (epoch + 1) / 20)
        expected = F.cross_entropy(z_s, labels) + kl_ref(z_s, z_t, tau) + lam * r * sum(mse) + mu * sum(kls)
    torch.testing.assert_close(total.detach(), expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(losses['distill.loss_fcfd_stage_cls_s'].detach(), kl_ref(z_s, z_t, tau),
                               rtol=1e-4, atol=1e-6)
    assert set(losses) >= {'student.loss', 'distill.loss_fcfd_stage_app', 'distill.loss_fcfd_stage_feat',
                           'distill.loss_fcfd_stage_cls_st', 'distill.loss_fcfd_stage_cls_ts'}


def test_ghost_bn_main_statistics_equal_the_pure_paths_with_a_train_mode_teacher():
    alg = build('resnet20', 'resnet56', dict(num_paths=100))
    assert alg.teacher.backbone.stages[1][0].bn1.training  # official: teacher BN in train mode
    set_progress(alg)
    data, _ = cls_batch(alg)
    pure = copy.deepcopy(alg)
    alg.loss(data['inputs'], data['data_samples'])
    with torch.no_grad():
        pure.teacher.backbone(data['inputs'])
    pure.student(data['inputs'], data['data_samples'], mode='loss')
    checked = 0
    for (name, a), (_, b) in zip(alg.named_buffers(), pure.named_buffers()):
        if name.startswith(('architecture.', 'teacher.')) and 'running' in name:
            assert torch.equal(a, b), name
            checked += 1
    assert checked > 40
    assert {key[0] for key in alg.fcfd_stages.ghost_statistics.statistics()} == {'st@1', 'st@2', 'ts@1', 'ts@2'}
    moved = [n for (p, n), (m, v, c) in alg.fcfd_stages.ghost_statistics.statistics().items() if c.item() > 0]
    assert moved  # hybrid passes updated their own statistics


def test_different_number_of_stages_is_refused():
    with pytest.raises(ValueError, match='same number'):
        build('resnet8x4', 'vgg13')


def test_nonexistent_position_is_refused():
    with pytest.raises(ValueError, match=r'position\(s\) \[4\] do not exist'):
        build('resnet20', 'resnet56', dict(positions=(1, 4)))


def test_unsupported_resolution_ratio_is_refused():
    from mmpretrain.registry import MODELS as PRETRAIN

    from fcfd_mm.models.staged import StagedBackbone

    @PRETRAIN.register_module(force=True)
    class TestStrided(StagedBackbone):
        receives_post_relu = True

        def __init__(self, strides=(1, 2, 2), init_cfg=None):
            super().__init__(init_cfg)
            self.stages.append(torch.nn.Conv2d(3, 8, 3, padding=1))
            self.stages.extend(torch.nn.Conv2d(8, 8, 3, stride=s, padding=1) for s in strides)

    from mmrazor.registry import MODELS
    cfg = cls_cfg('resnet20', 'resnet56')
    cfg['architecture']['backbone'] = dict(type='TestStrided', strides=(4, 1, 1))
    cfg['architecture']['head']['in_channels'] = 8
    with pytest.raises(ValueError, match='position 1 .*resolution ratio 4'):
        MODELS.build(cfg)
