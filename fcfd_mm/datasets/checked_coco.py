"""``CheckedCocoDataset``: mmdet's ``CocoDataset`` whose unusable images and annotations name themselves."""
from __future__ import annotations

import logging
import os.path as osp
from collections import Counter
from typing import List, Optional

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from .data_checks import (
    CHECK_HINT,
    AnnotationProblem,
    DataFaultError,
    annotation_problem,
    decode_settings,
    image_problem,
)

#: how many problems a log line quotes
SHOWN = 3


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """mmdet's ``CocoDataset`` (same arguments and the same data) that reports what it cannot use.

    * **Images it cannot read** (missing, empty, cut short, not decodable): in training the image is
      skipped with a warning that names the file, the dataset and the fix (once per file), and
      MMEngine's ``BaseDataset`` takes another random image in its place (its ``max_refetch``
      mechanism, the one ``LoadImageFromFile(ignore_empty=True)`` uses silently); past
      ``max_unreadable_images`` different files in one dataloader process, :class:`DataFaultError`
      stops the run. A validation / test dataset
      (``test_mode``) cannot skip (the COCO metric expects every image): it stops at the first.
      Only a failure of the pipeline on a file that :func:`image_problem` also cannot decode counts;
      any other pipeline error is raised as it is.
    * **Malformed annotations** (a box that is not 4 finite numbers, of negative size, outside the
      image, a ``category_id`` the file does not declare): dropped as mmdet drops them (the instances
      trained on are exactly mmdet's), with one warning per dataset that counts them by kind and
      quotes a few; more than ``max_bad_annotations`` stop with :class:`DataFaultError` while the
      dataset is built. Degenerate boxes (under one pixel wide or high) are merely unusual: dropped
      as mmdet does and counted in an info line. A config class missing from the file's
      categories stops at once (mmdet would train without any box of it).

    Attributes:
        annotation_problems: every :class:`AnnotationProblem` (malformed and degenerate) found.
        images_without_boxes: paths of the images left with no box, before ``filter_cfg``.
        unreadable_images: paths of the images this process skipped.

    Args:
        max_unreadable_images: training skips at most this many different unreadable images per
            dataloader process (the main process with ``num_workers=0``, else each worker) before it
            stops.
        max_bad_annotations: at most this many malformed annotations are dropped with a warning; more
            stop the run. None: never stop (``tools/check_data.py`` lists them all).
        *args, **kwargs: ``CocoDataset``'s.
    """

    def __init__(self, *args, max_unreadable_images: int = 10, max_bad_annotations: Optional[int] = 100,
                 **kwargs) -> None:
        self.max_unreadable_images = max_unreadable_images
        self.max_bad_annotations = max_bad_annotations
        self.annotation_problems: List[AnnotationProblem] = []
        self.images_without_boxes: List[str] = []
        self.unreadable_images: set = set()  # paths skipped in this process
        self._known_categories: Optional[set] = None
        super().__init__(*args, **kwargs)  # loads the annotations (full_init) unless lazy_init

    # annotations ------------------------------------------------------------------------------

    def load_data_list(self) -> List[dict]:
        self.annotation_problems, self.images_without_boxes, self._known_categories = [], [], None
        data_list = super().load_data_list()
        self._report_annotations()
        return data_list

    def _categories_of_file(self) -> set:
        """The annotation file's category ids; on first use also checks that every class of the
        config is one of its category names (``self.coco`` exists while ``load_data_list`` runs)."""
        if self._known_categories is None:
            names = [c['name'] for c in self.coco.cats.values()]
            absent = [c for c in self.metainfo['classes'] if c not in names]
            if absent:
                raise DataFaultError(
                    f'dataset {self.ann_file}: the classes {absent} of the config (metainfo.classes) are not '
                    f'category names of the annotation file, whose categories are {names}: mmdet would train '
                    f'with no box of them. Set metainfo=dict(classes=(...)) in the dataset to names of the file.')
            self._known_categories = set(self.coco.cats)
        return self._known_categories

    def parse_data_info(self, raw_data_info: dict):
        img = raw_data_info['raw_img_info']
        known, keep = self._categories_of_file(), []
        image = osp.join(self.data_prefix['img'], img['file_name'])
        for ann in raw_data_info['raw_ann_info']:
            found = annotation_problem(ann, img['width'], img['height'], known)
            if found is not None:
                self.annotation_problems.append(AnnotationProblem(*found, ann_id=ann.get('id'), image=image))
            if found is None or found[0] == 'degenerate':  # mmdet drops these itself; malformed ones could crash it
                keep.append(ann)
        info = super().parse_data_info(dict(raw_data_info, raw_ann_info=keep))
        if not info['instances']:
            self.images_without_boxes.append(info['img_path'])
        return info

    def _report_annotations(self) -> None:
        malformed = [p for p in self.annotation_problems if p.malformed]
        degenerate = len(self.annotation_problems) - len(malformed)
        if degenerate:
            print_log(f'dataset {self.ann_file}: {degenerate} degenerate boxes (under one pixel wide or high) '
                      f'dropped, as mmdet does.', logger='current', level=logging.INFO)
        if not malformed:
            return
        kinds = ', '.join(f'{n} {kind}' for kind, n in Counter(p.kind for p in malformed).most_common())
        quoted = '; '.join(str(p) for p in malformed[:SHOWN])
        text = f'dataset {self.ann_file}: {len(malformed)} malformed annotations ({kinds}), e.g. {quoted}'
        if self.max_bad_annotations is not None and len(malformed) > self.max_bad_annotations:
            raise DataFaultError(f'{text}. More than max_bad_annotations={self.max_bad_annotations}: the annotation '
                                 f'file looks broken. Fix it ({CHECK_HINT}), or allow more with the dataset\'s '
                                 f'max_bad_annotations (e.g. `--cfg-options '
                                 f'train_dataloader.dataset.max_bad_annotations=N`).')
        print_log(f'{text}. They are dropped, as mmdet does; {CHECK_HINT}.', logger='current', level=logging.WARNING)

    # images -----------------------------------------------------------------------------------

    def prepare_data(self, idx: int):
        try:
            return super().prepare_data(idx)
        except Exception:
            path = self.get_data_info(idx).get('img_path')
            problem = image_problem(path, **decode_settings(self))[0] if path else None
            if problem is None:  # the image is fine: another error of the pipeline
                raise
        return self._skip_unreadable(path, problem)

    def _skip_unreadable(self, path: str, problem: str) -> None:
        where = f'image {path} of dataset {self.ann_file}: {problem}'
        fix = f'Fix or remove the file (and its entry in the annotation file); {CHECK_HINT}'
        if self.test_mode:
            raise DataFaultError(f'cannot read {where}. A validation / test image cannot be skipped. {fix}.')
        first_time = path not in self.unreadable_images
        self.unreadable_images.add(path)
        if len(self.unreadable_images) > self.max_unreadable_images:
            raise DataFaultError(
                f'cannot read {where}. That is {len(self.unreadable_images)} unreadable images in this dataloader '
                f'process, more than max_unreadable_images={self.max_unreadable_images}: the data copy looks broken, '
                f'training stopped. {fix}; then continue with --resume.')
        if first_time:  # once per file and process: a file met again in the next epoch is skipped quietly
            print_log(f'skipped unreadable {where}. Training goes on with another image in its place '
                      f'({len(self.unreadable_images)} unreadable images so far in this dataloader process; it stops '
                      f'past max_unreadable_images={self.max_unreadable_images}). {fix}.',
                      logger='current', level=logging.WARNING)
        return None  # MMEngine's BaseDataset.__getitem__ then takes another random image
