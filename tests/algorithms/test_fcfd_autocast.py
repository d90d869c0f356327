"""AMP safety: every FCFD term is float32 under autocast and agrees with the fp32 step.

The models run under ``torch.autocast('cpu', dtype=torch.bfloat16)`` (the CPU's autocast; on a GPU
``--amp`` is fp16, where an fp16 loss would also overflow) and in fp32, with the same weights,
inputs and seeds. bf16 keeps 8 significant bits: each rounding is off by up to 2^-8 = 3.9e-3
relative, and the features reaching the losses went through ~10-20 such layers. Tolerances:

* ``RTOL = 2e-2``: measured at most 4e-3 on every term that is not near zero (about one
  rounding: the layers' fp32 accumulation keeps errors from compounding); 2e-2 is 5 roundings.
* ``ATOL = 5e-5`` (about 3 (2^-8)^2): a KL / squared difference between outputs that agree to
  bf16 resolution (e.g. RetinaNet's ``cls_st`` KL of 6e-7 on these near-constant tiny heads, or the
  classifier's ``stage_cls_st`` KL of 5.5e-4, off by 2.5e-5 in bf16) cannot be resolved below
  that; such terms are compared in absolute terms.

Without :func:`fcfd_mm.algorithms.fcfd_core.fp32_loss` the MSE terms come out bf16 (MMRazor's
``L2Loss`` and ``WeightedMSELoss`` reduce in the input dtype), so the dtype checks fail.
"""
import contextlib
import copy

import pytest
import torch

from fcfd_mm import compat
from fcfd_mm.algorithms.fcfd_core import fp32_loss
from tests.algorithms.test_fcfd_classification import build as build_classifier
from tests.algorithms.test_fcfd_classification import cls_batch
from tests.algorithms.test_fcfd_stages import set_progress
from tests.tiny_models import batch, build_fcfd

RTOL, ATOL = 2e-2, 5e-5


@pytest.fixture(autouse=True, scope='module')
def _mmcv_ops_take_bf16():
    """mmcv's CPU nms / RoIAlign under bf16 autocast, as CPUAmpOptimWrapper sets up for --amp."""
    compat.enable_cpu_bf16_ops()


@contextlib.contextmanager
def fixed_proposals(alg):
    """Replay the student RPN's first (fp32) proposals on every later call.

    bf16 RPN scores reorder the proposals, so the two passes would sample different RoIs and the
    RoI-head terms would differ by more than precision. With the same proposals and the same seed,
    the RoI sampler draws the same RoIs in both passes.
    """
    head = alg.student.rpn_head
    original, saved = head.predict_by_feat, []

    def predict(*args, **kwargs):
        if not saved:
            saved.append(copy.deepcopy(original(*args, **kwargs)))
        return copy.deepcopy(saved[0])  # StandardRoIHead.loss pops fields from its input

    head.predict_by_feat = predict
    try:
        yield
    finally:
        del head.predict_by_feat


