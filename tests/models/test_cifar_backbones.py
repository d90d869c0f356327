"""The 13 RepDistiller / CRD CIFAR-100 networks as staged backbones.

Checked per network: builds from ``REPDISTILLER_MODELS``; position shapes / ``position_channels``
/ ``receives_post_relu`` follow the stage split; ``forward_from(k, F^k)`` reproduces the later
positions exactly; backbone + 100-class FC has the parameter count of the un-cut reference net
(``repdistiller_reference.py``) and of the published figure; a reference checkpoint converted with
``convert_repdistiller_state_dict`` gives the reference logits.
"""
import functools

import pytest
import torch
from mmpretrain.registry import MODELS

import fcfd_mm  # noqa: F401
from fcfd_mm.models import (
    REPDISTILLER_FEAT_DIM,
    REPDISTILLER_MODELS,
    StagedBackbone,
    classifier_cfg,
    convert_repdistiller_state_dict,
)

from . import repdistiller_reference as ref

NAMES = ['resnet8x4', 'resnet32x4', 'resnet20', 'resnet56', 'wrn_16_2', 'wrn_40_1', 'wrn_40_2', 'vgg8',
         'vgg13', 'MobileNetV2', 'ShuffleV1', 'ShuffleV2', 'ResNet50']

#: (channels, spatial size) of positions 1..N at 32 px.
POSITIONS = {
    'resnet8x4': [(64, 32), (128, 16), (256, 8)],
    'resnet32x4': [(64, 32), (128, 16), (256, 8)],
    'resnet20': [(16, 32), (32, 16), (64, 8)],
    'resnet56': [(16, 32), (32, 16), (64, 8)],
    'wrn_16_2': [(32, 32), (64, 16), (128, 8)],
    'wrn_40_1': [(16, 32), (32, 16), (64, 8)],
    'wrn_40_2': [(32, 32), (64, 16), (128, 8)],
    'vgg8': [(128, 16), (256, 8), (512, 4), (512, 4)],
    'vgg13': [(128, 16), (256, 8), (512, 4), (512, 4)],
    'MobileNetV2': [(12, 16), (16, 8), (48, 4), (1280, 2)],
    'ShuffleV1': [(240, 16), (480, 8), (960, 4)],
    'ShuffleV2': [(116, 16), (232, 8), (1024, 4)],
    'ResNet50': [(256, 32), (512, 16), (1024, 8), (2048, 4)],
}
POST_RELU = {'resnet8x4', 'resnet32x4', 'resnet20', 'resnet56', 'ShuffleV2', 'ResNet50'}

#: Parameters (millions, 100 classes) as published in the CRD paper's table.
PUBLISHED_M = {'resnet56': 0.86, 'resnet20': 0.28, 'resnet32x4': 7.43, 'resnet8x4': 1.23, 'wrn_40_2': 2.26,
               'wrn_16_2': 0.70, 'wrn_40_1': 0.57, 'vgg13': 9.46, 'vgg8': 3.96, 'MobileNetV2': 0.81,
               'ShuffleV1': 0.95, 'ShuffleV2': 1.36, 'ResNet50': 23.71}
#: Exact counts of RepDistiller's code (backbone + Linear(feat, 100)), from the reference nets.
EXACT = {'resnet8x4': 1233540, 'resnet32x4': 7433860, 'resnet20': 278324, 'resnet56': 861620,
         'wrn_16_2': 703284, 'wrn_40_1': 569780, 'wrn_40_2': 2255156, 'vgg8': 3965028, 'vgg13': 9462180,
         'MobileNetV2': 812836, 'ShuffleV1': 949258, 'ShuffleV2': 1355528, 'ResNet50': 23705252}
#: Where the published figure is not the code's count rounded to 0.01M: vgg8 has 3,965,028
#: parameters (3.97M rounded; the paper's 3.96M truncates).
PUBLISHED_ROUNDING_OFF = {'vgg8': 3.97}


def _nparams(module):
    return sum(p.numel() for p in module.parameters())


@functools.lru_cache(maxsize=None)
def _backbone(name):
    torch.manual_seed(0)
    return MODELS.build(dict(REPDISTILLER_MODELS[name])).eval()


@functools.lru_cache(maxsize=None)
def _input(batch=2):
    return torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_the_13_names():
    assert sorted(REPDISTILLER_MODELS) == sorted(NAMES) == sorted(REPDISTILLER_FEAT_DIM)


@pytest.mark.parametrize('name', NAMES)
def test_positions(name):
    bb = _backbone(name)
    assert isinstance(bb, StagedBackbone)
    with torch.no_grad():
        feats = bb(_input())
    want = POSITIONS[name]
    assert bb.num_positions == len(want) == len(feats) == len(bb.stages) - 1
    assert bb.position_channels == [c for c, _ in want]
    assert [tuple(f.shape) for f in feats] == [(2, c, s, s) for c, s in want]
    assert REPDISTILLER_FEAT_DIM[name] == bb.position_channels[-1]
    assert bb.receives_post_relu is (name in POST_RELU)
    for f in feats:  # post-ReLU taps are non-negative; pre-ReLU taps are not
        assert bool((f >= 0).all()) is (name in POST_RELU)


