#!/usr/bin/env python
"""Record what every shipped FCFD config computes, to show a refactor left it unchanged.

    python tests/behaviour_record.py record OUT_DIR [--repo ROOT] [--only SUBSTRING ...]
    python tests/behaviour_record.py compare REFERENCE_DIR NEW_DIR

``record`` builds the ``model`` of every FCFD config of the checkout at ``ROOT`` (default: this
one; its ``fcfd_mm`` is the one imported) -- the demo configs (``configs/demo/fcfd_*.py``, the
classification demo), the COCO configs (``configs/fcfd_*.py``) and the classification pair
configs -- with seed 0, no teacher checkpoint (a random teacher) and runs two training steps on a
fixed tiny batch: detectors 2 images of 128x160 with labels of the config's classes, classifiers 4
images at the config's input size. Each step: the loss pass at iteration 0 / 1 (epoch 0), backward,
the unused bridges' gradients cleared (``pop_unused_parameters``, what the training step does),
then SGD (momentum 0.9, weight decay 1e-4). It writes ``OUT_DIR/<config>.json`` with every loss
value of both steps, the gradient norm of every parameter after each backward, the state-dict keys
with a float64 sum and sum of squares of each tensor after the second step, and the resolved
config sections a refactor of the config set must keep (``model``, ``optim_wrapper``, ``val_cfg``,
``find_unused_parameters``, ``custom_hooks``). For the configs in ``STATE_DICTS`` the whole
state dict after the two steps is saved too (``OUT_DIR/<config>.pth``): a real checkpoint of
that code, for loading into another version.

``compare`` maps renamed parameter / state-dict keys (``KEY_RENAMES``: old -> new), loads every
saved old state dict into the new model built from the same config (strictly), and prints per
config the number of compared losses, gradients and state-dict tensors and the largest difference
(relative to ``max(1, |value|)``); it exits non-zero when a key is missing or a difference exceeds
``--atol``. A
developer tool (not collected by pytest): the numbers go into the closing note of a refactor.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

#: configs whose whole state dict ``record`` saves (small models: one per switch-point kind)
STATE_DICTS = ('demo/fcfd_frcnn_demo.py', 'demo/fcfd_retina_demo.py',
               'classification/demo/fcfd_resnet20_resnet8_demo.py')
#: renamed keys, old -> new (regular expressions applied in order): the third renovation's one
#: vocabulary for directions (st / ts) and for the ghost BN statistics (per hybrid)
KEY_RENAMES = ((r'\.bridges_s2t\.', '.bridges_st.'), (r'\.bridges_t2s\.', '.bridges_ts.'),
               (r'\.ghost_statistics\.paths\.', '.ghost_statistics.hybrids.'))


def config_names(repo: Path):
    configs = repo / 'configs'
    names = [p.relative_to(configs).as_posix() for p in sorted((configs / 'demo').glob('fcfd_*.py'))]
    names += ['classification/demo/fcfd_resnet20_resnet8_demo.py']
    names += [p.relative_to(configs).as_posix() for p in sorted(configs.glob('fcfd_*.py'))]
    names += [p.relative_to(configs).as_posix() for p in sorted((configs / 'classification').glob('fcfd_*.py'))]
    return names


def _batch(alg, name: str):
    import torch
    if name.startswith('classification/'):
        from mmpretrain.structures import DataSample
        size = 224 if 'imagenet' in name else 32
        classes = alg.student.head.num_classes
        gen = torch.Generator().manual_seed(1)
        x = torch.randint(0, 255, (4, 3, size, size), generator=gen).float()
        samples = [DataSample().set_gt_label(i * 7 % classes) for i in range(4)]
        return alg.data_preprocessor(dict(inputs=list(x), data_samples=samples), True)
    from mmdet.testing import demo_mm_inputs
    classes = 4 if name.startswith('demo/') else 80
    packed = demo_mm_inputs(batch_size=2, image_shapes=[(3, 128, 160)] * 2, num_items=[3, 2], num_classes=classes)
    return alg.data_preprocessor(packed, True)


def _checksum(t):
    d = t.detach().double() if t.is_floating_point() else t.detach().to(dtype=__import__('torch').float64)
    return [list(t.shape), str(t.dtype).replace('torch.', ''), float(d.sum()), float((d * d).sum())]


def record_one(repo: Path, name: str, out: Path) -> None:
    import torch
    from mmengine.config import Config
    from mmrazor.registry import MODELS

    from fcfd_mm.engine import FCFDProgressHook
    cfg = Config.fromfile(str(repo / 'configs' / name))
    sections = {k: cfg.get(k) for k in ('model', 'optim_wrapper', 'val_cfg', 'find_unused_parameters', 'custom_hooks')}
    cfg.model.teacher_ckpt = None
    torch.manual_seed(0)
    alg = MODELS.build(cfg.model)
    alg.train()
    data = _batch(alg, name)
    params = [p for p in alg.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
    steps = []
    for it in range(2):
        FCFDProgressHook().before_train_iter(SimpleNamespace(model=alg, epoch=0, iter=it), batch_idx=it)
        losses = alg.loss(data['inputs'], data['data_samples'])
        total, _ = alg.parse_losses(losses)
        opt.zero_grad(set_to_none=True)
        total.backward()
        values = {k: [float(x.detach()) for x in (v if isinstance(v, (list, tuple)) else [v])]
                  for k, v in losses.items()}
        grads = {k: (None if p.grad is None else float(p.grad.detach().double().norm()))
                 for k, p in alg.named_parameters() if p.requires_grad}
        for p in alg.pop_unused_parameters():
            p.grad = None
        opt.step()
        steps.append(dict(losses=values, grad_norms=grads))
    state = alg.state_dict()
    result = dict(config=name, steps=steps, state=({k: _checksum(v) for k, v in state.items()}),
                  sections=json.loads(json.dumps(sections, default=repr)))
    target = out / (name.replace('/', '__') + '.json')
    target.write_text(json.dumps(result, indent=1, sort_keys=True))
    if name in STATE_DICTS:
        torch.save({k: v.detach().clone() for k, v in state.items()}, out / (name.replace('/', '__') + '.pth'))


def rename(key: str) -> str:
    for old, new in KEY_RENAMES:
        key = re.sub(old, new, key)
    return key


def _difference(a: float, b: float) -> float:
    """``|a - b|`` relative to ``max(1, |a|)``: absolute for small values, relative for large ones."""
    return abs(a - b) / max(1.0, abs(a))


def _paired(ref: dict, new: dict, what: str, problems: list):
    """``(key, ref value, new value)`` for the keys both hold (renamed keys mapped); a problem for the others."""
    ref, new = ({rename(k): v for k, v in d.items()} for d in (ref, new))
    if set(ref) != set(new):
        problems.append(f'{what} differ: {sorted(set(ref) ^ set(new))[:6]}')
    return [(k, v, new[k]) for k, v in ref.items() if k in new]


def compare(ref_dir: Path, new_dir: Path, atol: float, repo: Path) -> int:
    """Per config: every loss value, gradient norm and state-dict checksum of the two recordings
    (differences relative to ``max(1, |value|)``, :func:`_difference`); the saved old state dicts
    loaded into the new models. Returns the number of failures."""
    failures, rows = 0, []
    for ref_path in sorted(ref_dir.glob('*.json')):
        new_path = new_dir / ref_path.name
        if not new_path.exists():
            print(f'MISSING {ref_path.name}')
            failures += 1
            continue
        ref, new = json.loads(ref_path.read_text()), json.loads(new_path.read_text())
        worst, problems = dict(losses=[], grads=[], state=[]), []
        for r_step, n_step in zip(ref['steps'], new['steps']):
            for _, a, b in _paired(r_step['losses'], n_step['losses'], 'loss keys', problems):
                worst['losses'] += [_difference(x, y) for x, y in zip(a, b)]
            for k, a, b in _paired(r_step['grad_norms'], n_step['grad_norms'], 'parameters', problems):
                if (a is None) != (b is None):
                    problems.append(f'gradient of {k}: {a} vs {b}')
                elif a is not None:
                    worst['grads'].append(_difference(a, b))
        for k, a, b in _paired(ref['state'], new['state'], 'state-dict keys', problems):
            if a[:2] != b[:2]:
                problems.append(f'{k}: {a[:2]} vs {b[:2]}')
            else:
                worst['state'].append(max(_difference(x, y) for x, y in zip(a[2:], b[2:])))
        largest = max((max(v, default=0.0) for v in worst.values()), default=0.0)
        if largest > atol:
            problems.append(f'largest difference {largest:.3g} > {atol:g}')
        failures += bool(problems)
        rows.append((ref['config'], worst, problems))
    for name, worst, problems in rows:
        status = 'ok' if not problems else 'DIFF ' + '; '.join(problems)[:400]
        print(f'{name:<58} ' + ' '.join(f'{k} {len(v):>4} (max {max(v, default=0.0):.2g})' for k, v in worst.items())
              + f'  {status}')
    failures += compare_state_dicts(ref_dir, repo)
    totals = {k: [x for _, w, _ in rows for x in w[k]] for k in ('losses', 'grads', 'state')}
    print(f'{len(rows)} configs; compared {len(totals["losses"])} loss values, {len(totals["grads"])} gradient norms '
          f'and {len(totals["state"])} state-dict tensors; largest difference (relative to max(1, |value|)): losses '
          f'{max(totals["losses"], default=0.0):.3g}, gradient norms {max(totals["grads"], default=0.0):.3g}, '
          f'state checksums {max(totals["state"], default=0.0):.3g}; {failures} failure(s)')
    return failures


def compare_state_dicts(ref_dir: Path, repo: Path) -> int:
    """Load each saved old state dict into the new model of that config (strict) and check every
    tensor arrived unchanged."""
    import torch
    from mmengine.config import Config
    from mmrazor.registry import MODELS
    failures = 0
    for path in sorted(ref_dir.glob('*.pth')):
        name = path.stem.replace('__', '/')
        old = torch.load(path, weights_only=False)
        cfg = Config.fromfile(str(repo / 'configs' / name))
        cfg.model.teacher_ckpt = None
        torch.manual_seed(1)
        alg = MODELS.build(cfg.model)
        result = alg.load_state_dict(old, strict=True)
        new = alg.state_dict()
        same = all(torch.equal(new[rename(k) if rename(k) in new else k], v) for k, v in old.items())
        print(f'old state dict {name}: {len(old)} tensors loaded strictly ({result}), all equal: {same}')
        failures += not same
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='cmd', required=True)
    rec = sub.add_parser('record')
    rec.add_argument('out')
    rec.add_argument('--repo', default=str(Path(__file__).resolve().parents[1]))
    rec.add_argument('--only', nargs='*', default=None)
    cmp = sub.add_parser('compare')
    cmp.add_argument('reference')
    cmp.add_argument('new')
    cmp.add_argument('--atol', type=float, default=1e-5)
    cmp.add_argument('--repo', default=str(Path(__file__).resolve().parents[1]))
    args = parser.parse_args(argv)
    repo = Path(args.repo).resolve()
    sys.path.insert(0, str(repo))
    os.chdir(repo)
    import torch
    torch.set_num_threads(2)
    import fcfd_mm  # noqa: F401
    if args.cmd == 'compare':
        return int(compare(Path(args.reference), Path(args.new), args.atol, repo) > 0)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in config_names(repo):
        if args.only and not any(s in name for s in args.only):
            continue
        print(f'recording {name}', flush=True)
        record_one(repo, name, out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
