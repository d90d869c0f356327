"""The teacher check: an untrained or other-class teacher is refused before the first iteration."""
import copy

import pytest
import torch

from fcfd_mm.engine.teacher_check import (
    FCFDTeacherCheckHook,
    TeacherCheckError,
    check_classes,
    checkpoint_classes,
    default_min_value,
    evaluate_teacher,
    pick_metric,
    resolve_teacher_check,
)
from tests.conftest import REPO, demo_data_options, run_tool

CLASSES = ('circle', 'square', 'triangle', 'ring')  # the demo dataset's


# ------------------------------------------------------------------ pure parts
def test_class_names_must_match_in_order():
    check_classes(CLASSES, list(CLASSES), 'the teacher')
    check_classes(None, CLASSES, 'the teacher')  # a checkpoint without classes is not checked
    with pytest.raises(TeacherCheckError, match=r'another order .*index 0.*check_classes=False'):
        check_classes(CLASSES[::-1], CLASSES, 'the teacher (t.pth)')
    with pytest.raises(TeacherCheckError, match=r"only in the teacher: \['person'\]"):
        check_classes(('person', ) + CLASSES[1:], CLASSES, 'the teacher (t.pth)')


def test_checkpoint_classes_reads_mmengine_and_old_mmdet_meta():
    assert checkpoint_classes({'dataset_meta': {'classes': CLASSES}}) == CLASSES
    assert checkpoint_classes({'CLASSES': list(CLASSES)}) == CLASSES
    assert checkpoint_classes({}) is None and checkpoint_classes(None) is None


def test_metric_picking_and_default_bars():
    assert pick_metric({'coco/bbox_mAP': 0.4, 'coco/bbox_mAP_50': 0.6}, None) == ('coco/bbox_mAP', 0.4)
    assert pick_metric({}, None)[1] == 0.0  # mmdet's COCO metric returns nothing when nothing is detected
    assert pick_metric({}, 'coco/bbox_mAP') == ('coco/bbox_mAP', 0.0)
    with pytest.raises(ValueError, match='FCFDTeacherCheckHook.metric'):
        pick_metric({'foo/bar': 1.0}, None)
    assert default_min_value('coco/bbox_mAP', 80) == 0.02
    assert default_min_value('accuracy/top1', 100) == 5.0 and default_min_value('accuracy/top1', 4) == 50.0


def test_settings_are_validated():
    assert resolve_teacher_check({})['num_samples'] == 32
    assert FCFDTeacherCheckHook(num_samples=4, min_value=0).settings == dict(
        num_samples=4, metric=None, min_value=0, check_classes=True)
    with pytest.raises(ValueError, match='no setting'):
        resolve_teacher_check(dict(samples=3))
    with pytest.raises(ValueError, match='num_samples must be >= 1'):
        FCFDTeacherCheckHook(num_samples=0)


# ------------------------------------------------------------------ through mmengine's Runner
def _teacher_ckpt(path, classes=CLASSES, seed=0):
    """A random (untrained) demo teacher, saved as tools/train.py would, with its dataset classes."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    torch.manual_seed(seed)
    teacher = MODELS.build(Config.fromfile(str(REPO / 'configs/demo/faster-rcnn_demo_teacher.py')).model)
    teacher.init_weights()
    torch.save({'state_dict': teacher.state_dict(), 'meta': {'dataset_meta': {'classes': classes}}}, path)
    return str(path)


def _runner(tiny_demo_data, tmp_path, check='default', **model):
    """The FCFD demo's Runner; ``check``: FCFDTeacherCheckHook settings, or None (hook removed)."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(str(REPO / 'configs/demo/fcfd_frcnn_demo.py'))
    cfg.merge_from_dict(dict(o.split('=', 1) for o in demo_data_options(tiny_demo_data)))
    cfg.merge_from_dict({'train_cfg.max_iters': 1, 'train_cfg.val_interval': 100, 'train_dataloader.batch_size': 2,
                         'val_dataloader.batch_size': 4, 'default_hooks.checkpoint.interval': 1})
    cfg.model.update(model)
    hooks = [h for h in cfg.custom_hooks if h['type'] != 'FCFDTeacherCheckHook']
    cfg.custom_hooks = hooks if check is None else \
        [dict(type='FCFDTeacherCheckHook', **({} if check == 'default' else check)), *hooks]
    cfg.work_dir = str(tmp_path / 'work')
    return Runner.from_cfg(cfg)


