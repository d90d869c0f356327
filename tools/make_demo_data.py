#!/usr/bin/env python
"""Draw the demo detection dataset (COCO format) that configs/demo/ train on.

    python tools/make_demo_data.py [--root data/fcfd_demo] [--num-train 240] [--num-val 60] [--size 128]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from fcfd_mm.datasets.demo_shapes import generate_demo_coco  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', default='data/fcfd_demo')
    p.add_argument('--num-train', type=int, default=240)
    p.add_argument('--num-val', type=int, default=60)
    p.add_argument('--size', type=int, default=128, help='image side in pixels')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--overwrite', action='store_true')
    a = p.parse_args(argv)
    files = generate_demo_coco(a.root, a.num_train, a.num_val, a.size, a.seed, a.overwrite)
    for split, f in files.items():
        print(f'{split}: {f}')


if __name__ == '__main__':
    main()
