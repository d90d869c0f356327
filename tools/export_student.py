#!/usr/bin/env python
"""Export the student of a distillation checkpoint so plain mmdet loads it.

    python tools/export_student.py CONFIG CHECKPOINT OUT.pth [--out-config STUDENT_CONFIG.py]

OUT.pth holds only the student's weights (bridges and teacher dropped) and the dataset meta.
--out-config writes the student's config (data and evaluation of CONFIG, model = the student),
so `python tools/test.py STUDENT_CONFIG.py OUT.pth` or mmdet's own tools run it.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import fcfd_mm  # noqa: E402,F401
from fcfd_mm.export import export_student  # noqa: E402
from fcfd_mm.utils import FCFDUserError, check_config_file  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='the distillation config the checkpoint was trained with')
    p.add_argument('checkpoint', help='distillation checkpoint (e.g. work_dirs/fcfd_.../iter_N.pth)')
    p.add_argument('out', help='where to write the student checkpoint')
    p.add_argument('--out-config', help='also write the student config here')
    a = p.parse_args(argv)
    try:
        out, n = export_student(check_config_file(a.config), a.checkpoint, a.out, a.out_config)
    except FCFDUserError as exc:
        sys.exit(f'error: {exc}')
    print(f'wrote {out} ({n} student tensors)' + (f' and {a.out_config}' if a.out_config else ''))


if __name__ == '__main__':
    main()
