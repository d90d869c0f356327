"""Every shipped config parses; the mission configs build (R101 / R50, no checkpoint) and run a
loss step on a small random batch; the demo configs build their models."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import fcfd_mm  # noqa: F401
from tests.tiny_models import config_loss_step

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
MISSION = ['fcfd_frcnn_r101_r50_coco.py', 'fcfd_frcnn_r101_r50_inherit_coco.py', 'fcfd_retina_r101_r50_coco.py',
           'fcfd_pkd_frcnn_r101_r50_coco.py', 'fcfd_cwd_frcnn_r101_r50_coco.py', 'fcfd_frcnn_r101_r50_coco_fast.py',
           'fcfd_retina_r101_r50_coco_fast.py']
STAGES = ['fcfd_stages_frcnn_r101_r50_coco.py', 'fcfd_stages_fpn_frcnn_r101_r50_coco.py',
          'fcfd_stages_retina_r101_r50_coco.py', 'fcfd_stages_fpn_retina_r101_r50_coco.py',
          'fcfd_stages_frcnn_r50_mobilenetv2_coco.py']
PAIRS = {'fcfd_frcnn_r101_r18_coco.py': ('ResNet', 'ResNet'),  # the paper's other detection pairs
         'fcfd_frcnn_r50_mobilenetv2_coco.py': ('MobileNetV2', 'ResNet')}
ALL = sorted(p.relative_to(CONFIGS).as_posix() for p in CONFIGS.rglob('*.py') if '_base_' not in p.parts)


def test_mission_configs_are_shipped():
    assert set(MISSION) <= set(ALL) and set(STAGES) <= set(ALL) and set(PAIRS) <= set(ALL)


@pytest.mark.parametrize('name', ALL)
def test_config_parses_and_names_registered_types(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert 'model' in cfg and 'train_dataloader' in cfg and 'val_evaluator' in cfg
    if cfg.model.get('type') == 'FCFDDistill':
        assert cfg.custom_imports['imports'] == ['fcfd_mm']
        assert cfg.val_cfg.type in ('mmrazor.SingleTeacherDistillValLoop', 'mmrazor.FCFDValLoop')
        from mmrazor.registry import LOOPS
        assert LOOPS.get(cfg.val_cfg.type) is not None
        if '/demo/' in f'/{name}':  # the demos show the hybrid metrics
            assert cfg.val_cfg.type == 'mmrazor.FCFDValLoop' and cfg.val_cfg.hybrids == 'all'
        # the runtime hooks are on in every FCFD config, and the registry finds them from its scope
        from mmengine.registry import HOOKS, DefaultScope
        hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
        assert {'NonFiniteLossHook', 'FCFDTeacherCheckHook', 'FCFDProgressHook', 'RNGStateHook',
                'ResumeCheckHook'} <= set(hooks)
        assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'  # checkpoints cannot be half-written
        if cfg.train_dataloader.dataset.get('type', '').endswith('CocoDataset'):  # bad images and boxes named
            assert {cfg[f'{s}_dataloader'].dataset.type for s in ('train', 'val', 'test')} == {'CheckedCocoDataset'}
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
            assert all(HOOKS.get(h) is not None for h in hooks)


@pytest.mark.parametrize('name', ['fcfd_frcnn_r101_r50_coco.py', 'fcfd_retina_r101_r50_coco.py',
                                  'fcfd_gfl_r101_r50_coco.py', 'fcfd_fcos_r101_r50_coco.py',
                                  'fcfd_atss_r101_r50_coco.py'])
def test_coco_configs_use_model_zoo_teachers(name):
    url = Config.fromfile(str(CONFIGS / name)).model.teacher_ckpt
    assert url.startswith('https://download.openmmlab.com/mmdetection/v2.0/') and url.endswith('.pth')


@pytest.mark.parametrize('name', ALL)
def test_fcfd_configs_keep_sgd_off_unused_bridges(name):
    """Every FCFD config steps with FCFDUnusedBridgesHook (grad None for bridges a step did not use)."""
    cfg = Config.fromfile(str(CONFIGS / name))
    if cfg.model.get('type') == 'FCFDDistill':
        assert 'FCFDUnusedBridgesHook' in [h['type'] for h in cfg.custom_hooks]
        assert cfg.find_unused_parameters is False


def test_exported_student_config_uses_mmengines_wrapper():
    from fcfd_mm.export import student_config
    cfg = student_config(Config.fromfile(str(CONFIGS / 'demo' / 'fcfd_frcnn_demo.py')))
    assert cfg.optim_wrapper.type == 'OptimWrapper' and cfg.optim_wrapper.clip_grad.max_norm == 10


@pytest.mark.slow
@pytest.mark.parametrize('name', MISSION)
def test_mission_config_builds_and_runs_a_loss_step(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    cfg.model.teacher_ckpt = None
    alg, losses = config_loss_step(cfg.model)
    assert alg.teacher.backbone.depth == 101 and alg.student.backbone.depth == 50
    assert alg.fcfd_neck.bridges_st[0].in_channels == 256 and alg.fcfd_neck.bridges_st[0].out_channels == 256
    assert alg.fcfd_stages is None
    fcfd_keys = {k for k in losses if 'loss_fcfd' in k}
    if name.endswith('_fast.py') and 'frcnn' in name:
        assert alg.head_adapter.consistency_rois == 128
    if name.endswith('_fast.py') and 'retina' in name:
        assert alg.fcfd_neck.levels == (1, 2, 3, 4)
        assert len(fcfd_keys) == 7 and len(alg.fcfd_neck.bridges_ts) == 4
    elif 'frcnn' in name:
        assert len(fcfd_keys) == 7 and len(alg.fcfd_neck.bridges_ts) == 4
    else:  # RetinaNet: paths s, st, ts on P3-P7, anchors weighted by the teacher's score
        assert len(fcfd_keys) == 7 and len(alg.fcfd_neck.bridges_ts) == 5
        assert alg.head_adapter.anchor_weighting == 'teacher_score'
    if 'pkd' in name:
        assert {f'distill.loss_pkd_fpn{i}' for i in range(4)} <= set(losses)
    if 'cwd' in name:  # scale-free FPN switch point + MMRazor's CWD on P2-P6 as its cwd_fpn_frcnn config
        assert {k for k in losses if 'loss_cwd' in k} == {f'distill.loss_cwd_fpn{i}' for i in range(5)}
        assert alg.fcfd_neck.bridge_init == 'receiver_statistics'
        assert type(alg.fcfd_neck.appearance_loss).__name__ == 'RelativeMSELoss'
        cwd = alg.distiller.distill_losses['loss_cwd_fpn0']
        assert (type(cwd).__name__, cwd.tau, cwd.loss_weight) == ('ChannelWiseDivergence', 1, 10)
    elif 'frcnn' in name:  # the official setting
        assert alg.fcfd_neck.bridge_init is None
    if 'inherit' in name:
        assert alg.inherit_teacher == ('neck', 'rpn_head', 'roi_head')
    assert alg.teacher_normalization is None  # one normalisation: the teacher takes the student's batch


def test_cross_family_coco_config_builds_and_runs_a_loss_step():
    """MMRazor's FCOS R101 -> RetinaNet R50 pair: path st and the appearance term on P3-P7, the
    caffe-style teacher re-normalised from the student's batch."""
    cfg = Config.fromfile(str(CONFIGS / 'fcfd_fcos_r101_retina_r50_coco.py'))
    assert cfg.model.teacher_ckpt.startswith('https://download.openmmlab.com/mmdetection/v2.0/fcos/')
    cfg.model.teacher_ckpt = None
    alg, losses = config_loss_step(cfg.model)
    assert type(alg.head_adapter).__name__ == 'CrossFamilyHeadAdapter'
    assert (type(alg.teacher).__name__, alg.teacher.backbone.depth, type(alg.student).__name__) == \
        ('FCOS', 101, 'RetinaNet')
    assert alg.fcfd_neck.teacher_level == {i: i for i in range(5)} and len(alg.fcfd_neck.bridges_ts) == 0
    assert alg.teacher_normalization is not None and alg.teacher_normalization.flip
    assert {k for k in losses if 'loss_fcfd' in k} == {f'distill.loss_fcfd_{o}' for o in
                                                       ('app', 'cls_st', 'reg_st', 'centerness_st')}
    assert all(torch.isfinite(v) for k, v in losses.items() if 'loss_fcfd' in k)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(PAIRS))
