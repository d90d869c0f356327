"""CPUAmpOptimWrapper: MMEngine's AmpOptimWrapper on a CPU-only machine (bf16 autocast, no loss scaling)."""
import pytest
import torch
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

import fcfd_mm  # noqa: F401  (registration)
from fcfd_mm.engine import CPUAmpOptimWrapper


def _wrapper(**kw):
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    return model, OPTIM_WRAPPERS.build(dict(type='CPUAmpOptimWrapper', optimizer=optimizer, **kw))


def test_mmengine_amp_wrapper_refuses_a_cpu_only_machine():
    """The premise: why the subclass exists."""
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: AmpOptimWrapper builds')
    with pytest.raises(AssertionError, match='only available training on gpu'):
        AmpOptimWrapper(optimizer=torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1))


def test_step_runs_the_model_in_bf16_and_updates_fp32_weights_unscaled():
    model, wrapper = _wrapper(loss_scale='dynamic', clip_grad=dict(max_norm=100.0))
    assert isinstance(wrapper, CPUAmpOptimWrapper) and isinstance(wrapper, AmpOptimWrapper)
    x = torch.randn(8, 4)
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(x)
        loss = out.float().pow(2).mean()
    assert out.dtype == torch.bfloat16  # autocast was on, in bf16
    expected_grad, = torch.autograd.grad(loss, model.weight, retain_graph=True)
    wrapper.update_params(loss)
    assert model.weight.dtype == torch.float32
    # plain SGD with the unscaled gradient: the scaler is a pass-through
    torch.testing.assert_close(model.weight.detach(), before - 0.5 * expected_grad)
    state = wrapper.state_dict()
    assert state['loss_scaler'] == {}
    wrapper.load_state_dict(state)  # a checkpoint round trip (resume) works


@pytest.mark.parametrize('kw, match', [(dict(dtype='float16'), 'bfloat16 only'),
                                       (dict(loss_scale=512.0), 'needs no loss scaling')])
def test_fp16_and_static_loss_scales_are_refused_with_the_fix(kw, match):
    with pytest.raises(ValueError, match=match):
        _wrapper(**kw)
