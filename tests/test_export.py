"""Student-only export: plain mmdet loads it and predicts bitwise like the distilled model."""
import copy

import pytest
import torch

from tests.conftest import demo_data_options, run_tool

pytestmark = pytest.mark.slow


def test_exported_student_predicts_exactly_like_the_distilled_model(tiny_demo_data, tmp_path):
    from mmdet.apis import init_detector
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmrazor.registry import MODELS

    run_tool(['python', 'tools/train.py', 'configs/demo/fcfd_frcnn_demo.py', '--work-dir', str(tmp_path),
              '--no-teacher-check', '--cfg-options', 'model.teacher_ckpt=None', 'train_cfg.max_iters=2',
              'train_cfg.val_interval=100',
              'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
              *demo_data_options(tiny_demo_data)])
    out, out_cfg = tmp_path / 'student.pth', tmp_path / 'student_cfg.py'
    res = run_tool(['python', 'tools/export_student.py', 'configs/demo/fcfd_frcnn_demo.py',
                    str(tmp_path / 'iter_2.pth'), str(out), '--out-config', str(out_cfg)])
    assert 'student tensors' in res.stdout
    saved = torch.load(out, map_location='cpu')
    assert not any(k.startswith(('architecture.', 'teacher.', 'fcfd')) for k in saved['state_dict'])
    assert saved['meta']['dataset_meta']['classes'] == ('circle', 'square', 'triangle', 'ring')

    plain = init_detector(str(out_cfg), str(out), device='cpu')  # mmdet's own API
    cfg = Config.fromfile('configs/demo/fcfd_frcnn_demo.py')
    assert cfg.val_cfg.type == 'mmrazor.FCFDValLoop'
    assert Config.fromfile(str(out_cfg)).val_cfg.type == 'ValLoop'  # a plain student has no teacher / hybrids
    cfg.model.teacher_ckpt = None
    distilled = MODELS.build(cfg.model)
    load_checkpoint(distilled, str(tmp_path / 'iter_2.pth'), map_location='cpu', strict=True)
    distilled.eval()

    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(batch_size=2, image_shapes=[(3, 128, 128)] * 2, num_classes=4)
    with torch.no_grad():
        a = plain.test_step(copy.deepcopy(packed))
        b = distilled.test_step(copy.deepcopy(packed))
    for x, y in zip(a, b):
        assert len(x.pred_instances) > 0
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(x.pred_instances[key], y.pred_instances[key]), key


def test_export_refuses_a_plain_checkpoint(trained_demo_student, tmp_path):
    from tools.export_student import main
    _, ckpt = trained_demo_student
    with pytest.raises(SystemExit) as exc:
        main(['configs/demo/fcfd_frcnn_demo.py', str(ckpt), str(tmp_path / 'x.pth')])
    assert 'no student weights' in str(exc.value.code)
