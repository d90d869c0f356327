"""Head-adapter selection (registry, auto-selection, deprecated fcfd.tail) and the StopDistillHook integration."""
import pytest

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
    assert head.anchor_weighting == 'teacher_score' and head.weights_rows
    assert alg.fcfd_neck.paths == ('s', 'st', 'ts')
    assert head.default_output_losses()['cls'] == dict(type='SigmoidKDLoss', tau=1.0, loss_weight=5.0)


@pytest.mark.parametrize('old, new', [('RoIBoxHeadTail', RoIBoxHeadAdapter), ('DenseHeadTail', DenseHeadAdapter)])
def test_the_deprecated_tail_key_maps_to_the_head_adapter(old, new):
    family = 'frcnn' if new is RoIBoxHeadAdapter else 'retina'
    with pytest.warns(FutureWarning, match=f"fcfd.tail is deprecated: use fcfd.head=dict\\(type='{new.__name__}'"):
        alg = build_fcfd(family, dict(tail=dict(type=old)))
    assert type(alg.head_adapter) is new


def test_the_deprecated_classifier_tail_moves_tau_and_probe_size():
    from fcfd_mm.adapters import translate_legacy_tail
    with pytest.warns(FutureWarning, match='tail.tau -> stages.output_losses.cls.tau'):
        fcfd = translate_legacy_tail(dict(tail=dict(type='ImageClassifierTail', tau=8.0, probe_size=224),
                                          stages=dict(num_paths=2)))
    assert fcfd == dict(head=dict(type='ClassifierHeadAdapter'), stages=dict(
        num_paths=2, cutter=dict(probe_size=224),
        output_losses=dict(cls=dict(type='KLDivergence', tau=8.0, loss_weight=1.0, reduction='batchmean'))))


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
