#!/usr/bin/env python
"""Check a config's data before a long run: decode every image its dataloaders would read (in
parallel, with a progress bar) and validate the annotations the way training does.

    python tools/check_data.py CONFIG [--split train val] [--workers N] [--show N] [--cfg-options k=v ...]

For each split the datasets are built from the config's dataloaders (``train_dataloader``...), mmdet's
``CocoDataset`` read as ``CheckedCocoDataset`` (the same data: fcfd_mm/datasets/checked_coco.py), and
every image is decoded with the settings of the pipeline's ``LoadImageFromFile``. Prints per split the
images and boxes, the images without boxes, the unreadable files and the malformed annotations (the
first ``--show`` of each). Exit status 1 when something is unusable (an unreadable image, a malformed
annotation, a dataset that cannot be built), else 0. Works for FCFD (MMRazor) configs and plain mmdet
configs; other datasets (mmpretrain's, VOC) get the image check only.
"""
import argparse
import copy
import os
import os.path as osp
import sys
import time
from typing import List

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

import fcfd_mm  # noqa: E402,F401  (registers CheckedCocoDataset)
from fcfd_mm.datasets import CheckedCocoDataset, decode_settings, image_problem  # noqa: E402
from fcfd_mm.utils import FCFDUserError, check_config_file, check_data_roots  # noqa: E402

SPLITS = ('train', 'val', 'test')
#: dataset types read as CheckedCocoDataset (the same data, with the problems recorded)
COCO_TYPES = ('CocoDataset', 'mmdet.CocoDataset', 'CheckedCocoDataset', 'mmdet.CheckedCocoDataset')


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--split', nargs='+', choices=SPLITS, default=['train', 'val'],
                   help='which dataloaders to check (default: train val)')
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='decoding processes (default: all cores)')
    p.add_argument('--show', type=int, default=10, help='how many unreadable images / bad annotations to list')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings, key=value')
    return p.parse_args(argv)


