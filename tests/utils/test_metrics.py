"""read_test_metric: what tools/demo.py and benchmarks/efficacy.py read from tools/test.py's output."""
import json

from fcfd_mm.utils import read_test_metric


def _write(tmp_path, metrics):
    path = tmp_path / 'test_metrics.json'
    path.write_text(json.dumps(metrics))
    return str(path)


def test_a_present_metric_is_read(tmp_path):
    assert read_test_metric(_write(tmp_path, {'coco/bbox_mAP': 0.25, 'coco/bbox_mAP_50': 0.5}),
                            'coco/bbox_mAP') == 0.25


def test_a_detector_that_detects_nothing_has_map_zero(tmp_path):
    """mmdet's CocoMetric writes no coco/* key at all when there is no detection in the whole set."""
    assert read_test_metric(_write(tmp_path, {}), 'coco/bbox_mAP') == 0.0
    assert read_test_metric(_write(tmp_path, {'time': 1.0}), 'coco/bbox_mAP_50') == 0.0


def test_other_missing_metrics_are_none(tmp_path):
    assert read_test_metric(_write(tmp_path, {'coco/bbox_mAP_50': 0.5}), 'coco/bbox_mAP') is None
    assert read_test_metric(_write(tmp_path, {}), 'accuracy/top1') is None
    assert read_test_metric(str(tmp_path / 'missing.json'), 'coco/bbox_mAP') is None
