"""A small, deterministic COCO-format detection dataset that the project draws itself.

Images are textured backgrounds (smooth colour gradient + noise + stripes) with 1-5 filled
shapes of four classes, random colours and sizes from 14 to 60 % of the image side; the class
is the shape, never the colour. The same arguments always produce the same bytes (one
``numpy.random.RandomState`` per image, PNG files), so tests and demos are reproducible.

Layout written under ``root``::

    root/train/000000.png ...          root/val/000000.png ...          root/test/000000.png ...
    root/annotations/instances_train.json   root/annotations/instances_val.json   (instances_test.json)

The ``test`` split is drawn only when asked for (``num_test > 0``): a held-out set for confirming
settings that were chosen on ``val`` (``benchmarks/efficacy.py``).

Boxes are COCO ``[x, y, w, h]`` in pixels; ``area`` is the shape's pixel count.
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'ring')
SPLITS = ('train', 'val', 'test')
#: each split's image seeds start here (plus ``seed * 1_000_003``): disjoint for splits below 400k images
SPLIT_OFFSETS = {'train': 0, 'val': 500_000, 'test': 900_000}


def _background(rng: np.random.RandomState, size: int) -> np.ndarray:
    """Textured ``size x size x 3`` uint8 background: gradient + stripes + pixel noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    c0, c1 = rng.uniform(40, 215, 3), rng.uniform(40, 215, 3)
    angle = rng.uniform(0, math.pi)
    t = (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    img = c0 * (1 - t) + c1 * t
    freq, phase, amp = rng.uniform(4, 14), rng.uniform(0, 2 * math.pi), rng.uniform(6, 18)
    stripes = np.sin(2 * math.pi * freq * (np.sin(angle) * xx - np.cos(angle) * yy) + phase)
    img = img + amp * stripes[..., None] + rng.normal(0, 6, (size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _draw_shape(draw: ImageDraw.ImageDraw, name: str, box: Tuple[float, float, float, float],
                colour) -> None:
    x0, y0, x1, y1 = box
    cx, cy, w = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0
    if name == 'circle':
        draw.ellipse(box, fill=colour)
    elif name == 'square':
        draw.rectangle(box, fill=colour)
    elif name == 'triangle':
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=colour)
    elif name == 'ring':
        width = max(2, int(0.22 * (x1 - x0)))
        draw.ellipse(box, outline=colour, width=width)
    elif name == 'cross':
        t = max(1.0, 0.15 * w)
        draw.rectangle((cx - t, y0, cx + t, y1), fill=colour)
        draw.rectangle((x0, cy - t, x1, cy + t), fill=colour)
    elif name == 'diamond':
        draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=colour)
    else:
        raise ValueError(f'unknown shape {name!r}')


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def draw_image(seed: int, size: int = 128, max_objects: int = 5) -> Tuple[np.ndarray, List[Dict]]:
    """Draw one image. Returns (``size x size x 3`` uint8 RGB array, list of objects with
    ``bbox`` = [x, y, w, h] and ``category_id`` in 1..len(CLASSES) and ``area``)."""
    rng = np.random.RandomState(seed)
    canvas = Image.fromarray(_background(rng, size))
    boxes: List[Tuple[float, float, float, float]] = []
    objects: List[Dict] = []
    for _ in range(rng.randint(1, max_objects + 1)):
        for _attempt in range(20):
            side = rng.uniform(0.14, 0.6) * size
            x0, y0 = rng.uniform(0, size - side), rng.uniform(0, size - side)
            box = (float(x0), float(y0), float(x0 + side), float(y0 + side))
            if all(_iou(box, b) < 0.2 for b in boxes):
                break
        else:
            continue
        label = int(rng.randint(len(CLASSES)))
        colour = tuple(int(c) for c in rng.randint(0, 256, 3))
        mask = Image.new('L', (size, size), 0)
        _draw_shape(ImageDraw.Draw(mask), CLASSES[label], box, 255)
        _draw_shape(ImageDraw.Draw(canvas), CLASSES[label], box, colour)
        ys, xs = np.nonzero(np.asarray(mask))
        if len(xs) == 0:
            continue
        bx0, by0, bx1, by1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        boxes.append(box)
        objects.append(dict(bbox=[float(bx0), float(by0), float(bx1 - bx0), float(by1 - by0)],
                            category_id=label + 1, area=float(len(xs))))
    return np.asarray(canvas), objects


def generate_demo_coco(root: str, num_train: int = 240, num_val: int = 60, size: int = 128,
                       seed: int = 0, overwrite: bool = False, num_test: int = 0) -> Dict[str, str]:
    """Write the dataset under ``root`` and return ``{split: annotation_file}``.

    Skips a split whose annotation file already exists unless ``overwrite``. The splits use
    disjoint image seeds (``seed * 1_000_003 + offset + index``, offsets :data:`SPLIT_OFFSETS`).
    ``num_test > 0`` also draws the held-out ``test`` split.
    """
    if num_train < 1 or num_val < 1 or num_test < 0 or size < 32:
        raise ValueError(f'need num_train >= 1, num_val >= 1, num_test >= 0 and size >= 32, got '
                         f'{num_train}, {num_val}, {num_test}, {size}')
    if max(num_train, num_val, num_test) > 400_000:
        raise ValueError('at most 400000 images per split (the splits\' image seeds would overlap)')
    counts = {'train': num_train, 'val': num_val, 'test': num_test}
    offsets = SPLIT_OFFSETS
    out = {}
    os.makedirs(os.path.join(root, 'annotations'), exist_ok=True)
    for split in SPLITS:
        if not counts[split]:
            continue
        ann_file = os.path.join(root, 'annotations', f'instances_{split}.json')
        out[split] = ann_file
        if os.path.isfile(ann_file) and not overwrite:
            continue
        img_dir = os.path.join(root, split)
        os.makedirs(img_dir, exist_ok=True)
        images, annotations = [], []
        for idx in range(counts[split]):
            pixels, objects = draw_image(seed * 1_000_003 + offsets[split] + idx, size)
            file_name = f'{idx:06d}.png'
            Image.fromarray(pixels).save(os.path.join(img_dir, file_name))
            images.append(dict(id=idx + 1, file_name=file_name, width=size, height=size))
            for obj in objects:
                annotations.append(dict(id=len(annotations) + 1, image_id=idx + 1, iscrowd=0, **obj))
        coco = dict(info=dict(description='fcfd-mm demo shapes', version='1.0'),
                    licenses=[], images=images, annotations=annotations,
                    categories=[dict(id=i + 1, name=n, supercategory='shape') for i, n in enumerate(CLASSES)])
        tmp = ann_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(coco, f)
        os.replace(tmp, ann_file)  # the json appears only once every image is on disk
    return out


#: classes of the classification demo: one shape per image decides the class
CLS_CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'ring', 'cross', 'diamond')


