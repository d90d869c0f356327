#!/usr/bin/env python
"""Draw the demo datasets: detection (COCO format, configs/demo/) or classification
(mmpretrain CustomDataset folders, configs/classification/demo/).

    python tools/make_demo_data.py [--root data/fcfd_demo] [--num-train 240] [--num-val 60] [--num-test 0] [--size 128]
    python tools/make_demo_data.py --task classification [--root data/fcfd_cls_demo]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from fcfd_mm.datasets.demo_shapes import generate_demo_classification, generate_demo_coco  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--task', choices=['detection', 'classification'], default='detection')
    p.add_argument('--root', help='default: data/fcfd_demo (detection), data/fcfd_cls_demo (classification)')
    p.add_argument('--num-train', type=int, help='images (detection, 240) or images per class (classification, 200)')
    p.add_argument('--num-val', type=int, help='images (detection, 60) or images per class (classification, 100)')
    p.add_argument('--num-test', type=int, default=0,
                   help='detection: images of the held-out test split (default 0: none)')
    p.add_argument('--size', type=int, help='image side in pixels (128 detection, 32 classification)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--overwrite', action='store_true')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    if a.task == 'detection':
        files = generate_demo_coco(a.root or 'data/fcfd_demo', a.num_train or 240, a.num_val or 60, a.size or 128,
                                   a.seed, a.overwrite, num_test=a.num_test)
    else:
        files = generate_demo_classification(a.root or 'data/fcfd_cls_demo', a.num_train or 200, a.num_val or 100,
                                             a.size or 32, a.seed, a.overwrite)
    for split, f in files.items():
        print(f'{split}: {f}')


if __name__ == '__main__':
    main()
