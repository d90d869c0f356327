"""GhostBNStatistics on its own: per-path running statistics that leave the main ones alone,
are read back when scoring, and live in the ordinary state dict (so they move with the module)."""
import copy

import pytest
import torch
from torch import nn

from fcfd_mm.algorithms.ghost_bn import GhostBNStatistics


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Sequential(nn.BatchNorm2d(4)))


def _reference_running_mean(x, momentum=0.1):
    """What one train-mode BN pass makes of a zero running mean: momentum * batch mean per channel."""
    return momentum * x.mean(dim=(0, 2, 3))


def test_a_tracked_pass_updates_only_the_paths_copy_and_outputs_do_not_change():
    net, ghosts = _net(), GhostBNStatistics()
    plain = copy.deepcopy(net)
    x = torch.randn(2, 3, 8, 8)
    main = {k: v.clone() for k, v in net.state_dict().items() if 'running' in k or 'num_batches' in k}
    with ghosts.track(net, 'ts@2'):
        out = net(x)
    torch.testing.assert_close(out, plain(x))  # batch statistics either way
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in main.items())  # main statistics untouched
    stats = ghosts.statistics()
    assert set(stats) == {('ts@2', '1'), ('ts@2', '3.0')}
    mean, var, count = stats[('ts@2', '1')]
    torch.testing.assert_close(mean, _reference_running_mean(net[0](x).detach()))
    assert count.item() == 1
    torch.testing.assert_close(mean, plain[1].running_mean)  # what the plain pass did to its main buffers


def test_eval_mode_bn_layers_get_no_copy_and_scoring_uses_the_copies():
    net, ghosts = _net(), GhostBNStatistics()
    net[3].eval()  # e.g. norm_eval: its passes used the main statistics, so it gets none
    x = torch.randn(2, 3, 8, 8)
    with ghosts.track(net, 'st@1'):
        net(x)
    assert set(ghosts.statistics()) == {('st@1', '1')}
    net.eval()
    with_copy = copy.deepcopy(net)
    with_copy[1].running_mean.copy_(ghosts.statistics()[('st@1', '1')][0])
    with_copy[1].running_var.copy_(ghosts.statistics()[('st@1', '1')][1])
    before = net[1].running_mean.clone()
    with ghosts.use(net, 'st@1'):
        torch.testing.assert_close(net(x), with_copy(x))
    assert torch.equal(net[1].running_mean, before)
    with ghosts.use(net, 'ts@4'):  # a path without copies: the main statistics
        torch.testing.assert_close(net(x), copy.deepcopy(net)(x))


def test_the_copies_are_ordinary_buffers_of_the_state_dict():
    net, ghosts = _net(), GhostBNStatistics()
    with ghosts.track(net, 'ts@1'):
        net(torch.randn(2, 3, 8, 8))
    state = ghosts.state_dict()
    assert sorted(state) == [f'hybrids.ts@1.{layer}.{b}' for layer in ('1', '3/0')
                             for b in ('num_batches_tracked', 'running_mean', 'running_var')]
    fresh = GhostBNStatistics()
    fresh.load_state_dict(state, strict=True)
    assert set(fresh.statistics()) == set(ghosts.statistics())
    for key, tensors in ghosts.statistics().items():
        assert all(torch.equal(a, b) for a, b in zip(tensors, fresh.statistics()[key]))
    fresh.double()  # registered buffers follow the module's moves and casts
    assert fresh.statistics()[('ts@1', '1')][0].dtype == torch.float64
    fresh.clear()
    assert fresh.statistics() == {} and fresh.state_dict() == {}


def test_a_state_dict_missing_a_buffer_is_reported():
    net, ghosts = _net(), GhostBNStatistics()
    with ghosts.track(net, 'ts@1'):
        net(torch.randn(2, 3, 8, 8))
    state = ghosts.state_dict()
    del state['hybrids.ts@1.1.running_var']
    with pytest.raises(RuntimeError, match=r"hybrids.ts@1.1: has \['num_batches_tracked', 'running_mean'\]"):
        GhostBNStatistics().load_state_dict(state)
