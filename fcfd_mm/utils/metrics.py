"""Reading the metrics that ``tools/test.py`` writes (``test_metrics.json``), for the demo and benchmarks."""
from __future__ import annotations

import json
import os
from typing import Optional


def read_test_metric(metrics_file: str, key: str) -> Optional[float]:
    """``key`` of a ``test_metrics.json``; ``None`` when the file or the key is missing.

    mmdet's ``CocoMetric`` writes no ``coco/*`` key at all when the model detected nothing in the
    whole set; a ``coco/bbox_*`` key is then read as 0.0 (the mAP of a model that detects nothing).
    """
    if not os.path.isfile(metrics_file):
        return None
    with open(metrics_file) as fh:
        metrics = json.load(fh)
    if key in metrics:
        return float(metrics[key])
    if key.startswith('coco/bbox') and not any(k.startswith('coco/') for k in metrics):
        return 0.0
    return None
