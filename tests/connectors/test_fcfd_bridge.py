import pytest
import torch

from fcfd_mm.connectors import FCFDBridge


@pytest.mark.parametrize('scale,out_hw,conv_type,has_bias', [
    (1, 8, torch.nn.Conv2d, False), (0.5, 4, torch.nn.Conv2d, True), (2, 16, torch.nn.ConvTranspose2d, True)])
def test_resolution_modes_follow_the_official_bridges(scale, out_hw, conv_type, has_bias):
    bridge = FCFDBridge(6, 10, scale=scale)
    y = bridge(torch.randn(2, 6, 8, 8))
    assert y.shape == (2, 10, out_hw, out_hw)
    conv = bridge.block.conv
    assert type(conv) is conv_type or isinstance(conv, conv_type)
    assert (conv.bias is not None) == has_bias
    assert conv.kernel_size == ((4, 4) if scale == 2 else (3, 3))
    assert conv.stride == ((1, 1) if scale == 1 else (2, 2))
    assert isinstance(bridge.block.norm, torch.nn.BatchNorm2d)


def test_init_is_kaiming_fan_out_relu_and_unit_bn():
    torch.manual_seed(0)
    bridge = FCFDBridge(64, 256, activation='leaky_relu')
    w = bridge.block.conv.weight
    fan_out = 256 * 3 * 3
    assert abs(w.std().item() - (2.0 / fan_out) ** 0.5) < 0.05 * (2.0 / fan_out) ** 0.5
    assert torch.all(bridge.block.norm.weight == 1) and torch.all(bridge.block.norm.bias == 0)


def test_activation_is_leaky_relu_0_1_only_when_asked():
    x = torch.randn(4, 3, 5, 5)
    plain = FCFDBridge(3, 3)
    leaky = FCFDBridge(3, 3, activation='leaky_relu')
    leaky.load_state_dict(plain.state_dict())
    y, z = plain(x), leaky(x)
    torch.testing.assert_close(z, torch.where(y > 0, y, 0.1 * y))
    assert (y < 0).any()


def test_unsupported_ratio_and_wrong_channels_are_refused():
    with pytest.raises(ValueError, match='resolution ratio 4'):
        FCFDBridge(3, 3, scale=4)
    with pytest.raises(ValueError, match=r'expected \(B, 3, H, W\)'):
        FCFDBridge(3, 3)(torch.randn(1, 5, 4, 4))
    with pytest.raises(ValueError, match='activation'):
        FCFDBridge(3, 3, activation='relu')


def test_registered_in_mmrazor():
    from mmrazor.registry import MODELS
    bridge = MODELS.build(dict(type='FCFDBridge', in_channels=4, out_channels=8))
    assert isinstance(bridge, FCFDBridge)