def draw_classification_image(seed: int, label: int, size: int = 32) -> np.ndarray:
    """One ``size x size x 3`` uint8 image: textured background, the class shape (30-70 % of the
    side, random place and colour) and three distractor dots (up to 5 px wide)."""
    rng = np.random.RandomState(seed)
    canvas = Image.fromarray(_background(rng, size))
    draw = ImageDraw.Draw(canvas)
    side = rng.uniform(0.3, 0.7) * size
    x0, y0 = rng.uniform(0, size - side), rng.uniform(0, size - side)
    _draw_shape(draw, CLS_CLASSES[label], (x0, y0, x0 + side, y0 + side), tuple(int(c) for c in rng.randint(0, 256, 3)))
    for _ in range(3):
        r = rng.uniform(1.0, 2.5)
        cx, cy = rng.uniform(0, size, 2)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(c) for c in rng.randint(0, 256, 3)))
    return np.asarray(canvas)


def generate_demo_classification(root: str, per_class_train: int = 200, per_class_val: int = 100, size: int = 32,
                                 seed: int = 0, overwrite: bool = False) -> Dict[str, str]:
    """Write ``root/{train,val}/<class>/NNNNNN.png`` (mmpretrain ``CustomDataset`` layout).

    Deterministic like :func:`generate_demo_coco`; a split whose ``.done`` marker exists is kept
    unless ``overwrite``. Returns ``{split: folder}``.
    """
    if per_class_train < 1 or per_class_val < 1 or size < 16:
        raise ValueError('need per_class_train >= 1, per_class_val >= 1 and size >= 16')
    out = {}
    for split, count, offset in (('train', per_class_train, 0), ('val', per_class_val, 500_000)):
        folder = os.path.join(root, split)
        out[split] = folder
        marker = os.path.join(folder, '.done')
        if os.path.isfile(marker) and not overwrite:
            continue
        for label, name in enumerate(CLS_CLASSES):
            os.makedirs(os.path.join(folder, name), exist_ok=True)
            for idx in range(count):
                img = draw_classification_image(seed * 1_000_003 + offset + label * 10_000 + idx, label, size)
                Image.fromarray(img).save(os.path.join(folder, name, f'{idx:06d}.png'))
        with open(marker, 'w') as f:
            f.write('ok\n')
    return out
