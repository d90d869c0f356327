"""convert_repdistiller_state_dict's checks, tools/convert_repdistiller.py, ReLUGlobalAveragePooling."""
import pytest
import torch
from mmpretrain.registry import MODELS

import fcfd_mm  # noqa: F401
from fcfd_mm.models import classifier_cfg, convert_repdistiller_state_dict
from fcfd_mm.models.necks import ReLUGlobalAveragePooling

from . import repdistiller_reference as ref


@pytest.fixture(scope='module')
def resnet20_sd():
    torch.manual_seed(0)
    return ref.randomize_bn(ref.build('resnet20', 100)).state_dict()


def test_keys_land_in_the_stages(resnet20_sd):
    out = convert_repdistiller_state_dict('resnet20', resnet20_sd)
    assert out['backbone.stages.0.conv1.weight'] is resnet20_sd['conv1.weight']
    assert out['backbone.stages.2.0.downsample.0.weight'] is resnet20_sd['layer2.0.downsample.0.weight']
    assert out['head.fc.weight'] is resnet20_sd['fc.weight']
    assert len(out) == len(resnet20_sd)


def test_repdistiller_key_names_of_each_family():
    for name, keys in {'wrn_40_1': ['block2.layer.0.convShortcut.weight', 'bn1.running_mean', 'fc.bias'],
                       'vgg8': ['block4.0.bias', 'block0.1.weight', 'classifier.weight'],
                       'MobileNetV2': ['blocks.6.0.conv.7.weight', 'conv2.1.weight', 'classifier.0.weight'],
                       'ShuffleV1': ['layer1.0.conv1.weight', 'linear.weight'],
                       'ShuffleV2': ['layer3.0.conv5.weight', 'bn2.running_var', 'linear.bias'],
                       'ResNet50': ['layer1.0.shortcut.0.weight', 'layer4.2.bn3.bias', 'linear.weight']}.items():
        sd = ref.build(name, 10).state_dict()
        assert all(k in sd for k in keys), name
        out = convert_repdistiller_state_dict(name, sd)
        assert out['head.fc.weight'].shape[0] == 10
        MODELS.build(classifier_cfg(name, 10)).load_state_dict(out, strict=True)


def test_mobile_half_alias_and_module_prefix(resnet20_sd):
    sd = ref.build('MobileNetV2').state_dict()
    a = convert_repdistiller_state_dict('mobile_half', sd)
    b = convert_repdistiller_state_dict('MobileNetV2', {'module.' + k: v for k, v in sd.items()})
    assert list(a) == list(b)


def test_old_checkpoint_without_num_batches_tracked(resnet20_sd):
    sd = {k: v for k, v in resnet20_sd.items() if not k.endswith('num_batches_tracked')}
    out = convert_repdistiller_state_dict('resnet20', sd)
    assert out['backbone.stages.0.bn1.num_batches_tracked'].dtype == torch.long


def test_errors_name_the_keys(resnet20_sd):
    with pytest.raises(ValueError, match="unknown model name 'resnet18'.*resnet8x4"):
        convert_repdistiller_state_dict('resnet18', resnet20_sd)
    extra = dict(resnet20_sd, **{'foo.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match='1 unexpected key.*foo.weight'):
        convert_repdistiller_state_dict('resnet20', extra)
    missing = {k: v for k, v in resnet20_sd.items() if k != 'layer3.2.conv2.weight'}
    with pytest.raises(ValueError, match=r'1 missing key.*backbone\.stages\.3\.2\.conv2\.weight'):
        convert_repdistiller_state_dict('resnet20', missing)
    no_fc = {k: v for k, v in resnet20_sd.items() if not k.startswith('fc.')}
    with pytest.raises(ValueError, match='missing key.*fc.bias'):
        convert_repdistiller_state_dict('resnet20', no_fc)
    with pytest.raises(ValueError, match='shape mismatch.*stages.1.0.conv1.weight'):
        convert_repdistiller_state_dict('resnet8x4', {k: v for k, v in ref.build('resnet8').state_dict().items()})
    # resnet56 weights into resnet20: the extra blocks are unexpected
    with pytest.raises(ValueError, match=r'unexpected key.*layer1\.3\.conv1\.weight \(-> backbone'):
        convert_repdistiller_state_dict('resnet20', ref.build('resnet56').state_dict())


def test_cli(tmp_path, resnet20_sd, capsys):
    from mmengine.runner import load_checkpoint

    from tools.convert_repdistiller import main
    src = tmp_path / 'ckpt_epoch_240.pth'
    torch.save({'epoch': 240, 'model': resnet20_sd, 'accuracy': torch.tensor(69.1)}, src)
    out = tmp_path / 'out' / 'resnet20.pth'
    main(['resnet20', str(src), str(out)])
    assert 'wrote' in capsys.readouterr().out
    ckpt = torch.load(out, weights_only=True)  # plain tensors and Python values only
    assert ckpt['meta']['arch'] == 'resnet20' and ckpt['meta']['source_epoch'] == 240
    assert ckpt['meta']['num_classes'] == 100
    assert ckpt['meta']['source_accuracy'] == pytest.approx(69.1)
    clf = MODELS.build(ckpt['meta']['model'])
    load_checkpoint(clf, str(out), strict=True)
    assert torch.equal(clf.head.fc.weight, resnet20_sd['fc.weight'])

    with pytest.raises(SystemExit, match='input checkpoint not found'):
        main(['resnet20', str(tmp_path / 'nope.pth'), str(out)])
    with pytest.raises(SystemExit, match='unknown ARCH'):
        main(['resnet21', str(src), str(out)])
    with pytest.raises(SystemExit, match='does not match'):
        main(['wrn_16_2', str(src), str(out)])


def test_neck():
    neck = MODELS.build(dict(type='ReLUGlobalAveragePooling'))
    assert isinstance(neck, ReLUGlobalAveragePooling)
    a, b = torch.randn(2, 4, 8, 8), torch.randn(2, 6, 4, 4)
    b0 = b.clone()
    out = neck((a, b))
    assert isinstance(out, tuple) and len(out) == 1
    torch.testing.assert_close(out[0], b.clamp(min=0).mean(dim=(2, 3)))
    assert torch.equal(b, b0)  # not in place
    assert torch.equal(neck(b)[0], out[0])
    with pytest.raises(ValueError):
        neck(())


def test_classifier_modes():
    clf = MODELS.build(classifier_cfg('resnet8x4', 100))
    clf.init_weights()
    from mmpretrain.structures import DataSample
    x = torch.randn(2, 3, 32, 32)
    samples = [DataSample().set_gt_label(i) for i in (3, 7)]
    assert clf(x).shape == (2, 100)
    losses = clf(x, samples, mode='loss')
    assert set(losses) == {'loss'} and losses['loss'].requires_grad
    preds = clf(x, samples, mode='predict')
    assert preds[0].pred_score.shape == (100,)