def load_config(args):
    """The config with ``--cfg-options``, its ``custom_imports`` imported and its default scope set."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings
    cfg = Config.fromfile(check_config_file(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    return cfg


def checked(dataset_cfg):
    """A copy of ``dataset_cfg`` in which every COCO dataset (also inside dataset wrappers) is a
    ``CheckedCocoDataset`` that stops at no number of malformed annotations (they are listed)."""
    cfg = copy.deepcopy(dataset_cfg)
    if cfg.get('type') in COCO_TYPES:
        cfg.update(type='CheckedCocoDataset', max_bad_annotations=None, lazy_init=False)
    for key in ('dataset', 'datasets'):
        if key in cfg:
            subs = cfg[key] if isinstance(cfg[key], (list, tuple)) else [cfg[key]]
            built = [checked(s) for s in subs]
            cfg[key] = built if isinstance(cfg[key], (list, tuple)) else built[0]
    return cfg


def leaves(dataset) -> list:
    """The datasets that hold data inside dataset wrappers (``RepeatDataset``, ``ConcatDataset``...)."""
    subs = getattr(dataset, 'datasets', None) or ([dataset.dataset] if hasattr(dataset, 'dataset') else [])
    return [leaf for sub in subs for leaf in leaves(sub)] if subs else [dataset]


def _check_one(job):
    """Pool worker: ``(index, problem, shape)`` of one image ``job = (index, path, settings)``."""
    index, path, settings = job
    problem, shape = image_problem(path, **settings)
    return index, problem, shape


def _init_worker():
    import cv2
    cv2.setNumThreads(1)  # one decoding thread per process: the pool is the parallelism


def decode_all(jobs: List[tuple], workers: int, console, label: str) -> list:
    """``[(index, problem, shape)]`` of every job, decoded by ``workers`` processes under a progress bar."""
    import multiprocessing

    from rich import progress as rp
    results = []
    columns = (rp.TextColumn(r'\[check_data] {task.description:<8}'), rp.BarColumn(bar_width=24),
               rp.MofNCompleteColumn(), rp.TextColumn('images'), rp.TimeRemainingColumn(), rp.TimeElapsedColumn())
    with rp.Progress(*columns, console=console, refresh_per_second=4) as progress:
        task = progress.add_task(label, total=len(jobs))
        if workers <= 1:
            _init_worker()
            for job in jobs:
                results.append(_check_one(job))
                progress.advance(task)
        else:
            with multiprocessing.get_context('fork' if os.name == 'posix' else 'spawn').Pool(
                    workers, initializer=_init_worker) as pool:
                for res in pool.imap_unordered(_check_one, jobs, chunksize=max(1, min(64, len(jobs) // (8 * workers)))):
                    results.append(res)
                    progress.advance(task)
    return results


def check_split(cfg, split: str, args, console) -> int:
    """Check one split; prints its summary and returns how many unusable things it found."""
    from mmengine.registry import DATASETS
    loader = cfg.get(f'{split}_dataloader')
    if not loader or 'dataset' not in loader:
        console.print(f'{split}: no {split}_dataloader.dataset in the config; skipped')
        return 0
    try:
        dataset = DATASETS.build(checked(loader['dataset']))
    except FCFDUserError as exc:
        console.print(f'{split}: the dataset cannot be built: {type(exc).__name__}: {exc}', highlight=False)
        return 1
    sets = leaves(dataset)
    jobs, where = [], []
    for leaf in sets:
        settings = decode_settings(leaf)
        for i in range(len(leaf)):
            info = leaf.get_data_info(i)
            if info.get('img_path'):
                where.append((leaf, info))
                jobs.append((len(jobs), info['img_path'], settings))
    start = time.perf_counter()
    results = decode_all(jobs, args.workers, console, split)
    seconds = time.perf_counter() - start
    bad = sorted((where[i][1]['img_path'], problem) for i, problem, _ in results if problem)
    resized = sorted(f'{where[i][1]["img_path"]}: {shape[0]}x{shape[1]} pixels, the annotation file says '
                     f'{where[i][1]["height"]}x{where[i][1]["width"]}' for i, problem, shape in results
                     if shape and where[i][1].get('height') and tuple(shape) != (where[i][1]['height'],
                                                                                   where[i][1]['width']))
    problems = [p for leaf in sets for p in getattr(leaf, 'annotation_problems', [])]
    malformed = [p for p in problems if p.malformed]
    rate = f'{len(jobs) / seconds:,.0f} images/s' if seconds > 0 else '-'
    names = ', '.join(dict.fromkeys(f'{type(s).__name__} {getattr(s, "ann_file", "") or ""}'.strip() for s in sets))
    lines = [f'{split}: {names}',
             f'  images       {len(jobs):,} decoded in {seconds:.1f} s ({rate}, {args.workers} processes); '
             f'{len(bad)} unreadable']
    coco = [s for s in sets if isinstance(s, CheckedCocoDataset)]
    if coco:
        boxes = sum(len(s.get_data_info(i)['instances']) for s in coco for i in range(len(s)))
        empty = [p for s in coco for p in s.images_without_boxes]  # before filter_cfg
        read = [info['img_path'] for _, info in where if 'instances' in info and not info['instances']]
        lines += [f'  boxes        {boxes:,} used; dropped {len(malformed)} malformed, '
                  f'{len(problems) - len(malformed)} degenerate (under one pixel)',
                  f'  no boxes     {len(empty):,} images; {len(read):,} of them read (training: as background), '
                  f'{len(empty) - len(read):,} left out by filter_cfg (filter_empty_gt)']
        lines += [f'    {p}' for p in empty[:args.show]] + _more(empty, args.show)
    lines += _listed('unreadable images', [f'{path}: {problem}' for path, problem in bad], args.show)
    lines += _listed('malformed annotations', [str(p) for p in malformed], args.show)
    lines += _listed('images of another size than the annotation file says (boxes may be misplaced)', resized,
                     args.show)
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    return len(bad) + len(malformed)


def _more(items: list, shown: int) -> List[str]:
    return [f'    ... and {len(items) - shown:,} more (--show N lists more)'] if len(items) > shown else []


def _listed(title: str, items: List[str], shown: int) -> List[str]:
    return [f'  {title}: {len(items):,}'] + [f'    {t}' for t in items[:shown]] + _more(items, shown) if items else []


def main(argv=None) -> int:
    from tools.demo import make_console
    args = parse_args(argv)
    try:
        cfg = load_config(args)
        check_data_roots(cfg, tuple(f'{s}_dataloader' for s in args.split))
    except FCFDUserError as exc:
        sys.exit(f'error: {exc}')
    console = make_console()
    unusable = sum(check_split(cfg, split, args, console) for split in args.split)
    verdict = (f'{unusable:,} unusable: fix or remove them (and their annotation entries) before training'
               if unusable else 'nothing unusable')
    console.print(f'check_data: {verdict}', highlight=False)
    return 1 if unusable else 0


if __name__ == '__main__':
    sys.exit(main())
