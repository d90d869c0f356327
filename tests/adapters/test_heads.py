"""Head-adapter selection (registry, auto-selection, deprecated fcfd.tail) and the StopDistillHook integration."""
import pytest
import torch

from fcfd_mm.adapters import DenseHeadAdapter, RoIBoxHeadAdapter, UnsupportedModelError, build_head_adapter
from tests.tiny_models import build_fcfd


def test_the_adapter_is_picked_from_the_student():
    assert isinstance(build_fcfd('frcnn').head_adapter, RoIBoxHeadAdapter)
    assert isinstance(build_fcfd('retina').head_adapter, DenseHeadAdapter)


def test_a_named_adapter_must_fit_the_student():
    alg = build_fcfd('frcnn')
    with pytest.raises(UnsupportedModelError, match='DenseHeadAdapter: the student'):
        build_head_adapter(alg.student, alg.teacher, dict(type='DenseHeadAdapter'))
    with pytest.raises(KeyError, match='unknown'):
        build_head_adapter(alg.student, alg.teacher, dict(type='MaskHeadAdapter'))
    with pytest.raises(ValueError, match='anchor_weighting'):
        build_head_adapter(build_fcfd('retina').student, build_fcfd('retina').teacher,
                           dict(type='DenseHeadAdapter', anchor_weighting='iou'))


def test_mmrazor_stop_distill_hook_stops_fcfd():
    from types import SimpleNamespace

    from mmengine.logging import MMLogger
    from mmrazor.engine.hooks import StopDistillHook
    alg = build_fcfd('frcnn')
    runner = SimpleNamespace(epoch=3, model=alg, logger=MMLogger.get_instance('test_stop_hook'))
    StopDistillHook(stop_epoch=3).before_train_epoch(runner)
    assert alg.distillation_stopped


def test_retinanet_defaults_are_the_configs_setting():
    alg = build_fcfd('retina')
    head = alg.head_adapter
    assert head.anchor_weighting == 'teacher_score' and head.row_weights(dict(cls=torch.zeros(3, 4))).shape == (3,)
    assert alg.fcfd_neck.paths == ('s', 'st', 'ts')
    assert head.default_output_losses()['cls'] == dict(type='SigmoidKDLoss', tau=1.0, loss_weight=5.0)


def test_unknown_fcfd_keys_are_refused_with_the_keys_it_takes():
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['tail'\]; it takes \['head', 'neck', 'stages'\]"):
        build_fcfd('frcnn', dict(tail=dict(type='RoIBoxHeadAdapter')))


def test_a_family_registered_from_outside_is_picked_from_the_registry():
    """What a user's module in custom_imports does: register a head adapter; auto-selection finds it."""
    from fcfd_mm.adapters import HEAD_ADAPTERS

    class MarkedRoIHeadAdapter(RoIBoxHeadAdapter):
        @classmethod
        def supports(cls, model):
            return getattr(model, 'marked', False)

    HEAD_ADAPTERS.register_module(module=MarkedRoIHeadAdapter)
    try:
        alg = build_fcfd('frcnn')
        alg.student.marked = alg.teacher.marked = True
        assert type(build_head_adapter(alg.student, alg.teacher)) is MarkedRoIHeadAdapter
        assert type(build_head_adapter(alg.student, alg.teacher, dict(type='MarkedRoIHeadAdapter'))) \
            is MarkedRoIHeadAdapter
    finally:
        HEAD_ADAPTERS.module_dict.pop('MarkedRoIHeadAdapter')
