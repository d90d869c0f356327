"""fcfd_mm.utils.checkpoints: a complete checkpoint passes; a cut, emptied or damaged one is named with
what is wrong; the newest complete checkpoint of a work dir is found, newest first."""
import os
import zipfile

import torch

from fcfd_mm.utils.checkpoints import (
    checkpoint_problem,
    newest_complete_checkpoint,
    resume_advice,
    step_of,
    training_checkpoints,
)


def _save(path, n=1000):
    torch.save({'state_dict': {'w': torch.arange(n, dtype=torch.float32)}}, path)
    return path


def _cut(path, keep=0.6):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    return path


def test_a_complete_checkpoint_has_no_problem(tmp_path):
    assert checkpoint_problem(str(_save(tmp_path / 'iter_2.pth'))) is None


def test_a_cut_empty_missing_or_damaged_checkpoint_is_named(tmp_path):
    cut = _cut(_save(tmp_path / 'cut.pth'))
    assert 'cut short or damaged' in checkpoint_problem(str(cut)) and f'{cut.stat().st_size:,} bytes' in \
        checkpoint_problem(str(cut))
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    assert 'empty (0 bytes)' in checkpoint_problem(str(empty))
    assert checkpoint_problem(str(tmp_path / 'nowhere.pth')) == 'the file does not exist'
    damaged = _save(tmp_path / 'damaged.pth', n=100_000)
    with zipfile.ZipFile(damaged) as z:  # flip one byte inside the tensor's record, not in the zip's structure
        info = next(i for i in z.infolist() if i.file_size == 400_000)
    data = bytearray(damaged.read_bytes())
    data[info.header_offset + 200 + 1000] ^= 0xFF
    damaged.write_bytes(bytes(data))
    torch.load(damaged, weights_only=True)  # torch itself loads the damaged file without complaint
    assert 'does not match its CRC-32' in checkpoint_problem(str(damaged))


def test_the_newest_complete_checkpoint_skips_cut_ones_and_orders_by_step(tmp_path):
    for step in (2, 4, 10):
        _save(tmp_path / f'iter_{step}.pth')
    _save(tmp_path / 'best_coco_bbox_mAP_iter_10.pth')  # no training state: never a resume candidate
    _cut(tmp_path / 'iter_10.pth')
    assert [os.path.basename(p) for p in training_checkpoints([str(tmp_path)] * 2)] == \
        ['iter_10.pth', 'iter_4.pth', 'iter_2.pth']  # by step (10 after 4), each folder once
    assert newest_complete_checkpoint([str(tmp_path)]) == str(tmp_path / 'iter_4.pth')
    assert newest_complete_checkpoint([str(tmp_path)], exclude=[str(tmp_path / 'iter_4.pth')]) == \
        str(tmp_path / 'iter_2.pth')
    assert step_of('/w/epoch_12.pth') == ('epoch', 12) and step_of('/w/latest.pth') is None


def test_resume_advice_gives_the_exact_resume_option(tmp_path):
    _save(tmp_path / 'epoch_3.pth')
    advice, path = resume_advice([str(tmp_path)]), tmp_path / 'epoch_3.pth'
    assert f'is {path} (epoch 3)' in advice and advice.endswith(f'--resume {path}')
    _cut(tmp_path / 'epoch_3.pth')
    assert resume_advice([str(tmp_path)]).startswith(f'No complete checkpoint is in {tmp_path}')
