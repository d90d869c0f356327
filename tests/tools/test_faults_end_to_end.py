"""The faults of a long run, through tools/train.py: FCFD trains on unusual and partly broken data
(a batch of images without boxes, zero-width boxes, unreadable images, malformed annotations) with
finite terms and named warnings; --resume from a cut checkpoint stops before training with the
--resume to use."""
import math
import re
import shutil

import pytest

from tests.conftest import demo_data_options, run_tool


@pytest.mark.slow
def test_fcfd_trains_through_unusual_and_broken_data_with_finite_terms(broken_demo_data, tmp_path):
    res = run_tool(['python', 'tools/train.py', 'configs/demo/fcfd_frcnn_demo.py', '--work-dir', str(tmp_path),
                    '--no-teacher-check', '--cfg-options', 'model.teacher_ckpt=None', 'train_cfg.max_iters=4',
                    'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=4',
                    'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
                    'train_dataloader.sampler.shuffle=False',  # batch 1: the two images without boxes
                    'train_dataloader.dataset.filter_cfg.filter_empty_gt=False',
                    *demo_data_options(broken_demo_data.root)])
    log = res.stdout + res.stderr
    for name, words in broken_demo_data.unreadable.items():  # batches 2 and 3 meet them
        assert re.search(rf'skipped unreadable image \S+/train/{name} of dataset \S+: [^\n]*{words}', log), log[-3000:]
    assert '3 malformed annotations (1 outside the image, 1 negative size, 1 unknown category)' in log
    assert '1 degenerate boxes' in log
    lines = [ln for ln in log.splitlines() if 'Iter(train)' in ln]
    assert len(lines) == 4
    values = [float(v) for ln in lines for v in re.findall(r'loss\w*: (\S+)', ln)]
    assert values and all(math.isfinite(v) for v in values)
    assert all('distill.loss_fcfd_cls_st' in ln for ln in lines)
    assert (tmp_path / 'iter_4.pth').is_file()


@pytest.mark.slow
def test_resume_from_a_cut_checkpoint_stops_before_training(trained_demo_student, tiny_demo_data, tmp_path):
    _, ckpt = trained_demo_student
    shutil.copy(ckpt, tmp_path / 'iter_4.pth')
    data = ckpt.read_bytes()
    (tmp_path / 'iter_8.pth').write_bytes(data[:int(len(data) * 0.6)])  # a copy cut short
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_8.pth'))
    common = ['--cfg-options', 'train_cfg.max_iters=12', 'train_dataloader.batch_size=2',
              *demo_data_options(tiny_demo_data)]
    for resume in (['--resume'], ['--resume', str(tmp_path / 'iter_8.pth')]):  # auto, explicit
        res = run_tool(['python', 'tools/train.py', 'configs/demo/faster-rcnn_demo_student.py', '--work-dir',
                        str(tmp_path), *resume, *common], check=False)
        log = res.stdout + res.stderr
        assert res.returncode == 1 and 'Traceback' not in log, log[-3000:]
        assert f"error: ResumeCheckError: cannot resume from '{tmp_path / 'iter_8.pth'}'" in log
        assert 'cut short' in log and f'--resume {tmp_path / "iter_4.pth"}' in log
        assert 'Iter(train)' not in log
    res = run_tool(['python', 'tools/train.py', 'configs/demo/faster-rcnn_demo_student.py', '--work-dir',
                    str(tmp_path), '--resume', str(tmp_path / 'iter_9.pth'), *common], check=False)
    assert res.returncode == 1 and "cannot resume from '" in res.stderr and 'the file does not exist' in res.stderr
    assert f'--resume {tmp_path / "iter_4.pth"}' in res.stderr