def teacher_checked(runner) -> bool:
    """Whether an FCFDTeacherCheckHook of the runner passed its check."""
    return any(isinstance(h, FCFDTeacherCheckHook) and h.passed for h in runner.hooks)


def test_an_untrained_teacher_is_refused_before_the_first_iteration(tiny_demo_data, tmp_path):
    ckpt = _teacher_ckpt(tmp_path / 'untrained.pth')
    runner = _runner(tiny_demo_data, tmp_path, teacher_ckpt=ckpt, check=dict(num_samples=8))
    with pytest.raises(TeacherCheckError) as exc:
        runner.train()
    msg = str(exc.value)
    assert 'untrained.pth' in msg and 'mAP' in msg and 'on the first 8 validation samples' in msg
    assert '--no-teacher-check' in msg and 'min_value' in msg
    assert not list((tmp_path / 'work').glob('iter_*.pth'))  # stopped before any training step


def test_a_teacher_of_other_classes_is_refused(tiny_demo_data, tmp_path):
    ckpt = _teacher_ckpt(tmp_path / 'reordered.pth', classes=CLASSES[::-1])
    runner = _runner(tiny_demo_data, tmp_path, teacher_ckpt=ckpt)
    with pytest.raises(TeacherCheckError, match=r'reordered\.pth.*another order'):
        runner.train()


def test_the_check_measures_and_passes_at_a_lower_bar_or_is_switched_off(tiny_demo_data, tmp_path, caplog):
    ckpt = _teacher_ckpt(tmp_path / 'untrained.pth')
    runner = _runner(tiny_demo_data, tmp_path, teacher_ckpt=ckpt, check=dict(num_samples=4, min_value=0))
    runner.train()
    assert teacher_checked(runner) and (tmp_path / 'work' / 'iter_1.pth').is_file()
    runner = _runner(tiny_demo_data, tmp_path / 'off', teacher_ckpt=ckpt, check=None)
    runner.train()
    assert not teacher_checked(runner)


def test_evaluating_the_teacher_changes_no_running_statistic_nor_train_mode(tiny_demo_data, tmp_path):
    runner = _runner(tiny_demo_data, tmp_path, teacher_ckpt=_teacher_ckpt(tmp_path / 't.pth'))
    alg = runner.model
    alg.train()
    for m in alg.teacher.modules():  # also the layers norm_eval keeps in eval mode: make every one train
        m.train()
    modes = [m.training for m in alg.teacher.modules()]
    buffers = copy.deepcopy({k: v for k, v in alg.teacher.state_dict().items() if 'running' in k})
    evaluator = runner.build_evaluator(copy.deepcopy(runner.cfg.val_evaluator))
    evaluator.dataset_meta = runner.val_dataloader.dataset.metainfo
    metrics, seen = evaluate_teacher(alg, runner.val_dataloader, evaluator, num_samples=6)
    assert seen == 8  # whole batches of 4 until 6 are reached
    assert [m.training for m in alg.teacher.modules()] == modes
    after = alg.teacher.state_dict()
    assert buffers and all(torch.equal(v, after[k]) for k, v in buffers.items())


@pytest.mark.slow
def test_every_ddp_rank_refuses_an_untrained_teacher(tiny_demo_data, tmp_path):
    ckpt = _teacher_ckpt(tmp_path / 'untrained.pth')
    res = run_tool(['bash', 'tools/dist_train.sh', 'configs/demo/fcfd_frcnn_demo.py', '2', '--work-dir',
                    str(tmp_path / 'work'), '--cfg-options', f'model.teacher_ckpt={ckpt}', 'train_cfg.max_iters=2',
                    'train_dataloader.batch_size=2', 'custom_hooks.0.num_samples=8',
                    *demo_data_options(tiny_demo_data)],
                   env={'PORT': '29531', 'PYTHON': __import__('sys').executable}, check=False)
    log = res.stdout + res.stderr
    # both ranks evaluate their half of the samples, the metric is gathered and broadcast, so both stop
    # at once (no rank left waiting in a collective); torchrun reports the failure and exits non-zero
    assert res.returncode != 0 and 'TeacherCheckError: teacher check failed' in log, log[-3000:]
    assert not list((tmp_path / 'work').glob('iter_*.pth'))
