"""fcfd_mm.datasets.data_checks: which annotations and image files are unusable, and how each is named."""
import io

import numpy as np
import pytest
from PIL import Image

from fcfd_mm.datasets import annotation_problem, image_problem

KNOWN = {1, 2, 3, 4}  # the category ids of the annotation file


def _ann(bbox, area=None, category_id=1, **kw):
    area = bbox[2] * bbox[3] if area is None and len(bbox) == 4 and all(
        isinstance(v, (int, float)) for v in bbox) else area
    return dict(id=7, image_id=1, bbox=bbox, area=area, category_id=category_id, iscrowd=0, **kw)


@pytest.mark.parametrize('ann, kind, words', [
    (_ann([10, 10, 20, 30]), None, None),
    (_ann([-5, -5, 20, 30]), None, None),  # partly outside: mmdet keeps it
    (_ann([300, 10, 20, 30], ignore=True), None, None),  # ignore-flagged: mmdet skips it unread
    (_ann([200, 10, 20, 20]), 'outside the image', 'lies outside the 128x96 image'),
    (_ann([10, 200, 20, 20]), 'outside the image', 'lies outside'),
    (_ann([10, 10, -5, 8]), 'negative size', 'box [10, 10, -5, 8] has a negative width'),
    (_ann([30, 30, 0, 12]), 'degenerate', 'under one pixel'),
    (_ann([30, 30, 0.5, 12]), 'degenerate', 'under one pixel'),
    (_ann([30, 30, 12, 12], area=0), 'degenerate', 'area 0'),
    (_ann([10, 10, 20, 30], category_id=9), 'unknown category', 'category_id 9 is not among'),
    (_ann([10, 10, float('nan'), 30], area=1.0), 'malformed', 'is not 4 finite numbers'),
    (_ann([10, 10, 20], area=1.0), 'malformed', 'is not 4 finite numbers'),
    (_ann(['10', 10, 20, 30], area=1.0), 'malformed', 'is not 4 finite numbers'),
    (dict(id=7, image_id=1, bbox=[10, 10, 20, 30], category_id=1), 'malformed', 'area None'),
])
def test_annotation_problems_are_classified_as_mmdet_drops_them(ann, kind, words):
    found = annotation_problem(ann, width=128, height=96, known_category_ids=KNOWN)
    if kind is None:
        assert found is None
    else:
        assert found[0] == kind and words in found[1], found


def _encoded(fmt, size=(48, 64)):
    rng = np.random.RandomState(0)
    img = Image.fromarray(rng.randint(0, 255, size + (3,), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize('fmt', ['PNG', 'JPEG'])
def test_a_good_image_decodes_with_its_shape(fmt, tmp_path):
    path = tmp_path / f'a.{fmt.lower()}'
    path.write_bytes(_encoded(fmt))
    assert image_problem(str(path)) == (None, (48, 64))


@pytest.mark.parametrize('content, words', [
    (None, 'the file does not exist'),
    (b'', 'the file is empty (0 bytes)'),
    (b'not an image at all', 'cv2 cannot decode it (19 bytes'),
    ('PNG', 'a PNG cut short'),
    ('JPEG', 'a JPEG cut short'),
])
def test_unreadable_images_are_named(content, words, tmp_path):
    path = tmp_path / 'bad.img'
    if isinstance(content, str):
        data = _encoded(content)
        content = data[:len(data) // 2]
    if content is not None:
        path.write_bytes(content)
    problem, shape = image_problem(str(path))
    assert words in problem and shape is None, problem


def test_a_jpeg_cut_short_is_named_also_where_the_decoder_accepts_it(tmp_path, monkeypatch):
    """OpenCV 5 refuses a cut JPEG; older OpenCV 4 decoders fill its missing rows with grey and
    return it: the check names the file either way."""
    import mmcv
    data = _encoded('JPEG')
    (tmp_path / 'cut.jpg').write_bytes(data[:int(len(data) * 0.8)])
    monkeypatch.setattr(mmcv, 'imfrombytes', lambda *a, **k: np.zeros((48, 64, 3), np.uint8))  # a lenient decoder
    problem, shape = image_problem(str(tmp_path / 'cut.jpg'))
    assert 'a JPEG cut short' in problem and 'decodes with its lower part missing' in problem and shape is None
