"""CheckedCocoDataset: the same data as mmdet's CocoDataset; unreadable images and malformed
annotations name the file, the dataset and the fix; training skips a few, validation none."""
import json
from collections import Counter

import pytest
from mmdet.datasets import CocoDataset

from fcfd_mm.datasets import CheckedCocoDataset, DataFaultError
from fcfd_mm.datasets.demo_shapes import CLASSES

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
            dict(type='mmdet.PackDetInputs')]


def _dataset(data, cls=CheckedCocoDataset, split='train', pipeline=(), **kw):
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    kw.setdefault('metainfo', dict(classes=CLASSES))
    return cls(data_root=str(data.root) + '/', ann_file=f'annotations/instances_{split}.json',
               data_prefix=dict(img=f'{split}/'), pipeline=list(pipeline), **kw)


def _infos(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def test_the_data_is_mmdets_and_every_problem_is_recorded(broken_demo_data):
    ours, mmdets = _dataset(broken_demo_data), _dataset(broken_demo_data, cls=CocoDataset)
    assert _infos(ours) == _infos(mmdets)  # same images, boxes, labels, ignore flags
    found = {p.ann_id: p.kind for p in ours.annotation_problems}
    assert found == {**broken_demo_data.malformed, **{i: 'degenerate' for i in broken_demo_data.degenerate}}
    assert all(p.image.endswith('000006.png') for p in ours.annotation_problems)
    assert sorted(p.rsplit('/', 1)[-1] for p in ours.images_without_boxes) == broken_demo_data.empty


def test_malformed_annotations_that_would_crash_mmdet_are_dropped_and_named(broken_demo_data):
    coco = json.loads(broken_demo_data.ann.read_text())
    coco['annotations'][0]['bbox'] = coco['annotations'][0]['bbox'][:3]  # mmdet: "not enough values to unpack"
    coco['annotations'][1].pop('area')  # mmdet: KeyError 'area'
    broken_demo_data.ann.write_text(json.dumps(coco))
    with pytest.raises((ValueError, KeyError)):
        _dataset(broken_demo_data, cls=CocoDataset)
    ours = _dataset(broken_demo_data)
    texts = [p.text for p in ours.annotation_problems if p.ann_id in (coco['annotations'][0]['id'],
                                                                       coco['annotations'][1]['id'])]
    assert len(texts) == 2 and 'is not 4 finite numbers' in texts[0] and 'area None' in texts[1]


def test_more_malformed_annotations_than_the_limit_stop_with_the_file_and_the_fix(broken_demo_data):
    with pytest.raises(DataFaultError) as exc:
        _dataset(broken_demo_data, max_bad_annotations=2)
    msg = str(exc.value)
    assert str(broken_demo_data.ann) in msg and '3 malformed annotations' in msg and 'max_bad_annotations=2' in msg
    assert '1 outside the image' in msg and 'tools/check_data.py' in msg


def test_a_config_class_missing_from_the_file_stops(broken_demo_data):
    with pytest.raises(DataFaultError, match=r"classes \['hexagon'\] of the config .* are not category names"):
        _dataset(broken_demo_data, metainfo=dict(classes=('circle', 'hexagon')))


def _index_of(dataset, name):
    return next(i for i, info in enumerate(_infos(dataset)) if info['img_path'].endswith(name))


def test_training_skips_an_unreadable_image_with_a_warning_and_stops_past_the_limit(broken_demo_data, monkeypatch):
    ds = _dataset(broken_demo_data, pipeline=PIPELINE, max_unreadable_images=1)
    logged = []
    monkeypatch.setattr('fcfd_mm.datasets.checked_coco.print_log', lambda msg, **kw: logged.append(msg))
    cut = _index_of(ds, '000004.png')
    # MMEngine takes a random image in place of a skipped one; pin it to a readable one so that the
    # replacement can never be the other unreadable file (which would end the loop below early)
    monkeypatch.setattr(ds, '_rand_another', lambda: _index_of(ds, '000005.png'))
    for _ in range(3):  # the same file again (a later epoch) counts once and warns once
        sample = ds[cut]
        assert not sample['data_samples'].img_path.endswith('000004.png')  # another image in its place
    out = '\n'.join(logged)
    assert out.count('skipped unreadable image') == 1 and 'a PNG cut short' in out and str(broken_demo_data.ann) in out
    assert 'tools/check_data.py' in out
    with pytest.raises(DataFaultError) as exc:  # a second unreadable file is past max_unreadable_images=1
        ds[_index_of(ds, '000003.png')]
    msg = str(exc.value)
    assert '000003.png' in msg and 'the file is empty' in msg and 'max_unreadable_images=1' in msg
    assert '--resume' in msg


def test_a_validation_image_cannot_be_skipped(broken_demo_data):
    (broken_demo_data.root / 'val' / '000002.png').write_bytes(b'')
    ds = _dataset(broken_demo_data, split='val', pipeline=PIPELINE, test_mode=True)
    with pytest.raises(DataFaultError, match=r'val/000002\.png .*empty.*cannot be skipped'):
        ds[_index_of(ds, '000002.png')]


def test_other_pipeline_errors_are_not_taken_for_unreadable_images(broken_demo_data):
    ds = _dataset(broken_demo_data, pipeline=PIPELINE)

    def broken_transform(results):
        raise ValueError('a bug in a transform')
    ds.pipeline.transforms.append(broken_transform)
    with pytest.raises(ValueError, match='a bug in a transform'):
        ds[_index_of(ds, '000005.png')]
    assert ds.unreadable_images == set()


def test_a_clean_dataset_reports_nothing(tiny_demo_data):
    from types import SimpleNamespace
    ds = _dataset(SimpleNamespace(root=tiny_demo_data))
    assert ds.annotation_problems == [] and ds.images_without_boxes == []
    assert Counter(len(i['instances']) > 0 for i in _infos(ds)) == Counter({True: len(ds)})
