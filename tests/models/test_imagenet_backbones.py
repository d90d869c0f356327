"""ImageNet students: StagedResNet (torchvision layout) and MobileNet-V1, at 224 px, batch 1."""
import pytest
import torch
import torchvision
from mmpretrain.registry import MODELS

import fcfd_mm  # noqa: F401
from fcfd_mm.models import classifier_cfg, convert_repdistiller_state_dict

from . import repdistiller_reference as ref

RESNET_POSITIONS = {18: [(64, 56), (128, 28), (256, 14), (512, 7)],
                    34: [(64, 56), (128, 28), (256, 14), (512, 7)],
                    50: [(256, 56), (512, 28), (1024, 14), (2048, 7)]}


def _nparams(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('depth', [18, 34, 50])
def test_staged_resnet_matches_torchvision(depth):
    torch.manual_seed(0)
    tv = ref.randomize_bn(getattr(torchvision.models, f'resnet{depth}')(weights=None)).eval()
    name = f'torchvision_resnet{depth}'
    clf = MODELS.build(classifier_cfg(name, 1000)).eval()
    bb = clf.backbone
    assert bb.receives_post_relu is True
    assert _nparams(clf) == _nparams(tv)  # backbone + 1000-class FC == torchvision's resnetNN
    clf.load_state_dict(convert_repdistiller_state_dict(name, tv.state_dict()), strict=True)

    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        feats = bb(x)
        got = clf.head(clf.neck(feats))
        want = tv(x)
        assert torch.equal(bb.forward_from(2, feats[1])[-1], feats[-1])
    assert [tuple(f.shape) for f in feats] == [(1, c, s, s) for c, s in RESNET_POSITIONS[depth]]
    assert bb.position_channels == [c for c, _ in RESNET_POSITIONS[depth]]
    assert all(bool((f >= 0).all()) for f in feats)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


def test_staged_resnet_keys_are_torchvision_keys_under_stages():
    bb = MODELS.build(dict(type='StagedResNet', depth=50))
    keys = set(bb.state_dict())
    for k in ('stages.0.conv1.weight', 'stages.0.bn1.running_var', 'stages.1.0.downsample.0.weight',
              'stages.4.2.conv3.weight', 'stages.4.2.bn3.bias'):
        assert k in keys


def test_mobilenet_v1():
    torch.manual_seed(0)
    net = ref.randomize_bn(ref.build('mobilenet_v1', 1000)).eval()
    clf = MODELS.build(classifier_cfg('mobilenet_v1', 1000)).eval()
    assert _nparams(clf) == _nparams(net) == 4231976
    clf.load_state_dict(convert_repdistiller_state_dict('mobilenet_v1', net.state_dict()), strict=True)
    bb = clf.backbone
    assert bb.receives_post_relu is True
    assert bb.position_channels == [128, 256, 512, 1024]
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        feats = bb(x)
        got = clf.head(clf.neck(feats))
        want = net(x)
        for k in range(1, 4):
            assert all(torch.equal(a, b) for a, b in zip(bb.forward_from(k, feats[k - 1]), feats[k:]))
    assert [tuple(f.shape) for f in feats] == [(1, 128, 56, 56), (1, 256, 28, 28), (1, 512, 14, 14),
                                               (1, 1024, 7, 7)]
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
