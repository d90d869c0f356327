"""Stage cutters: selection from the backbone, the MobileNetV2 cutter against a plain forward, and a
stage-switch loss step of a ResNet teacher -> MobileNetV2 student pair."""
import copy

import pytest
import torch

from fcfd_mm.adapters import STAGE_CUTTERS, MobileNetV2Cutter, ResNetCutter, UnsupportedModelError, build_stage_cutter
from tests.tiny_models import batch, build_fcfd, fcfd_cfg, tiny_detector_cfg


def mobilenet_frcnn_cfg():
    """The tiny Faster R-CNN with an mmdet MobileNetV2 (widen 0.25: channels 8 / 8 / 24 / 80 at
    strides 4 / 8 / 16 / 32, the layout of configs/students/faster-rcnn_mobilenetv2_fpn_1x_coco.py)."""
    model = tiny_detector_cfg('frcnn', 8, fpn_channels=24)
    model.backbone = dict(type='MobileNetV2', widen_factor=0.25, out_indices=(1, 2, 4, 6), frozen_stages=-1)
    model.neck.in_channels = [8, 8, 24, 80]
    return model


def test_the_cutter_is_picked_from_each_backbone():
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict()), architecture=mobilenet_frcnn_cfg())
    assert type(alg.pair.cutters['student']) is MobileNetV2Cutter
    assert type(alg.pair.cutters['teacher']) is ResNetCutter
    assert {'ResNetCutter', 'MobileNetV2Cutter', 'StagedBackboneCutter'} <= set(STAGE_CUTTERS.module_dict)


@torch.no_grad()
def test_mobilenet_v2_run_from_matches_the_full_forward():
    from mmdet.registry import MODELS
    model = MODELS.build(mobilenet_frcnn_cfg())
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    full = model.backbone(x)
    cutter = build_stage_cutter(model, 'student')
    assert [tuple(s) for s in cutter.probe_positions(model)] == [(8, 16, 16), (8, 8, 8), (24, 4, 4), (80, 2, 2)]
    for k in range(1, 5):
        later = cutter.run_from(model, k, full[k - 1])
        assert len(later) == 4 - k
        for got, ref in zip(later, full[k:]):
            torch.testing.assert_close(got, ref, rtol=0, atol=0)
    assert not cutter.receives_post_relu(model)


def test_resnet_to_mobilenet_v2_stage_switch_runs_every_path():
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(num_paths=100)), architecture=mobilenet_frcnn_cfg())
    st = alg.fcfd_stages
    assert [b.in_channels for b in st.bridges_st.values()] == [8, 8, 24, 80]
    assert len(st.candidates) == 8
    alg.set_progress(0, 0)
    losses = alg.loss(*batch(alg).values())
    total, _ = alg.parse_losses(losses)
    total.backward()
    assert torch.isfinite(total) and losses['distill.loss_fcfd_stage_cls_ts'] > 0
    assert all(p.grad is not None for p in st.parameters())


def test_a_backbone_without_a_cutter_is_refused_with_the_fix():
    from mmdet.registry import MODELS
    cfg = tiny_detector_cfg('frcnn', 8)
    cfg.backbone = dict(type='MobileNetV2', widen_factor=0.25, out_indices=(1, 2, 4, 6))
    model = MODELS.build(cfg)
    model.backbone = torch.nn.Identity()
    with pytest.raises(UnsupportedModelError, match='no stage cutter.*register a cutter'):
        build_stage_cutter(model, 'student')
    with pytest.raises(KeyError, match='fcfd.stages.cutter.type'):
        build_stage_cutter(model, 'student', dict(type='NoSuchCutter'))


def test_a_named_cutter_checks_the_backbone_and_can_be_named_per_network():
    from mmrazor.registry import MODELS
    cfg = fcfd_cfg('frcnn', dict(neck=None, stages=dict(cutter=dict(type='MobileNetV2Cutter'))))
    with pytest.raises(UnsupportedModelError, match='the student backbone \\(ResNet\\) is not an mmdet MobileNetV2'):
        MODELS.build(copy.deepcopy(cfg))
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(cutter=dict(
        student=dict(type='MobileNetV2Cutter', probe_size=128), teacher=dict(type='ResNetCutter', probe_size=128)))),
        architecture=mobilenet_frcnn_cfg())
    assert alg.pair.cutters['student'].probe_size == 128 and type(alg.pair.cutters['teacher']) is ResNetCutter