def test_paper_pair_config_builds_and_runs_a_loss_step(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.model.teacher_ckpt.startswith('https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/')
    cfg.model.teacher_ckpt = None
    alg, losses = config_loss_step(cfg.model)
    student, teacher = PAIRS[name]
    assert (type(alg.student.backbone).__name__, type(alg.teacher.backbone).__name__) == (student, teacher)
    assert alg.teacher.backbone.depth == (101 if 'r101' in name else 50)
    assert alg.fcfd_neck.bridges_st[0].in_channels == 256 and alg.fcfd_neck.bridges_st[0].out_channels == 256
    assert {f'distill.loss_fcfd_{o}_{p}' for o in ('cls', 'reg') for p in ('s', 'st', 'ts')} <= set(losses)
    assert all(p.grad is not None for p in alg.fcfd_neck.parameters())


def test_mission_config_with_missing_teacher_checkpoint_names_the_fix():
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(str(CONFIGS / 'fcfd_frcnn_r101_r50_coco.py'))
    cfg.model.teacher_ckpt = 'checkpoints/missing.pth'
    with pytest.raises(FileNotFoundError, match=r'model\.teacher_ckpt'):
        MODELS.build(cfg.model)


def test_mission_config_with_unreachable_teacher_url_names_the_fix(monkeypatch, tmp_path):
    import torch
    from mmrazor.registry import MODELS

    def offline(url, dst, *args, **kwargs):
        raise __import__('urllib.error').error.URLError('Name or service not known')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', offline)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    cfg = Config.fromfile(str(CONFIGS / 'fcfd_frcnn_r101_r50_coco.py'))
    with pytest.raises(RuntimeError, match=r'could not be downloaded.*model\.teacher_ckpt=/path/to/faster_rcnn_r101'):
        MODELS.build(cfg.model)


@pytest.mark.slow
@pytest.mark.parametrize('name', STAGES)
def test_stage_config_builds_and_runs_a_loss_step(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    cfg.model.teacher_ckpt = None
    alg, losses = config_loss_step(cfg.model)
    st = alg.fcfd_stages
    student_channels = [24, 32, 96, 320] if 'mobilenetv2' in name else [256, 512, 1024, 2048]
    # the R50 students freeze stem and stage 1 (mmdet's frozen_stages=1): no appearance term and no
    # S->T path at position 1; Faster R-CNN's FPN still reads the bridged position 1 on S->T paths
    # at 2..4, RetinaNet's FPN starts at position 2 (so no S->T bridge at 1 at all)
    frozen = () if 'mobilenetv2' in name else (1,)
    assert st.frozen_positions == frozen
    st_positions = [1, 2, 3, 4] if 'frcnn' in name else [2, 3, 4]
    assert [int(i) for i in st.bridges_st] == st_positions
    assert [b.in_channels for b in st.bridges_st.values()] == [student_channels[i - 1] for i in st_positions]
    assert [b.out_channels for b in st.bridges_st.values()] == [[256, 512, 1024, 2048][i - 1] for i in st_positions]
    assert st.num_paths == 2 and len(st.candidates) == 8 - len(frozen)
    assert {'distill.loss_fcfd_stage_app', 'distill.loss_fcfd_stage_feat'} <= set(losses)
    assert (alg.fcfd_neck is not None) == ('fpn' in name)
    assert st.neck_reads == ((2, 3, 4) if 'retina' in name else (1, 2, 3, 4))
    if 'retina' in name:  # the RetinaNet FPN configs' head setting, carried over to the stage switch
        assert alg.head_adapter.anchor_weighting == 'teacher_score'
        assert st.output_losses['cls'].loss_weight == 5.0
        assert st.student_kd == ('fpn' not in name)
        if 'fpn' in name:
            assert alg.fcfd_neck.paths == ('s', 'st', 'ts')


#: the detection demos (tools/demo.py --family ...): {config: (head adapter, neck levels bridged
#: student->teacher, teacher->student)}; Faster R-CNN's RoI head reads P2-P5 only, so no t->s bridge on P6
DEMO_FCFD = {'demo/fcfd_frcnn_demo.py': ('RoIBoxHeadAdapter', 5, 4),
             'demo/fcfd_retina_demo.py': ('DenseHeadAdapter', 5, 5),
             'demo/fcfd_rtmdet_demo.py': ('RTMDetHeadAdapter', 3, 3),
             'demo/fcfd_gfl_demo.py': ('GFLHeadAdapter', 5, 5),
             'demo/fcfd_fcos_demo.py': ('FCOSHeadAdapter', 5, 5),
             'demo/fcfd_atss_demo.py': ('ATSSHeadAdapter', 5, 5),
             'demo/fcfd_fcos_retina_demo.py': ('CrossFamilyHeadAdapter', 5, 0)}


def test_every_detection_demo_is_listed():
    assert set(DEMO_FCFD) == {n for n in ALL if n.startswith('demo/fcfd_')}


@pytest.mark.parametrize('name', sorted(DEMO_FCFD))
def test_demo_config_builds_and_distils_at_the_demo_size(name):
    """The demo's teacher / student pair builds from the demo configs and one loss step on 4-class
    labels gives finite FCFD terms of the head adapter's outputs, with gradients in both
    directions' bridges and none in the teacher."""
    cfg = Config.fromfile(str(CONFIGS / name))
    cfg.model.teacher_ckpt = None
    alg, losses = config_loss_step(cfg.model, num_classes=4)
    adapter, st_count, ts_count = DEMO_FCFD[name]
    assert type(alg.head_adapter).__name__ == adapter
    assert (len(alg.fcfd_neck.bridges_st), len(alg.fcfd_neck.bridges_ts)) == (st_count, ts_count)
    terms = {k for k in losses if k.startswith('distill.loss_fcfd_')}
    outputs = alg.head_adapter.default_output_losses()
    paths = ('st',) if adapter == 'CrossFamilyHeadAdapter' else ('st', 'ts')  # a cross-family pair: st only
    assert alg.fcfd_neck.paths[-len(paths):] == paths
    assert {f'distill.loss_fcfd_{o}_{p}' for o in outputs for p in paths} <= terms
    assert alg.teacher_normalization is None  # the demo pairs normalise alike
    assert all(torch.isfinite(losses[k]) for k in terms)
    def grad_sum(bridge):
        return sum(float(p.grad.abs().sum()) for p in bridge.parameters())  # None: not in the graph (error)

    assert all(grad_sum(b) > 0 for b in alg.fcfd_neck.bridges_st)  # the appearance term reaches each one
    # t->s: the dense heads read every level; a small image's RoIs map to P2 only (the others get 0)
    ts_grads = [grad_sum(b) for b in alg.fcfd_neck.bridges_ts]
    assert all(g > 0 for g in ts_grads) if adapter != 'RoIBoxHeadAdapter' else ts_grads[0] > 0
    assert all(p.grad is None for p in alg.teacher.parameters())


CLASSIFICATION = sorted(n for n in ALL if n.startswith('classification/') and '/demo/' not in n)


def test_classification_config_set_is_complete():
    assert len([n for n in CLASSIFICATION if 'cifar100' in n]) == 10
    assert len([n for n in CLASSIFICATION if 'imagenet' in n]) == 2


@pytest.mark.slow
@pytest.mark.parametrize('name', CLASSIFICATION)
def test_classification_config_builds_and_runs_a_loss_step_at_its_input_size(name):
    from mmengine.logging import MessageHub
    from mmpretrain.structures import DataSample
    from mmrazor.registry import MODELS
    MessageHub.get_current_instance().update_info('iter', 0)
    cfg = Config.fromfile(str(CONFIGS / name))
    cfg.model.teacher_ckpt = None
    torch.manual_seed(0)
    alg = MODELS.build(cfg.model)
    alg.train()
    size = 224 if 'imagenet' in name else 32
    classes = 1000 if 'imagenet' in name else 100
    x = torch.randint(0, 255, (2, 3, size, size)).float()
    data = alg.data_preprocessor(
        dict(inputs=list(x), data_samples=[DataSample().set_gt_label(1), DataSample().set_gt_label(classes - 1)]),
        True)
    losses = alg.loss(data['inputs'], data['data_samples'])
    total, _ = alg.parse_losses(losses)
    total.backward()
    assert torch.isfinite(total)
    assert alg.student.head.num_classes == alg.teacher.head.num_classes == classes
    st = alg.fcfd_stages
    assert st.num_paths == 2 and st.pooled_last and st.l2_warmup['length'] == (5 if size == 224 else 20)
    assert alg.fcfd_neck is None and not alg.teacher_norm_eval


#: the official FCFD / RepDistiller CIFAR-100 normalisation, of 0-1 pixels (torchvision Normalize)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)


@pytest.mark.parametrize('name', [n for n in CLASSIFICATION if 'cifar100' in n])
def test_cifar_configs_normalise_like_the_official_code(name):
    """The preprocessor takes 0-255 pixels: (x / 255 - mean) / std == (x - 255 mean) / (255 std)."""
    cfg = Config.fromfile(str(CONFIGS / name))
    pre = cfg.model.data_preprocessor
    assert pre.type == 'mmpretrain.ClsDataPreprocessor' and pre.to_rgb is False  # CIFAR arrays are RGB already
    x = torch.tensor([0.0, 37.0, 128.0, 255.0])
    for c in range(3):
        ours = (x - pre.mean[c]) / pre.std[c]
        official = (x / 255 - CIFAR100_MEAN[c]) / CIFAR100_STD[c]
        torch.testing.assert_close(ours, official, rtol=0, atol=1e-5)
    assert cfg.get('data_preprocessor') is None  # no second, dataset-level normalisation


@pytest.mark.parametrize('name', CLASSIFICATION)
def test_classification_students_get_their_networks_fc_init(name):
    """The student head's init_cfg is the one of its network's own FC (fcfd_mm.models.zoo.HEAD_INIT)."""
    from fcfd_mm.models.zoo import HEAD_INIT, all_model_cfgs, head_init_cfg
    cfg = Config.fromfile(str(CONFIGS / name))
    backbone = {k: v for k, v in cfg.model.architecture.backbone.items() if k != '_delete_'}
    names = [n for n, b in all_model_cfgs().items() if b == backbone and n in HEAD_INIT]
    init = cfg.model.architecture.head.get('init_cfg', 'mmpretrain default')
    if backbone['type'] == 'MobileNetV1':  # no official FC init known: mmpretrain's default, stated
        assert init == dict(type='Normal', layer='Linear', std=0.01)
        return
    assert names, backbone
    expected = head_init_cfg(names[0])
    assert init == expected or (init is not None and expected is not None and
                                {k: v for k, v in init.items() if k != '_delete_'} == expected)


def test_resnet8x4_config_student_fc_keeps_pytorchs_default_init_through_the_algorithm():
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(str(CONFIGS / 'classification' / 'fcfd_cifar100_resnet32x4_resnet8x4.py'))
    cfg.model.teacher_ckpt = None
    torch.manual_seed(0)
    alg = MODELS.build(cfg.model)
    alg.init_weights()  # what the runner calls
    fc = alg.student.head.fc
    bound = 1 / 256 ** 0.5
    assert fc.weight.abs().max() <= bound and fc.bias.abs().max() <= bound
    assert fc.bias.abs().max() > 0.5 * bound and abs(fc.weight.std().item() - bound / 3 ** 0.5) < 0.002


@pytest.mark.parametrize('name', ['fcfd_frcnn_r101_r50_coco.py', 'fcfd_retina_r101_r50_coco.py',
                                  'fcfd_gfl_r101_r50_coco.py', 'fcfd_atss_r101_r50_coco.py'])
def test_coco_optimizer_takes_weight_decay_off_the_bridges_bn_only(name):
    """The official detection runs put no weight decay on normalisation layers (detectron2's default
    WEIGHT_DECAY_NORM=0), and the bridges' BN is the only trainable one there: the COCO configs'
    optim_wrapper gives the BN weight and bias of every bridge (FPN and stage bridges) weight decay 0
    and every other trainable parameter -- the students' own BN included -- the schedule's 1e-4."""
    import copy

    from mmengine.optim import build_optim_wrapper

    from fcfd_mm.connectors import FCFDBridge
    from tests.tiny_models import build_fcfd
    cfg = Config.fromfile(str(CONFIGS / name))
    base_wd = cfg.optim_wrapper.optimizer.weight_decay
    assert base_wd == 1e-4
    alg = build_fcfd('retina' if 'retina' in name else 'frcnn', fcfd=dict(neck=dict(), stages=dict()))
    bridges = [m for m in alg.modules() if isinstance(m, FCFDBridge)]
    bridge_bn = {id(p) for b in bridges for p in b.block.norm.parameters()}
    assert len(bridges) == len(alg.fcfd_neck.bridges_st) + len(alg.fcfd_neck.bridges_ts) + \
        len(alg.fcfd_stages.bridges_st) + len(alg.fcfd_stages.bridges_ts)
    assert len(bridge_bn) == 2 * len(bridges)  # weight and bias of each bridge's BN
    student_bn = [p for m in alg.student.modules() if isinstance(m, torch.nn.BatchNorm2d)
                  for p in m.parameters() if p.requires_grad]
    assert student_bn  # the demo student trains its BN affine parameters, as mmdet's R50 does

    wrapper = build_optim_wrapper(alg, copy.deepcopy(cfg.optim_wrapper))
    decay = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            decay[id(p)] = group['weight_decay']
    trainable = [p for p in alg.parameters() if p.requires_grad]
    assert {id(p) for p in trainable} <= set(decay)
    got_zero = {id(p) for p in trainable if decay[id(p)] == 0}
    assert got_zero == bridge_bn
    assert all(decay[id(p)] == base_wd for p in trainable if id(p) not in bridge_bn)
    assert all(decay[id(p)] == base_wd for p in student_bn)


def test_fcos_coco_config_trains_with_the_students_own_mmdet_recipe():
    """configs/fcfd_fcos_r101_r50_coco.py keeps the student's mmdet 1x optimizer and warm-up (lr 0.01,
    biases at twice the rate without weight decay, gradient clipping at 35, constant warm-up) and adds
    only the bridges' BN without weight decay."""
    cfg = Config.fromfile(str(CONFIGS / 'fcfd_fcos_r101_r50_coco.py'))
    from mmengine.hub import get_config
    zoo = get_config(cfg.model.architecture.cfg_path)

    def unscoped(d):
        return {k: v for k, v in d.items() if k != '_scope_'}
    ours, theirs = unscoped(cfg.optim_wrapper.to_dict()), unscoped(zoo.optim_wrapper.to_dict())
    custom = ours['paramwise_cfg'].pop('custom_keys')
    assert custom == {'.block.bn.': dict(decay_mult=0.0)}
    assert ours == theirs
    assert [unscoped(s) for s in cfg.param_scheduler] == [unscoped(s) for s in zoo.param_scheduler]
