"""tools/check_data.py: decodes every image of a config's dataloaders (FCFD or plain mmdet config),
lists the unreadable files, the malformed annotations and the images without boxes, and exits 1
when something is unusable."""
import re

import pytest

from tests.conftest import REPO, demo_data_options


def _check(config, root, capsys, *extra):
    from tools.check_data import main
    code = main([config, *extra, '--cfg-options', *demo_data_options(root)])
    return code, capsys.readouterr().out


@pytest.mark.parametrize('workers', ['1', '2'])
def test_a_broken_dataset_is_listed_and_fails(broken_demo_data, capsys, workers):
    code, out = _check('configs/demo/fcfd_frcnn_demo.py', broken_demo_data.root, capsys, '--workers', workers)
    assert code == 1
    for name, words in broken_demo_data.unreadable.items():
        assert re.search(rf'train/{name}: .*{words}', out), out
    for ann_id, kind in broken_demo_data.malformed.items():
        assert f'annotation {ann_id} of ' in out
    assert 'malformed annotations: 3' in out and 'unreadable images: 2' in out
    assert 'dropped 3 malformed, 1 degenerate' in out
    assert re.search(r'no boxes\s+2 images; 0 of them read .*2 left out by filter_cfg', out)  # filter_empty_gt=True
    assert re.search(r'train: CheckedCocoDataset .*instances_train\.json\n\s+images\s+14 decoded .* images/s', out)
    assert 'val: CheckedCocoDataset' in out and 'check_data: 5 unusable' in out


def test_a_plain_mmdet_config_is_read_the_same_way(broken_demo_data, tmp_path, capsys):
    """A config with mmdet's CocoDataset and no fcfd_mm import: the tool reads it as CheckedCocoDataset."""
    config = tmp_path / 'plain_mmdet.py'
    config.write_text(f"_base_ = ['{REPO}/configs/demo/faster-rcnn_demo_student.py']\ncustom_imports = None\n"
                      "train_dataloader = dict(dataset=dict(type='CocoDataset', "
                      "filter_cfg=dict(filter_empty_gt=False)))\n")
    code, out = _check(str(config), broken_demo_data.root, capsys, '--split', 'train')
    assert code == 1 and 'train: CheckedCocoDataset' in out and 'val:' not in out
    assert re.search(r'no boxes\s+2 images; 2 of them read \(training: as background\)', out)
    assert 'images       16 decoded' in out  # the two images without boxes are read too


def test_clean_data_passes(tiny_demo_data, capsys):
    code, out = _check('configs/demo/fcfd_frcnn_demo.py', tiny_demo_data, capsys)
    assert code == 0 and 'check_data: nothing unusable' in out and 'unreadable images' not in out
