"""What makes an image or a COCO annotation unusable: one definition, read during training by
``CheckedCocoDataset`` and before it by ``tools/check_data.py``."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Collection, Optional, Tuple

from ..utils.checks import FCFDUserError

#: kinds of annotation problem; all but ``degenerate`` are malformed (they count towards the limit)
MALFORMED_KINDS = ('malformed', 'negative size', 'outside the image', 'unknown category')
DEGENERATE = 'degenerate'
#: the fix every data error names
CHECK_HINT = '`python tools/check_data.py CONFIG` lists every unusable image and annotation'


class DataFaultError(FCFDUserError):
    """An image or annotation cannot be used (or too many could not); the message names the file,
    the dataset and the fix."""


@dataclass(frozen=True)
class AnnotationProblem:
    """One annotation that mmdet's ``CocoDataset`` drops, and why.

    Attributes:
        kind: one of :data:`MALFORMED_KINDS` or :data:`DEGENERATE`.
        text: what is wrong, e.g. ``'box [200, 10, 20, 20] lies outside the 128x128 image'``.
        ann_id: the annotation's ``id``; image: its image's path.
    """
    kind: str
    text: str
    ann_id: object = None
    image: str = ''

    @property
    def malformed(self) -> bool:
        return self.kind != DEGENERATE

    def __str__(self) -> str:
        return f'annotation {self.ann_id} of {self.image}: {self.text}'


def _num(v) -> str:
    return f'{v:g}' if isinstance(v, (int, float)) else repr(v)


def annotation_problem(ann: dict, width: int, height: int, known_category_ids: Collection) -> Optional[Tuple[str, str]]:
    """``(kind, text)`` when mmdet's ``CocoDataset.parse_data_info`` would not train on the COCO
    annotation ``ann`` of a ``width`` x ``height`` image, None when it would (or when ``ann`` is
    ``ignore``-flagged, which mmdet skips before looking at it). ``known_category_ids``: the ids of
    the annotation file's ``categories``; an id among them but outside the config's classes is a
    class subset, not a problem.

    Checked in this order (the first that applies): ``bbox`` or ``area`` not finite numbers
    (mmdet would crash or drop silently), a negative width or height, a width or height under one
    pixel or ``area <= 0`` (degenerate: mmdet drops it; not malformed), a box that does not overlap
    the image, a ``category_id`` the file does not declare."""
    if ann.get('ignore', False):
        return None
    box = ann.get('bbox')
    numbers = isinstance(box, (list, tuple)) and len(box) == 4 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box)
    area = ann.get('area')
    if not numbers:
        return 'malformed', f'bbox {box!r} is not 4 finite numbers [x, y, w, h]'
    if not (isinstance(area, (int, float)) and math.isfinite(area)):
        return 'malformed', f'area {area!r} is not a finite number'
    x, y, w, h = box
    shown = '[' + ', '.join(_num(v) for v in box) + ']'
    if w < 0 or h < 0:
        return 'negative size', f'box {shown} has a negative width or height'
    if w < 1 or h < 1 or area <= 0:
        return DEGENERATE, f'box {shown} (area {_num(area)}) is under one pixel wide or high'
    if min(x + w, width) - max(x, 0) <= 0 or min(y + h, height) - max(y, 0) <= 0:
        return 'outside the image', f'box {shown} lies outside the {width}x{height} image'
    if ann.get('category_id') not in known_category_ids:
        return 'unknown category', (f'category_id {ann.get("category_id")!r} is not among the annotation file\'s '
                                    f'categories')
    return None


def image_problem(path: str, backend_args: Optional[dict] = None, color_type: str = 'color',
                  imdecode_backend: str = 'cv2') -> Tuple[Optional[str], Optional[Tuple[int, int]]]:
    """``(problem, (height, width))`` for the image file ``path``, read and decoded as mmcv's
    ``LoadImageFromFile`` with these settings does; ``problem`` is None when it decodes and, for a
    PNG or JPEG, is not cut short (some decoders, e.g. OpenCV 4's, return a JPEG cut short with its
    lower part grey), else one phrase: missing, empty, cut short, or not decodable; the shape is
    None then."""
    import mmcv
    from mmengine import fileio
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        return 'the file does not exist', None
    except OSError as exc:
        return f'the file cannot be read ({exc})', None
    if not data:
        return 'the file is empty (0 bytes)', None
    cut = _cut_short(data)
    try:
        img = mmcv.imfrombytes(data, flag=color_type, backend=imdecode_backend)
    except Exception as exc:  # noqa: BLE001  (cv2 / PIL / turbojpeg each raise their own)
        img, why = None, f'{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ""}'
    else:
        why = 'the decoder returned nothing'
    if img is None:
        return (cut or f'{imdecode_backend} cannot decode it ({len(data):,} bytes; {why})'), None
    if cut:
        return f'{cut}: it decodes with its lower part missing', None
    return None, tuple(img.shape[:2])


def decode_settings(dataset) -> dict:
    """The keyword arguments of :func:`image_problem` that read files as ``dataset``'s pipeline does:
    those of its first image loader (mmcv's ``LoadImageFromFile`` or a subclass: any transform with
    ``imdecode_backend`` and ``color_type``), else the dataset's ``backend_args`` and mmcv's defaults."""
    loader = next((t for t in getattr(getattr(dataset, 'pipeline', None), 'transforms', [])
                   if hasattr(t, 'imdecode_backend') and hasattr(t, 'color_type')), None)
    if loader is None:
        return dict(backend_args=getattr(dataset, 'backend_args', None))
    return dict(backend_args=getattr(loader, 'backend_args', None), color_type=loader.color_type,
                imdecode_backend=loader.imdecode_backend)


def _cut_short(data: bytes) -> Optional[str]:
    """'a PNG / JPEG cut short (N bytes)' when ``data`` starts like one but lacks its end marker."""
    if data.startswith(b'\x89PNG\r\n\x1a\n') and b'IEND' not in data[-16:]:
        return f'a PNG cut short ({len(data):,} bytes, no IEND chunk at the end)'
    if data.startswith(b'\xff\xd8') and b'\xff\xd9' not in data.rstrip(b'\x00')[-65536:]:
        return f'a JPEG cut short ({len(data):,} bytes, no end-of-image marker)'
    return None
