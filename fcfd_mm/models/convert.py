"""Map checkpoints of the original networks onto the staged ``ImageClassifier``.

:func:`convert_repdistiller_state_dict` renames a RepDistiller checkpoint's ``model`` state dict
(``conv1.weight``, ``layer1.0.conv1.weight``, ``fc.weight`` / ``linear.weight`` /
``classifier.weight`` ...) -- or a torchvision ResNet / standard MobileNet-V1 state dict -- into the
keys of ``ImageClassifier(backbone=<staged backbone>, neck=ReLUGlobalAveragePooling,
head=LinearClsHead)`` (``backbone.stages.K...``, ``head.fc.weight``), and checks the result
against the staged backbone key by key, shape by shape.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, List, Mapping, Tuple

import torch

from .zoo import FEAT_DIM, backbone_cfg

Rules = List[Tuple[str, str]]


def _key_rules(cfg: dict) -> Tuple[Rules, str]:
    """(source prefix -> backbone prefix) rules and the source prefix of the FC, per backbone type."""
    t = cfg['type']
    if t in ('RepCifarResNet', 'RepCifarResNet50', 'StagedResNet'):
        n = 3 if t == 'RepCifarResNet' else 4
        rules = [('conv1.', 'stages.0.conv1.'), ('bn1.', 'stages.0.bn1.')]
        rules += [(f'layer{k}.', f'stages.{k}.') for k in range(1, n + 1)]
        return rules, 'linear.' if t == 'RepCifarResNet50' else 'fc.'
    if t == 'RepCifarWRN':
        rules = [('conv1.', 'stages.0.conv1.'), ('bn1.', 'stages.3.bn1.')]
        return rules + [(f'block{k}.layer.', f'stages.{k}.layer.') for k in (1, 2, 3)], 'fc.'
    if t == 'RepCifarVGG':
        return [(f'block{k}.', f'stages.{k}.block.') for k in range(5)], 'classifier.'
    if t == 'RepCifarMobileNetV2':
        from .mobilenet import RepCifarMobileNetV2
        last = len(RepCifarMobileNetV2.stage_groups)
        rules = [('conv1.', 'stages.0.conv1.'), ('conv2.', f'stages.{last}.conv2.')]
        for s, groups in enumerate(RepCifarMobileNetV2.stage_groups, start=1):
            rules += [(f'blocks.{g}.', f'stages.{s}.blocks.{j}.') for j, g in enumerate(groups)]
        return rules, 'classifier.0.'
    if t == 'RepCifarShuffleNetV1':
        rules = [('conv1.', 'stages.0.conv1.'), ('bn1.', 'stages.0.bn1.')]
        return rules + [(f'layer{k}.', f'stages.{k}.') for k in (1, 2, 3)], 'linear.'
    if t == 'RepCifarShuffleNetV2':
        rules = [('conv1.', 'stages.0.conv1.'), ('bn1.', 'stages.0.bn1.'), ('layer1.', 'stages.1.'),
                 ('layer2.', 'stages.2.'), ('layer3.', 'stages.3.layer.'), ('conv2.', 'stages.3.conv2.'),
                 ('bn2.', 'stages.3.bn2.')]
        return rules, 'linear.'
    if t == 'MobileNetV1':
        from .mobilenet import MobileNetV1
        starts = MobileNetV1.stage_starts
        rules = [('model.0.', 'stages.0.')]
        for s, (a, b) in enumerate(zip(starts[1:-1], starts[2:]), start=1):
            rules += [(f'model.{i}.', f'stages.{s}.{i - a}.') for i in range(a, b)]
        return rules, 'fc.'
    raise ValueError(f'no checkpoint key mapping for backbone type {t!r}.')


def _strip_module_prefix(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Drop the ``module.`` prefix of checkpoints saved from ``nn.DataParallel``."""
    if state_dict and all(k.startswith('module.') for k in state_dict):
        return {k[len('module.'):]: v for k, v in state_dict.items()}
    return dict(state_dict)


