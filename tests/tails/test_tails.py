"""Adapter selection and the StopDistillHook integration."""
import pytest

from fcfd_mm.tails import DenseHeadTail, RoIBoxHeadTail, UnsupportedModelError, build_tail
from tests.tiny_models import build_fcfd


def test_the_adapter_is_picked_from_the_student():
    assert isinstance(build_fcfd('frcnn').tail, RoIBoxHeadTail)
    assert isinstance(build_fcfd('retina').tail, DenseHeadTail)


def test_a_named_adapter_must_fit_the_student():
    alg = build_fcfd('frcnn')
    with pytest.raises(UnsupportedModelError, match='DenseHeadTail: the student'):
        build_tail(alg.student, alg.teacher, dict(type='DenseHeadTail'))
    with pytest.raises(KeyError, match='unknown'):
        build_tail(alg.student, alg.teacher, dict(type='MaskHeadTail'))
    with pytest.raises(ValueError, match='anchor_weighting'):
        build_tail(build_fcfd('retina').student, build_fcfd('retina').teacher,
                   dict(type='DenseHeadTail', anchor_weighting='iou'))


def test_mmrazor_stop_distill_hook_stops_fcfd():
    from types import SimpleNamespace

    from mmengine.logging import MMLogger
    from mmrazor.engine.hooks import StopDistillHook
    alg = build_fcfd('frcnn')
    runner = SimpleNamespace(epoch=3, model=alg, logger=MMLogger.get_instance('test_stop_hook'))
    StopDistillHook(stop_epoch=3).before_train_epoch(runner)
    assert alg.distillation_stopped
