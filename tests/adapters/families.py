"""Small models of mmdet 3.3's own model-zoo configs, for the family adapter tests and the sweep, and
the independent references of the head adapters' rows and output terms (flattened by hand).

:func:`shrink` narrows a model-zoo model config by rule, so that a teacher and a student of
every family build and run a loss step in about a second on one CPU core:

* plain ResNet backbones (``ResNet`` / ``ResNetV1d`` without DCN or plugins) become ResNet-18 with
  8 base channels (32 with group norm); other ResNet variants (ResNeXt, Res2Net, ResNeSt, DCN,
  TridentNet's...) become depth 50;
  ``CSPNeXt`` / ``CSPDarknet`` (and their PAFPN and head) get widen
  factor 0.125; CornerNet's ``HourglassNet`` keeps its 2 stacks, each halving twice, 16 channels
  wide; other backbones stay as they are;
* where the neck has 256 output channels (FPN-like), necks, heads and RoI extractors with 256
  channels get 32, fully connected layers 1024 -> 64, group norms 32 -> 8 groups (SCNet's feature
  relay head reads that FC and gives the FPN's width);
* RoI samplers draw at most 32 RoIs per image; ``SyncBN`` / ``MMSyncBN`` become ``BN`` (no process group);
* every head but the RPN predicts ``num_classes`` (4) classes; no pretrained weights are loaded
  (``init_cfg`` dropped), no batch augmentation of the data preprocessor (YOLOX's random resize).
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any, Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import MMLogger

from fcfd_mm import compat

compat.enable_trident_conv_init()  # mmdet leaves TridentConv's weight uninitialised; these models start from scratch

MMDET_CONFIGS = 'mmdet::'
REPO = Path(__file__).resolve().parents[2]
PLAIN_RESNETS = ('ResNet', 'ResNetV1d')
RESNET_VARIANTS = ('ResNeXt', 'Res2Net', 'ResNeSt', 'DetectoRS_ResNet', 'DetectoRS_ResNeXt', 'ResNet', 'ResNetV1d')
CHANNEL_KEYS = ('in_channels', 'feat_channels', 'out_channels', 'conv_out_channels', 'output_channels')
FC_KEYS = ('fc_out_channels',)


def load_model_cfg(path: str) -> ConfigDict:
    """The ``model`` of an mmdet model-zoo config (``'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'``)."""
    from mmengine.hub import get_config
    return copy.deepcopy(get_config(MMDET_CONFIGS + path).model)


def _walk(node: Any, fn, key: str = '') -> None:
    if isinstance(node, dict):
        fn(node, key)
        for k, v in node.items():
            _walk(v, fn, k if isinstance(v, dict) else key)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _walk(v, fn, key)


def _norms(node: dict, key: str) -> None:
    if node.get('type') in ('SyncBN', 'MMSyncBN'):  # no process group in tests
        node['type'] = 'BN'
    node.pop('init_cfg', None)  # no pretrained weights (no download)
    if isinstance(node.get('pretrained'), str):
        node.pop('pretrained')


def _shrink_node(node: dict, key: str, width: int, num_classes: int, channels: bool) -> None:
    if channels:
        for k in CHANNEL_KEYS:
            if node.get(k) == 256:
                node[k] = width
        for k in FC_KEYS:
            if node.get(k) == 1024:
                node[k] = 2 * width
        if node.get('type') == 'GN' and node.get('num_groups', 0) > 8:
            node['num_groups'] = 8
        if node.get('type') == 'FeatureRelayHead':  # SCNet: reads the box head's FC feature, relays FPN channels
            node.update(in_channels=2 * width, out_conv_channels=width)
    if isinstance(node.get('num_classes'), int) and key != 'rpn_head' and node.get('type') != 'RPNHead':
        node['num_classes'] = num_classes
    if str(node.get('type', '')).endswith('Sampler') and isinstance(node.get('num'), int):
        node['num'] = min(node['num'], 32)
    node.pop('init_cfg', None)
    node.pop('pretrained', None)


def shrink(model: ConfigDict, num_classes: int = 4, width: int = 32) -> ConfigDict:
    """A narrow copy of ``model`` (see the module docstring for the rules)."""
    model = copy.deepcopy(model)
    backbone = model.get('backbone')
    neck = model.get('neck')
    first_neck = neck[0] if isinstance(neck, (list, tuple)) and neck else neck
    _walk(model, _norms)
    if backbone is not None:
        kind = backbone.get('type', '')
        plain = kind in PLAIN_RESNETS and not backbone.get('dcn') and not backbone.get('plugins') \
            and backbone.get('depth', 50) >= 50
        if plain:
            base = 32 if backbone.get('norm_cfg', {}).get('type') == 'GN' else 8
            backbone.update(depth=18, base_channels=base)
            outs = tuple(backbone.get('out_indices', (0, 1, 2, 3)))
            channels = [base * 2 ** i for i in outs]
            if isinstance(first_neck, dict) and isinstance(first_neck.get('in_channels'), (list, tuple)):
                first_neck['in_channels'] = channels[-len(first_neck['in_channels']):]
            elif isinstance(first_neck, dict) and isinstance(first_neck.get('in_channels'), int):
                first_neck['in_channels'] = channels[-1]
        elif kind == 'HourglassNet':  # CornerNet / CentripetalNet: 2 stacks, each 2 halvings deep, 16 channels
            backbone.update(downsample_times=2, stage_channels=[16, 16, 24], stage_blocks=[1, 1, 1], feat_channel=16)
            model['bbox_head']['in_channels'] = 16
        elif kind in RESNET_VARIANTS and backbone.get('depth', 50) > 50:
            backbone['depth'] = 50
        elif kind in ('CSPNeXt', 'CSPDarknet') and isinstance(neck, dict):
            factor = 0.125 / backbone.get('widen_factor', 1.0)
            backbone.update(widen_factor=0.125, deepen_factor=0.167)
            neck['in_channels'] = [int(c * factor) for c in neck['in_channels']]
            neck['out_channels'] = int(neck['out_channels'] * factor)
            neck['num_csp_blocks'] = 1
            head = model.get('bbox_head', {})
            for k in ('in_channels', 'feat_channels'):
                if isinstance(head.get(k), int):
                    head[k] = int(head[k] * factor)
        backbone.pop('init_cfg', None)
    # channel widths of 256 are the FPN's and what reads it: narrowed only where such a neck exists
    channels = isinstance(first_neck, dict) and first_neck.get('out_channels') == 256
    rest = {k: v for k, v in model.items() if k != 'backbone'}
    _walk(rest, lambda n, k: _shrink_node(n, k, width, num_classes, channels))
    preprocessor = model.get('data_preprocessor')
    if isinstance(preprocessor, dict):
        preprocessor.pop('batch_augments', None)
    return model


def small_model_cfg(path: str, num_classes: int = 4, width: int = 32) -> ConfigDict:
    """:func:`shrink` of the model of mmdet config ``path``, with ``_scope_='mmdet'``."""
    model = shrink(load_model_cfg(path), num_classes, width)
    model['_scope_'] = 'mmdet'
    return model


def family_cfg(path):
    """:func:`small_model_cfg`, with DDOD's deformable first conv off (``use_dcn=False``, DDOD's own
    ATSS-like option): on 64x64 images its coarsest level is smaller than the DCN kernel; SOLOv2's
    kernel branch 64 channels wide; CrowdDet with one class (its EMD loss is written for one);
    TridentNet's RoI sampler drawing 8 RoIs per image."""
    cfg = small_model_cfg(path, num_classes=1 if path.startswith('crowddet/') else 4)
    if path.startswith('ddod/'):
        cfg.bbox_head.use_dcn = False
    if path.startswith('solov2/'):  # its kernel branch's 512 channels are not the FPN's 256 that shrink narrows
        cfg.mask_head.feat_channels = 64
    if path.startswith('tridentnet/'):  # its RoI head's res5 stage (2048 channels) runs on 8 RoIs per image
        cfg.train_cfg.rcnn.sampler.num = 8
    return cfg


