#!/usr/bin/env python
"""What the fault checks cost: decoding every image (tools/check_data.py), the annotation checks of
CheckedCocoDataset, and writing checkpoints atomically (AtomicCheckpointHook's backend).

    python benchmarks/fault_checks_cost.py [--images 2000] [--ann-images 118287] [--ckpt-mb 32 512]
                                           [--workers N] [--out benchmarks/results]

* **Images**: ``--images`` COCO-like JPEGs (the demo shapes drawn at 640 px, cropped to 640x480,
  gaussian noise of sigma 16, quality 92: about 155 KB, COCO train2017's size) and as many 640x640
  demo PNGs are written to a temporary folder. Reported: the CPU time per image of
  ``fcfd_mm.datasets.image_problem`` (what a check_data worker does per image: read, end-marker check,
  decode) in one process with one OpenCV thread, and the wall-clock rate of ``tools/check_data.py``'s
  decoding stage with ``--workers`` processes (its pool and progress bar).
* **Annotations**: the load time of an annotation file of ``--ann-images`` images with 7.27 boxes
  each (COCO train2017: 118,287 images, 860,001 boxes; no polygons), mmdet's ``CocoDataset`` against
  ``CheckedCocoDataset``, two loads each.
* **Checkpoints**: seconds to write ``--ckpt-mb`` MB with MMEngine's ``LocalBackend.put`` (in place)
  and with ``local_atomic`` (temporary file, fsync, rename), median of 5.

Writes ``fault_checks_cost.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def write_images(root: str, n: int) -> None:
    """``root/train``: ``n`` COCO-like JPEGs (640x480, ~155 KB) with ``root/annotations/instances_train.json``,
    and ``root/png``: ``n`` 640x640 demo PNGs."""
    import numpy as np
    from PIL import Image

    from fcfd_mm.datasets.demo_shapes import CLASSES, draw_image
    os.makedirs(osp.join(root, 'train'), exist_ok=True)
    os.makedirs(osp.join(root, 'png'), exist_ok=True)
    images, anns = [], []
    for i in range(n):
        pixels, objects = draw_image(i, 640)
        Image.fromarray(pixels).save(osp.join(root, 'png', f'{i:06d}.png'))
        noisy = pixels[:480].astype(np.float32) + np.random.RandomState(i).normal(0, 16, (480, 640, 3))
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(osp.join(root, 'train', f'{i:06d}.jpg'),
                                                                       quality=92)
        images.append(dict(id=i + 1, file_name=f'{i:06d}.jpg', width=640, height=480))
        kept = [o for o in objects if o['bbox'][1] + o['bbox'][3] <= 480]
        anns += [dict(id=len(anns) + k + 1, image_id=i + 1, iscrowd=0, **o) for k, o in enumerate(kept)]
    coco = dict(images=images, annotations=anns,
                categories=[dict(id=k + 1, name=c) for k, c in enumerate(CLASSES)])
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    with open(osp.join(root, 'annotations', 'instances_train.json'), 'w') as f:
        json.dump(coco, f)


def cpu_per_image(files: list) -> float:
    """CPU seconds per image of ``image_problem`` in this process (one OpenCV thread)."""
    import cv2

    from fcfd_mm.datasets import image_problem
    cv2.setNumThreads(1)
    for f in files[:5]:
        image_problem(f)  # warm the page cache and the decoder
    start = time.process_time()
    for f in files:
        image_problem(f)
    return (time.process_time() - start) / len(files)


def check_data_rate(files: list, workers: int) -> float:
    """Images per second of tools/check_data.py's decoding stage (its process pool and progress bar,
    on a console that prints nowhere), wall clock."""
    import io

    from rich.console import Console

    from tools.check_data import decode_all
    jobs = [(i, f, dict(backend_args=None, color_type='color', imdecode_backend='cv2')) for i, f in enumerate(files)]
    start = time.perf_counter()
    decode_all(jobs, workers, Console(file=io.StringIO()), 'train')
    return len(files) / (time.perf_counter() - start)


def annotation_load(root: str, n_images: int) -> dict:
    """CPU seconds to load an annotation file of ``n_images`` images x 7.27 boxes, mmdet vs checked."""
    import numpy as np
    from mmdet.datasets import CocoDataset
    from mmengine.registry import init_default_scope

    from fcfd_mm.datasets import CheckedCocoDataset
    from fcfd_mm.datasets.demo_shapes import CLASSES
    rng, n_boxes = np.random.RandomState(0), int(round(n_images * 860001 / 118287))
    xy, wh = rng.uniform(0, 400, (n_boxes, 2)), rng.uniform(2, 200, (n_boxes, 2))
    img = rng.randint(1, n_images + 1, n_boxes)
    coco = dict(images=[dict(id=i + 1, file_name=f'{i:012d}.jpg', width=640, height=480) for i in range(n_images)],
                annotations=[dict(id=k + 1, image_id=int(img[k]), category_id=k % 4 + 1, iscrowd=0,
                                  bbox=[*map(float, xy[k]), *map(float, wh[k])], area=float(wh[k].prod()))
                             for k in range(n_boxes)],
                categories=[dict(id=k + 1, name=c) for k, c in enumerate(CLASSES)])
    path = osp.join(root, 'annotations', 'sized.json')
    with open(path, 'w') as f:
        json.dump(coco, f)
    init_default_scope('mmdet')
    cpu = {}
    for cls in (CocoDataset, CheckedCocoDataset) * 2:
        start = time.process_time()
        cls(ann_file=path, data_prefix=dict(img=''), metainfo=dict(classes=CLASSES), pipeline=[])
        cpu.setdefault(cls.__name__, []).append(time.process_time() - start)
    return dict(images=n_images, boxes=n_boxes, **{f'{k}_cpu_s': statistics.mean(v) for k, v in cpu.items()})


def checkpoint_writes(folder: str, sizes_mb: list) -> dict:
    from mmengine.fileio import LocalBackend

    from fcfd_mm.engine import AtomicLocalBackend
    out = {}
    for mb in sizes_mb:
        data = os.urandom(mb * 2 ** 20)
        for backend in (LocalBackend(), AtomicLocalBackend()):
            times = []
            for i in range(5):
                path = osp.join(folder, f'ckpt_{i}.pth')
                start = time.perf_counter()
                backend.put(data, path)
                times.append(time.perf_counter() - start)
                os.remove(path)
            out[f'{mb}MB_{type(backend).__name__}_s'] = statistics.median(times)
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--images', type=int, default=2000)
    p.add_argument('--ann-images', type=int, default=118287)
    p.add_argument('--ckpt-mb', type=int, nargs='+', default=[32, 512])
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    p.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'results'))
    a = p.parse_args(argv)
    import fcfd_mm  # noqa: F401
    with tempfile.TemporaryDirectory(prefix='fault_checks_cost_') as tmp:
        write_images(tmp, a.images)
        jpegs = sorted(osp.join(tmp, 'train', f) for f in os.listdir(osp.join(tmp, 'train')))
        pngs = sorted(osp.join(tmp, 'png', f) for f in os.listdir(osp.join(tmp, 'png')))
        jpeg_kb = statistics.mean(os.path.getsize(f) for f in jpegs) / 1024
        jpeg_s, png_s = cpu_per_image(jpegs), cpu_per_image(pngs)
        result = dict(cpu_count=os.cpu_count(), load_average=os.getloadavg()[0], images=a.images,
                      jpeg_640x480_kb=jpeg_kb, jpeg_cpu_ms_per_image=jpeg_s * 1e3,
                      png_640_cpu_ms_per_image=png_s * 1e3, jpeg_images_per_s_per_core=1 / jpeg_s, workers=a.workers,
                      check_data_images_per_s=check_data_rate(jpegs, a.workers),
                      coco_train2017_cpu_minutes=118287 * jpeg_s / 60,
                      annotations=annotation_load(tmp, a.ann_images), checkpoints=checkpoint_writes(tmp, a.ckpt_mb))
    print(json.dumps(result, indent=1))
    os.makedirs(a.out, exist_ok=True)
    with open(osp.join(a.out, 'fault_checks_cost.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
