import hashlib
import json

import numpy as np
import pytest
from pycocotools.coco import COCO

from fcfd_mm.datasets import DEMO_CLASSES, generate_demo_coco


def _digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob('*')):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_demo_data_is_valid_coco(tiny_demo_data):
    for split, n in (('train', 16), ('val', 8)):
        coco = COCO(str(tiny_demo_data / 'annotations' / f'instances_{split}.json'))
        assert len(coco.getImgIds()) == n
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(DEMO_CLASSES)
        anns = coco.loadAnns(coco.getAnnIds())
        per_image = np.bincount([a['image_id'] for a in anns])
        assert per_image[1:].min() >= 1 and per_image.max() >= 3  # several objects per image
        for a in anns:
            x, y, w, h = a['bbox']
            img = coco.imgs[a['image_id']]
            assert 0 <= x and 0 <= y and x + w <= img['width'] and y + h <= img['height']
            assert 0 < a['area'] <= w * h and a['iscrowd'] == 0
        sides = np.array([max(a['bbox'][2:]) for a in anns])
        assert sides.min() < 0.25 * 96 and sides.max() > 0.45 * 96  # varied scales
        if split == 'train':
            assert len({a['category_id'] for a in anns}) == len(DEMO_CLASSES)
        for img in coco.imgs.values():
            assert (tiny_demo_data / split / img['file_name']).is_file()


def test_demo_data_is_deterministic(tmp_path, tiny_demo_data):
    generate_demo_coco(str(tmp_path / 'again'), num_train=16, num_val=8, size=96, seed=1)
    assert _digest(tmp_path / 'again') == _digest(tiny_demo_data)
    generate_demo_coco(str(tmp_path / 'other'), num_train=16, num_val=8, size=96, seed=2)
    assert _digest(tmp_path / 'other') != _digest(tiny_demo_data)


def test_train_and_val_differ(tiny_demo_data):
    train = json.loads((tiny_demo_data / 'annotations' / 'instances_train.json').read_text())
    val = json.loads((tiny_demo_data / 'annotations' / 'instances_val.json').read_text())
    train_png, val_png = tiny_demo_data / 'train' / '000000.png', tiny_demo_data / 'val' / '000000.png'
    assert train_png.read_bytes() != val_png.read_bytes()
    assert train['annotations'][0]['bbox'] != val['annotations'][0]['bbox']


def test_classification_demo_data_layout_and_determinism(tmp_path):
    from PIL import Image

    from fcfd_mm.datasets import DEMO_CLS_CLASSES, generate_demo_classification
    a = generate_demo_classification(str(tmp_path / 'a'), per_class_train=3, per_class_val=2, size=32, seed=4)
    generate_demo_classification(str(tmp_path / 'b'), per_class_train=3, per_class_val=2, size=32, seed=4)
    assert _digest(tmp_path / 'a') == _digest(tmp_path / 'b')
    for split, n in (('train', 3), ('val', 2)):
        classes = sorted(p.name for p in (tmp_path / 'a' / split).iterdir() if p.is_dir())
        assert classes == sorted(DEMO_CLS_CLASSES)
        for c in classes:
            files = sorted((tmp_path / 'a' / split / c).glob('*.png'))
            assert len(files) == n and Image.open(files[0]).size == (32, 32)
    assert a['train'].endswith('train')


def test_held_out_test_split(tmp_path, tiny_demo_data):
    """num_test draws a third split whose images differ from train's and val's, while train and
    val stay byte-identical to a set drawn without it."""
    root = tmp_path / 'with_test'
    files = generate_demo_coco(str(root), num_train=16, num_val=8, size=96, seed=1, num_test=6)
    assert set(files) == {'train', 'val', 'test'}
    for split in ('train', 'val'):
        assert _digest(root / split) == _digest(tiny_demo_data / split)
    test = json.loads((root / 'annotations' / 'instances_test.json').read_text())
    assert len(test['images']) == 6 and test['annotations']
    test_png = (root / 'test' / '000000.png').read_bytes()
    for split in ('train', 'val'):
        assert all((root / split / f'{i:06d}.png').read_bytes() != test_png for i in range(6))
    with pytest.raises(ValueError, match='num_test >= 0'):
        generate_demo_coco(str(tmp_path / 'bad'), num_train=4, num_val=2, num_test=-1)