def fcfd_pair_cfg(student: dict, teacher: Optional[dict] = None, fcfd: Optional[dict] = None, **kwargs) -> dict:
    """An ``FCFDDistill`` config of ``student`` and ``teacher`` (default: the same config)."""
    cfg = dict(_scope_='mmrazor', type='FCFDDistill', architecture=copy.deepcopy(student),
               teacher=copy.deepcopy(teacher if teacher is not None else student), fcfd=fcfd or {})
    cfg.update(kwargs)
    return cfg


def build_pair(student: dict, teacher: Optional[dict] = None, fcfd: Optional[dict] = None, seed: int = 0,
               **kwargs):
    """Build, initialise (random weights) and set to train mode an ``FCFDDistill`` of the pair; the
    runner's epoch is 0 (``MessageHub`` info ``epoch``, which TOOD's head reads as a runner sets it)."""
    from mmengine.logging import MessageHub
    from mmrazor.registry import MODELS

    import fcfd_mm  # noqa: F401
    torch.manual_seed(seed)
    alg = MODELS.build(fcfd_pair_cfg(student, teacher, fcfd, **kwargs))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter at INFO
    try:
        alg.init_weights()
    finally:
        logger.setLevel(level)
    alg.train()
    MessageHub.get_current_instance().update_info('epoch', 0)
    return alg


