#!/usr/bin/env python
"""Convert a RepDistiller / CRD CIFAR checkpoint (or a torchvision ResNet / MobileNet-V1 state dict)
into a checkpoint of the staged mmpretrain ``ImageClassifier`` FCFD uses.

    python tools/convert_repdistiller.py ARCH IN.pth OUT.pth

ARCH is a RepDistiller model name (resnet8x4, resnet32x4, resnet20, resnet56, wrn_16_2, wrn_40_1,
wrn_40_2, vgg8, vgg13, MobileNetV2 (= mobile_half), ShuffleV1, ShuffleV2, ResNet50, and the other
names of RepDistiller's model_dict), torchvision_resnet18/34/50/101/152 or mobilenet_v1.
IN.pth is RepDistiller's ``{'model': state_dict, 'epoch': ..., 'accuracy': ...}`` (a bare state
dict or ``{'state_dict': ...}`` also works). It is unpickled with ``weights_only=False``: convert
only files you trust. OUT.pth holds ``{'state_dict': ..., 'meta': {...}}`` for
``ImageClassifier(backbone=REPDISTILLER_MODELS[ARCH], neck=ReLUGlobalAveragePooling,
head=LinearClsHead)``; ``meta['model']`` is that config.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

import fcfd_mm  # noqa: E402,F401
from fcfd_mm.models.convert import convert_repdistiller_state_dict, num_classes_of  # noqa: E402
from fcfd_mm.models.zoo import all_model_cfgs, classifier_cfg  # noqa: E402
from fcfd_mm.utils import FCFDUserError  # noqa: E402


def _plain(value):
    """A checkpoint's scalar metadata as a plain Python value (None if it is not a scalar)."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else None
    if isinstance(value, (bool, int, float, str)):
        return value
    try:  # numpy scalars
        return value.item()
    except (AttributeError, ValueError):
        return None


def load_source_state_dict(path: str):
    """(state dict, source checkpoint metadata) of a RepDistiller / torchvision checkpoint file."""
    if not osp.isfile(path):
        raise FCFDUserError(f'input checkpoint not found: {path!r}. Give the path of a RepDistiller '
                            f'checkpoint (e.g. save/models/resnet32x4_vanilla/ckpt_epoch_240.pth).')
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    meta = {}
    if isinstance(ckpt, dict) and isinstance(ckpt.get('model'), dict):
        sd = ckpt['model']
        meta = {k: _plain(v) for k, v in ckpt.items() if k in ('epoch', 'accuracy', 'best_acc')}
    elif isinstance(ckpt, dict) and isinstance(ckpt.get('state_dict'), dict):
        sd = ckpt['state_dict']
    elif isinstance(ckpt, dict) and ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        sd = ckpt
    else:
        raise FCFDUserError(f'{path!r} is neither a RepDistiller checkpoint ({{"model": state_dict}}) nor a '
                            f'state dict (got {type(ckpt).__name__}'
                            + (f' with keys {sorted(ckpt)[:8]}' if isinstance(ckpt, dict) else '') + ').')
    return sd, {k: v for k, v in meta.items() if v is not None}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('arch', help='model name: ' + ', '.join(sorted(all_model_cfgs())))
    p.add_argument('input', help='RepDistiller checkpoint (or state dict) to convert')
    p.add_argument('output', help='where to write the converted checkpoint')
    a = p.parse_args(argv)
    if a.arch not in all_model_cfgs():
        sys.exit(f'error: unknown ARCH {a.arch!r}; known: {", ".join(sorted(all_model_cfgs()))}.')
    try:
        sd, src_meta = load_source_state_dict(a.input)
        converted = convert_repdistiller_state_dict(a.arch, sd)
    except (FCFDUserError, ValueError) as exc:
        sys.exit(f'error: {exc}')
    num_classes = num_classes_of(converted)
    meta = dict(arch=a.arch, source=osp.abspath(a.input), num_classes=num_classes,
                model=classifier_cfg(a.arch, num_classes), converted_by='fcfd_mm tools/convert_repdistiller.py',
                fcfd_mm_version=fcfd_mm.__version__, **{f'source_{k}': v for k, v in src_meta.items()})
    out_dir = osp.dirname(osp.abspath(a.output))
    os.makedirs(out_dir, exist_ok=True)
    torch.save({'state_dict': converted, 'meta': meta}, a.output)
    print(f'wrote {a.output} ({len(converted)} tensors, {num_classes} classes, {a.arch})')


if __name__ == '__main__':
    main()