@pytest.mark.parametrize('name', NAMES)
def test_forward_from_reproduces_later_positions(name):
    bb = _backbone(name)
    with torch.no_grad():
        feats = bb(_input())
        for k in range(1, bb.num_positions + 1):
            h = feats[k - 1].clone()
            rest = bb.forward_from(k, h)
            assert torch.equal(h, feats[k - 1]), f'forward_from({k}) modified its input'
            assert len(rest) == bb.num_positions - k
            for got, want in zip(rest, feats[k:]):
                assert torch.equal(got, want)
    for bad in (0, bb.num_positions + 1):
        with pytest.raises(ValueError, match='positions are'):
            bb.forward_from(bad, feats[0])


@pytest.mark.parametrize('name', NAMES)
def test_parameter_count(name):
    ours = _nparams(_backbone(name)) + REPDISTILLER_FEAT_DIM[name] * 100 + 100
    reference = _nparams(ref.build(name, 100))
    assert ours == reference == EXACT[name]
    published = PUBLISHED_M[name]
    assert abs(ours / 1e6 - published) < 0.01
    assert round(ours / 1e6, 2) == PUBLISHED_ROUNDING_OFF.get(name, published)


@pytest.mark.parametrize('name', NAMES)
def test_converted_reference_gives_the_same_logits(name):
    torch.manual_seed(2)
    net = ref.randomize_bn(ref.build(name, 100)).eval()
    clf = MODELS.build(classifier_cfg(name, 100)).eval()
    converted = convert_repdistiller_state_dict(name, net.state_dict())
    clf.load_state_dict(converted, strict=True)
    x = _input()
    with torch.no_grad():
        want = net(x)
        got = clf(x)
    assert got.shape == (2, 100)
    # identical up to the global-pool kernel (AvgPool2d(8) / F.avg_pool2d(., 4) vs adaptive pooling)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


def test_unknown_arch_lists_the_valid_ones():
    for cfg, valid in ((dict(type='RepCifarResNet', arch='resnet18'), 'resnet8x4'),
                       (dict(type='RepCifarWRN', arch='wrn_28_10'), 'wrn_40_2'),
                       (dict(type='RepCifarVGG', arch='vgg13_bn'), 'vgg13'),
                       (dict(type='RepCifarMobileNetV2', arch='mobile_full'), 'mobile_half'),
                       (dict(type='RepCifarShuffleNetV1', arch='ShuffleV2'), 'ShuffleV1'),
                       (dict(type='RepCifarShuffleNetV2', arch='ShuffleV1'), 'ShuffleV2'),
                       (dict(type='RepCifarResNet50', arch='ResNet18'), 'ResNet50'),
                       (dict(type='StagedResNet', depth=26), '152')):
        with pytest.raises(ValueError, match=f'unknown arch.*{valid}'):
            MODELS.build(cfg)


def test_vgg_64px_pools_before_block4():
    bb = MODELS.build(dict(type='RepCifarVGG', arch='vgg8', input_size=64)).eval()
    with torch.no_grad():
        feats = bb(torch.randn(1, 3, 64, 64))
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4]
    net = ref.build('vgg8').eval()
    clf = MODELS.build(dict(classifier_cfg('vgg8'), backbone=dict(type='RepCifarVGG', arch='vgg8', input_size=64)))
    clf.load_state_dict(convert_repdistiller_state_dict('vgg8', net.state_dict()))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(clf.eval()(x), net(x), rtol=1e-6, atol=1e-6)


#: how each network's own FC is initialised in RepDistiller's code (independent of fcfd_mm.models.zoo)
FC_INIT = {'resnet8x4': 'default', 'resnet32x4': 'default', 'resnet20': 'default', 'resnet56': 'default',
           'ResNet50': 'default', 'ShuffleV1': 'default', 'ShuffleV2': 'default',
           'wrn_16_2': 'zero_bias', 'wrn_40_1': 'zero_bias', 'wrn_40_2': 'zero_bias',
           'vgg8': 'normal_0.01', 'vgg13': 'normal_0.01', 'MobileNetV2': 'normal_0.01'}


@pytest.mark.parametrize('name', NAMES)
def test_classifier_fc_has_the_networks_own_init_after_init_weights(name):
    """PyTorch's default nn.Linear init: weight and bias ~ U(+-1/sqrt(fan_in)); RepDistiller keeps it
    for resnet / ShuffleNets, zeroes only the bias for WRNs, draws N(0, 0.01) with zero bias for
    vgg / MobileNetV2 (mmpretrain's LinearClsHead default)."""
    torch.manual_seed(0)
    clf = MODELS.build(classifier_cfg(name, 100))
    clf.init_weights()
    w, b = clf.head.fc.weight.detach(), clf.head.fc.bias.detach()
    bound = 1 / REPDISTILLER_FEAT_DIM[name] ** 0.5
    kind = FC_INIT[name]
    if kind == 'normal_0.01':
        assert abs(w.std().item() - 0.01) < 0.001 and torch.all(b == 0)
    else:
        assert w.abs().max() <= bound and abs(w.std().item() - bound / 3 ** 0.5) < 0.1 * bound / 3 ** 0.5
        if kind == 'zero_bias':
            assert torch.all(b == 0)
        else:
            assert b.abs().max() <= bound and b.abs().max() > 0.5 * bound