def random_batch(alg, size: int = 64, batch_size: int = 2, num_items=(3, 2), num_classes: int = 4,
                 with_mask: bool = False, with_semantic: bool = False):
    """A preprocessed random batch (``inputs`` (B, 3, size, size), ``data_samples``; instance masks
    and semantic maps on request). mmdet's ``demo_mm_inputs`` draws labels from 1 to
    ``num_classes - 1``; with one class every label is 0."""
    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(batch_size=batch_size, image_shapes=[(3, size, size)] * batch_size,
                            num_items=list(num_items), num_classes=max(num_classes, 2), with_mask=with_mask,
                            with_semantic=with_semantic)
    if num_classes == 1:
        for sample in packed['data_samples']:
            sample.gt_instances.labels[:] = 0
    return alg.data_preprocessor(packed, True)



def loss_and_reference_rows(alg, rows, **batch):
    """``alg.loss`` on ``random_batch(alg, **batch)``, and an independent computation of both
    networks' rows on the same inputs, without gradients: ``(losses, t_rows, s_rows, t_feats)``.
    ``rows(model, feats)`` gives ``{output name: (N, W) rows}``; ``t_feats`` are the teacher's
    features."""
    data = random_batch(alg, **batch)
    losses = alg.loss(data['inputs'], data['data_samples'])
    with torch.no_grad():
        t_feats = alg.teacher.extract_feat(data['inputs'])
        t = rows(alg.teacher, t_feats)
        s = rows(alg.student, alg.student.extract_feat(data['inputs']))
    return losses, t, s, t_feats

def assert_bridges_trained_teacher_frozen(alg, losses) -> None:
    """Backward of ``losses`` (an ``FCFDDistill.loss`` result): finite, non-zero gradients in the
    bridges of both directions, none in the teacher."""
    total, _ = alg.parse_losses(losses)
    total.backward()
    for bridges in (alg.fcfd_neck.bridges_st, alg.fcfd_neck.bridges_ts):
        grads = [p.grad for b in bridges for p in b.parameters()]
        assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in alg.teacher.parameters())


def assert_predict_on_features_is_the_detectors(alg, keys=('bboxes', 'scores'), **batch) -> None:
    """The head adapter's ``predict_on_features`` on the teacher's own features equals the
    teacher's ``predict`` (eval mode, a :func:`random_batch` of ``batch``), in ``keys``."""
    import copy as _copy
    alg.eval()
    data = random_batch(alg, **batch)
    x, samples = data['inputs'], data['data_samples']
    model = alg.teacher
    with torch.no_grad():
        ours = alg.head_adapter.predict_on_features(model, model.extract_feat(x), _copy.deepcopy(samples))
        theirs = model.predict(x, _copy.deepcopy(samples))
    assert len(ours) == len(theirs) == len(samples)
    for a, b in zip(ours, theirs):
        for key in keys:
            torch.testing.assert_close(a.pred_instances[key], b.pred_instances[key])


# ---------------------------------------------------------------- independent references
def flat(maps, width):
    """``[(B, width, H, W)]`` per level -> ``(B * sum HW, width)``, image-major, by hand."""
    b = maps[0].shape[0]
    per_image = [torch.cat([m[i].reshape(width, -1).t() for m in maps]) for i in range(b)]
    return torch.cat(per_image)


def flat_priors(maps, width):
    """``[(B, A_l * width, H, W)]`` per level, anchor-major channels -> ``(B * sum H W A_l, width)``
    in (image, level, y, x, anchor) order, by hand."""
    b = maps[0].shape[0]
    per_level = [m.view(b, m.shape[1] // width, width, *m.shape[-2:]).permute(0, 3, 4, 1, 2).reshape(b, -1, width)
                 for m in maps]
    return torch.cat(per_level, 1).reshape(-1, width)


def softmax_kl_ref(z_s, z_t, w):
    p_t = torch.softmax(z_t.double(), 1)
    kl = (p_t * (p_t.log() - torch.log_softmax(z_s.double(), 1))).sum(1)
    return (kl * w.double()).sum() / w.double().sum()


def sigmoid_kd_ref(z_s, z_t, w):
    p_t, p_s = torch.sigmoid(z_t).double(), torch.sigmoid(z_s).double()
    kl = (p_t * torch.log(p_t / p_s) + (1 - p_t) * torch.log((1 - p_t) / (1 - p_s))).sum(1)
    return (kl * w.double()).sum() / w.double().sum()


__all__ = ['Config', 'load_model_cfg', 'shrink', 'small_model_cfg', 'family_cfg', 'fcfd_pair_cfg', 'build_pair',
           'random_batch', 'assert_bridges_trained_teacher_frozen', 'assert_predict_on_features_is_the_detectors',
           'flat', 'flat_priors', 'softmax_kl_ref', 'sigmoid_kd_ref']
