"""tools/train.py on the FCFD Faster R-CNN demo: the validation line carries the hybrid metrics."""
import re

import pytest

from tests.conftest import demo_data_options, run_tool

pytestmark = pytest.mark.slow


def test_validation_line_has_student_teacher_and_hybrid_map(tiny_demo_data, tmp_path):
    res = run_tool(['python', 'tools/train.py', 'configs/demo/fcfd_frcnn_demo.py', '--work-dir', str(tmp_path),
                    '--no-teacher-check', '--cfg-options', 'model.teacher_ckpt=None', 'train_cfg.max_iters=2',
                    'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
                    *demo_data_options(tiny_demo_data)])
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if re.search(r'Iter\(val\) \[\d+/\d+\]\s+coco/', ln)]
    assert len(lines) == 1, lines
    for key in ('coco/bbox_mAP', 'teacher.coco/bbox_mAP', 'hybrid_st.coco/bbox_mAP', 'hybrid_ts.coco/bbox_mAP'):
        assert re.search(rf'(?<![\w.@]){re.escape(key)}: -?\d', lines[0]), key