def _listing(keys, limit: int = 12) -> str:
    keys = sorted(keys)
    more = f' ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def convert_repdistiller_state_dict(arch_name: str, state_dict: Mapping[str, torch.Tensor]
                                    ) -> 'OrderedDict[str, torch.Tensor]':
    """Rename ``state_dict`` of network ``arch_name`` into the staged ``ImageClassifier``'s keys.

    Args:
        arch_name: a RepDistiller model name (``REPDISTILLER_MODELS`` / ``REPDISTILLER_EXTRA_MODELS``,
            e.g. ``'resnet32x4'``, ``'wrn_40_2'``, ``'MobileNetV2'`` or ``'mobile_half'``),
            ``'torchvision_resnet18|34|50|101|152'`` (a torchvision ResNet state dict) or
            ``'mobilenet_v1'`` (``model.N.*`` / ``fc.*`` MobileNet-V1 layout).
        state_dict: the source network's state dict (a ``module.`` prefix is dropped). Missing
            BatchNorm ``num_batches_tracked`` buffers (old checkpoints) are filled with 0.

    Returns:
        ``OrderedDict`` with ``backbone.stages.K...`` and ``head.fc.weight`` / ``head.fc.bias`` keys,
        loadable with ``strict=True`` into ``MODELS.build(classifier_cfg(arch_name, num_classes))``
        (``num_classes`` = rows of the FC weight).

    Raises:
        ValueError: unknown ``arch_name``; keys that no rule maps or that the staged network does not
            have (unexpected); keys of the staged network the checkpoint lacks (missing); shape
            mismatches. The message names the keys.
    """
    from mmpretrain.registry import MODELS

    cfg = backbone_cfg(arch_name)
    rules, head_prefix = _key_rules(cfg)
    src = _strip_module_prefix(state_dict)
    bad = [k for k, v in src.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f'{arch_name}: state dict values must be tensors; not for {_listing(bad)}.')
    with torch.device('meta'):  # only the keys and shapes are needed: no memory, no init cost
        backbone = MODELS.build(cfg)
    target = {'backbone.' + k: v for k, v in backbone.state_dict().items()}

    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    unexpected: List[str] = []
    for key, value in src.items():
        if key.startswith(head_prefix) and key[len(head_prefix):] in ('weight', 'bias'):
            out['head.fc.' + key[len(head_prefix):]] = value
            continue
        for s, d in rules:
            if key.startswith(s):
                new = 'backbone.' + d + key[len(s):]
                if new in target:
                    out[new] = value
                else:
                    unexpected.append(f'{key} (-> {new})')
                break
        else:
            unexpected.append(key)

    for key in target:  # old checkpoints: no num_batches_tracked
        if key not in out and key.endswith('.num_batches_tracked'):
            out[key] = torch.zeros((), dtype=torch.long)
    missing = [k for k in target if k not in out]
    missing += [f'{head_prefix}{p} (-> head.fc.{p})' for p in ('weight', 'bias') if f'head.fc.{p}' not in out]
    shapes = [f'{k}: checkpoint {tuple(out[k].shape)} vs model {tuple(v.shape)}'
              for k, v in target.items() if k in out and out[k].shape != v.shape]
    fc_w = out.get('head.fc.weight')
    if fc_w is not None and (fc_w.dim() != 2 or fc_w.shape[1] != FEAT_DIM[arch_name]):
        shapes.append(f'head.fc.weight: checkpoint {tuple(fc_w.shape)} vs (num_classes, {FEAT_DIM[arch_name]})')
    fc_b = out.get('head.fc.bias')
    if fc_w is not None and fc_b is not None and tuple(fc_b.shape) != (fc_w.shape[0],):
        shapes.append(f'head.fc.bias: checkpoint {tuple(fc_b.shape)} vs ({fc_w.shape[0]},)')
    if unexpected or missing or shapes:
        parts = []
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected key(s): {_listing(unexpected)}')
        if missing:
            parts.append(f'{len(missing)} missing key(s): {_listing(missing)}')
        if shapes:
            parts.append(f'{len(shapes)} shape mismatch(es): {"; ".join(shapes[:12])}')
        raise ValueError(f'the state dict does not match {arch_name!r} ({cfg}): ' + '; '.join(parts)
                         + '. Is it a checkpoint of this network?')
    order = {k: i for i, k in enumerate(list(target) + ['head.fc.weight', 'head.fc.bias'])}
    return OrderedDict(sorted(out.items(), key=lambda kv: order[kv[0]]))


def num_classes_of(converted: Mapping[str, torch.Tensor]) -> int:
    """Number of classes of a converted state dict (rows of ``head.fc.weight``)."""
    return int(converted['head.fc.weight'].shape[0])


__all__ = ['convert_repdistiller_state_dict', 'num_classes_of']