def fcfd_terms(alg, data, autocast: bool) -> dict:
    torch.manual_seed(0)  # the RoI sampler's draw
    ctx = torch.autocast('cpu', dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
    with ctx:
        losses = alg.loss(data['inputs'], data['data_samples'])
    return {k: v for k, v in losses.items() if 'loss_fcfd' in k}


def assert_amp_safe(alg, data, expected_keys):
    with fixed_proposals(alg) if hasattr(alg.student, 'rpn_head') else contextlib.nullcontext():
        ref = fcfd_terms(alg, data, autocast=False)
        with torch.autocast('cpu', dtype=torch.bfloat16):  # the premise: the models do run in bf16
            assert alg.student.extract_feat(data['inputs'])[0].dtype == torch.bfloat16
        got = fcfd_terms(alg, data, autocast=True)
    assert set(got) == set(ref) == expected_keys
    for key, value in got.items():
        assert value.dtype == torch.float32, f'{key} is {value.dtype}'
        assert torch.isfinite(value), key
        torch.testing.assert_close(value.detach(), ref[key].detach(), rtol=RTOL, atol=ATOL, msg=key)
    total, _ = alg.parse_losses(got)
    total.backward()  # the gradient flows back through the casts into the bf16 graph
    grads = [p.grad for m in alg.fcfd_switches() for p in m.parameters()]  # every bridge gets one (DDP)
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


def test_frcnn_terms_under_bf16_autocast():
    alg = build_fcfd('frcnn')
    keys = {f'distill.loss_fcfd_{o}_{p}' for o in ('cls', 'reg') for p in ('s', 'st', 'ts')} | {
        'distill.loss_fcfd_app'}
    assert_amp_safe(alg, batch(alg), keys)


def test_retinanet_weighted_terms_under_bf16_autocast():
    alg = build_fcfd('retina', dict(head=dict(type='DenseHeadAdapter', anchor_weighting='teacher_score'),
                                    neck=dict(paths=('s', 'st', 'ts'))))
    keys = {f'distill.loss_fcfd_{o}_{p}' for o in ('cls', 'reg') for p in ('s', 'st', 'ts')} | {
        'distill.loss_fcfd_app'}
    assert_amp_safe(alg, batch(alg), keys)


@pytest.mark.parametrize('stages', [dict(num_paths=4), dict(num_paths=1, mode='ts')],
                         ids=['both_directions', 'ts_only_zero_terms'])
def test_classifier_stage_terms_under_bf16_autocast(stages):
    """Stage appearance / hybrid-feature / output terms; with ``mode='ts'`` the feature and
    S->T terms are the zeros of unsampled paths, which must be float32 too."""
    alg = build_classifier('resnet20', 'resnet56', stages)
    set_progress(alg, epoch=3, it=17)
    data, _ = cls_batch(alg)
    keys = {f'distill.loss_fcfd_stage_{t}' for t in ('app', 'feat', 'cls_s', 'cls_st', 'cls_ts')}
    assert_amp_safe(alg, data, keys)


# --------------------------------------------------------------- bf16 tensors fed to the loss code
def _loss(cfg):
    from mmrazor.registry import MODELS
    return MODELS.build(cfg)


#: the distances FCFD's terms use, with whether they take per-row weights
LOSS_CASES = pytest.mark.parametrize('cfg, weighted', [
    (dict(type='KLDivergence', tau=1.0, reduction='batchmean'), False),
    (dict(type='L2Loss', normalize=False, div_element=True), False),
    (dict(type='SigmoidKDLoss', tau=2.0), True),
    (dict(type='WeightedMSELoss'), True)], ids=['kl', 'l2', 'sigmoid_kd', 'weighted_mse'])


@LOSS_CASES
def test_fp32_loss_on_bf16_inputs_is_float32_with_and_without_autocast(cfg, weighted):
    """The terms are float32 and as exact as a float32 computation on the same bf16 values
    (rtol 1e-5 against float64), where a bf16 computation is off by ~1e-3; also when the
    caller is still inside autocast, and for an empty batch (no RoI left)."""
    loss = _loss(cfg)
    gen = torch.Generator().manual_seed(0)
    pred = (3 * torch.randn(4096, 21, generator=gen)).bfloat16().requires_grad_()
    target = (3 * torch.randn(4096, 21, generator=gen)).bfloat16()
    weight = torch.rand(4096, generator=gen).bfloat16() if weighted else None
    reference = loss(pred.detach().double(), target.double(), *([weight.double()] if weighted else []))
    assert loss(pred.detach(), target, *([weight] if weighted else [])).dtype == torch.bfloat16  # the premise
    for ctx in (contextlib.nullcontext(), torch.autocast('cpu', dtype=torch.bfloat16)):
        with ctx:
            value = fp32_loss(loss, pred, target, weight)
        assert value.dtype == torch.float32
        torch.testing.assert_close(value.double(), reference, rtol=1e-5, atol=0)
    value.backward()
    assert pred.grad.dtype == torch.bfloat16 and torch.isfinite(pred.grad.float()).all()
    empty = fp32_loss(loss, pred[:0], target[:0], None if weight is None else weight[:0])
    assert empty.dtype == torch.float32 and empty.item() == 0.0


@LOSS_CASES
def test_fp32_loss_keeps_float64_and_float32(cfg, weighted):
    """Promotion only: float64 inputs give a float64 term equal to the float64 computation (a check
    against a reference in float64 is not cut to float32's ~1e-7), float32 stays float32."""
    loss = _loss(cfg)
    gen = torch.Generator().manual_seed(1)
    pred = torch.randn(512, 21, generator=gen, dtype=torch.float64).requires_grad_()
    target = torch.randn(512, 21, generator=gen, dtype=torch.float64)
    weight = torch.rand(512, generator=gen, dtype=torch.float64) if weighted else None
    reference = loss(pred.detach(), target, *([weight] if weighted else []))
    value = fp32_loss(loss, pred, target, weight)
    assert value.dtype == torch.float64
    torch.testing.assert_close(value, reference, rtol=1e-12, atol=0)
    value.backward()
    assert pred.grad.dtype == torch.float64
    single = fp32_loss(loss, pred.detach().float(), target.float(), None if weight is None else weight.float())
    assert single.dtype == torch.float32
    assert fp32_loss(loss, pred[:0], target[:0], None if weight is None else weight[:0]).dtype == torch.float64
