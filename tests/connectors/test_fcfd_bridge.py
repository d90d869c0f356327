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


@pytest.mark.parametrize('activation', [None, 'leaky_relu'])
def test_transposed_bridge_keeps_pytorchs_default_init(activation):
    """The official init loop touches nn.Conv2d only: a 2x-up bridge's ConvTranspose2d (weight and
    bias) is what PyTorch builds from the same RNG state."""
    torch.manual_seed(3)
    bridge = FCFDBridge(6, 10, scale=2, activation=activation)
    torch.manual_seed(3)
    ref = torch.nn.ConvTranspose2d(6, 10, 4, stride=2, padding=1, bias=True)
    assert torch.equal(bridge.block.conv.weight, ref.weight) and torch.equal(bridge.block.conv.bias, ref.bias)
    assert torch.all(bridge.block.norm.weight == 1) and torch.all(bridge.block.norm.bias == 0)


def test_stride2_bridge_has_kaiming_weight_and_default_bias():
    torch.manual_seed(4)
    bridge = FCFDBridge(64, 128, scale=0.5)
    torch.manual_seed(4)
    ref = torch.nn.Conv2d(64, 128, 3, stride=2, padding=1, bias=True)
    conv = bridge.block.conv
    assert torch.equal(conv.bias, ref.bias) and conv.bias.abs().max() > 0  # default uniform, not zeroed
    std = (2.0 / (128 * 9)) ** 0.5  # kaiming normal, fan_out, relu gain
    assert abs(conv.weight.std().item() - std) < 0.05 * std
    assert conv.weight.abs().max() > 1 / (64 * 9) ** 0.5  # not PyTorch's uniform(+-1/sqrt(fan_in))


def test_init_weights_redoes_the_official_init():
    bridge = FCFDBridge(16, 32, scale=2)
    torch.nn.init.zeros_(bridge.block.conv.weight)
    torch.nn.init.zeros_(bridge.block.conv.bias)
    bridge.init_weights()
    bound = 1 / (32 * 16) ** 0.5  # ConvTranspose2d: fan_in = out_channels * k * k, uniform(+-bound) bias
    assert 0 < bridge.block.conv.bias.abs().max() <= bound
    assert 0 < bridge.block.conv.weight.abs().max() <= bound


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


def test_bridge_starts_with_the_receivers_channel_statistics():
    torch.manual_seed(3)
    bridge = FCFDBridge(4, 6).train()
    x = torch.randn(3, 4, 8, 8)
    target = torch.randn(3, 6, 8, 8) * torch.tensor([1.0, 10, 100, 0.1, 5, 50]).view(1, 6, 1, 1) + 7
    bridge.match_statistics(x, target)
    out = bridge(x)
    torch.testing.assert_close(out.mean((0, 2, 3)), target.mean((0, 2, 3)), rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(out.std((0, 2, 3)), target.std((0, 2, 3)), rtol=2e-2, atol=1e-3)
