#!/usr/bin/env python
"""The family sweep: every detector family of mmdet 3.3's model zoo either distils with FCFD or is
refused clearly; docs/families.md is its table.

    PYTHONPATH=. python tools/dev/family_sweep.py            # print the table
    PYTHONPATH=. python tools/dev/family_sweep.py --write    # regenerate docs/families.md
    PYTHONPATH=. python tools/dev/family_sweep.py --family tood vfnet   # those rows only

For each family directory of the installed ``mmdet/.mim/configs`` one config is picked by rule
(:func:`pick_config`), narrowed (:func:`tests.adapters.families.shrink`, the test suite's tiny
model-zoo models) and used as teacher and student of ``FCFDDistill(fcfd=dict())`` on 2 random
64x64 images (384x384 where the detector's own loss step needs larger ones, :data:`SIZES`; the
runner's epoch 0 in mmengine's ``MessageHub``). The outcome must be one of

* **distilled**: a loss step with finite FCFD terms whose backward reaches both directions'
  bridges (and leaves the teacher without gradients);
* **refused**: ``UnsupportedModelError`` when FCFDDistill is built, naming the fix;
* **skipped** by rule, with the reason in the table: the directory is no model family (no
  ``metafile.yml``: shared bases, dataset variants, examples), the model is no image detector
  (tracking, video, re-identification), or the detector itself cannot be built or run its own loss
  step here (offline, CPU: e.g. a text encoder or a checkpoint to download, CUDA-only ops).

Any other exception stops the sweep. ``tests/adapters/test_family_sweep.py`` runs the rows and
checks that docs/families.md is current.
"""
from __future__ import annotations

import argparse
import copy
import os
import re
import sys
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import torch

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from tests.adapters.families import build_pair, random_batch, shrink  # noqa: E402

DOC = REPO / 'docs' / 'families.md'
#: config name tokens of the cheapest member of a family (ResNet-18/50, tiny / small variants)
CHEAP = re.compile(r'(^|[_-])(r18|r50|tiny|s|nano)([_-]|$)')
#: image sizes of the loss step: 64, and 384 for a detector whose own step needs larger inputs
#: (deformable convolutions on the coarsest level, 1x1 at 64, need at least their kernel's size;
#: SSD300's extra layers)
SIZES = (64, 384)
#: the errors of a convolution on an input smaller than its kernel (mmcv's deformable, torch's)
SMALL_INPUT_ERRORS = ('smaller than kernel', "Kernel size can't be greater than actual input size")
#: families whose own loss is written for one class (CrowdDet's EMD loss: CrowdHuman's person); the
#: others are narrowed to 4 classes
ONE_CLASS = ('crowddet',)


def zoo_dir() -> Path:
    import mmdet
    return Path(mmdet.__file__).parent / '.mim' / 'configs'


def family_dirs() -> List[str]:
    return sorted(p.name for p in zoo_dir().iterdir() if p.is_dir())


def pick_config(family: str) -> Optional[str]:
    """The family's cheapest-looking config: a top-level ``.py`` of the directory, preferring names
    with an ``r18`` / ``r50`` / ``tiny`` / ``s`` / ``nano`` token, then the shortest name; Fast
    R-CNN configs (they read precomputed proposal files) last."""
    files = sorted(p.name for p in (zoo_dir() / family).glob('*.py'))
    if not files:
        return None
    return min(files, key=lambda n: ('fast-rcnn' in n, CHEAP.search(n[:-3]) is None, len(n), n))


def _first_line(exc: BaseException) -> str:
    """The error in one line of at most 160 characters, without this machine's install paths (the
    table must read the same on every machine): model-zoo configs as ``mmdet::...``, the rest of
    site-packages as ``<site-packages>``."""
    text = ' '.join(f'{type(exc).__name__}: {exc}'.split())
    text = text.replace(f'{zoo_dir()}/', 'mmdet::').replace(f'{zoo_dir().parents[2]}/', '<site-packages>/')
    return text[:160]


def _terms(alg) -> str:
    losses = alg.fcfd_neck.output_losses
    return ', '.join(f'{name}: {type(loss).__name__}' for name, loss in losses.items())


ADAPTERS_INTRO = """## How each family is distilled

At the neck (FPN-like) switch point every family gets the same FCFD terms (docs/method.md): bridges on
every neck level in both directions, the appearance MSE (for the dense families scale-free: relative
to the teacher's mean square, with bridges started from the receiver's feature statistics,
docs/method.md), and the paths `s` (student head vs teacher
head), `st` (bridged student features through the frozen teacher head) and `ts` (bridged teacher
features through the student head), each compared with the teacher head on its own features. The
head adapter says what the head outputs are, which rows the output terms average over, and which
distance fits each output: class-like outputs get a KL (softmax logits) or a per-class sigmoid KD
(sigmoid scores, objectness, centerness), box deltas and distances an MSE, box distributions over bins
a softmax KL per box side. The levels and channels of the switch point are read from the neck's
actual outputs (a dry run where the neck has no `num_outs` / integer `out_channels`); each level's
bridges map that level's channels (SSD's and YOLOv3's necks differ from level to level).
"""
#: adapter, serves, rows of the output terms, class-like outputs, box-like outputs, row weights
ADAPTER_ROWS = [
    ('`RoIBoxHeadAdapter`', 'Faster R-CNN, and the box head of Mask R-CNN and other `StandardRoIHead` / '
     '`DynamicRoIHead` / `MaskScoringRoIHead` / `DoubleHeadRoIHead` / `PointRendRoIHead` detectors; SABL '
     'Faster R-CNN (`SABLHead`)',
     'the RoIs the student\'s RoI head sampled for its own loss', '`cls`: (C + 1) softmax logits, KL (T = 1)',
     '`reg`: box deltas, MSE (SABL: `bucket`, softmax KL per side; `offset`, MSE)', 'none'),
    ('`PISARoIBoxHeadAdapter`', 'PISA (`PISARoIHead`; Faster / Mask R-CNN)',
     'the RoIs of the student\'s box loss (the last box-head call; PISA\'s sampler ranks candidates with it first)',
     '`cls`: (C + 1) softmax logits, KL (T = 1)', '`reg`: box deltas, MSE', 'none'),
    ('`CascadeRoIHeadAdapter`', 'Cascade R-CNN, Cascade Mask R-CNN (box heads)',
     'per stage `i`, the RoIs the student sampled at that stage',
     '`cls{i}`: KL, weight `stage_loss_weights[i]` (1, 0.5, 0.25)', '`reg{i}`: MSE, same weight', 'none'),
    ('`HTCRoIHeadAdapter`', 'Hybrid Task Cascade (also the HTC configs of DetectoRS, HRNet, Res2Net; box heads)',
     'per stage `i`, the RoIs the student sampled at that stage; each network\'s semantic feature fused into '
     'the box features as HTC does', '`cls{i}`: KL, weight `stage_loss_weights[i]`', '`reg{i}`: MSE, same weight',
     'none'),
    ('`SCNetRoIHeadAdapter`', 'SCNet (`SCNetRoIHead`; box heads)',
     'per stage `i`, the RoIs the student sampled at that stage; each network\'s semantic and global context '
     'features fused into the box features as SCNet does', '`cls{i}`: KL, weight `stage_loss_weights[i]`',
     '`reg{i}`: MSE, same weight', 'none'),
    ('`MultiInstanceRoIBoxHeadAdapter`', 'CrowdDet (`MultiInstanceRoIHead`)',
     'the RoIs the student\'s RoI head sampled; paths `st` / `ts` only (its K objects per RoI are an unordered '
     'set, so `s` is refused)', '`cls` (`cls_ref`): K groups of (C + 1) softmax logits, softmax KL per group',
     '`reg` (`reg_ref`): K x 4 box deltas, MSE', 'none'),
    ('`TridentRoIBoxHeadAdapter`', 'TridentNet (`TridentRoIHead`; no neck: the switch point is the trident C4 '
     'output, each image once per branch)', 'the RoIs the student\'s RoI head sampled',
     '`cls`: (C + 1) softmax logits, KL (T = 1)', '`reg`: box deltas, MSE', 'none'),
    ('`GridRoIBoxHeadAdapter`', 'Grid R-CNN (`GridRoIHead`)',
     '`cls`: the RoIs the student sampled; `grid`: every positive RoI its grid branch ran on',
     '`cls`: (C + 1) softmax logits, KL (T = 1)',
     '`grid`: the fused grid-point heatmaps, per-pixel sigmoid KD averaged over the pixels', 'none'),
    ('`DenseHeadAdapter`', 'RetinaNet (`RetinaHead`, `RetinaSepBNHead`, `FreeAnchorRetinaHead`, `FSAFHead`, '
     '`PISARetinaHead`), YOLOF (`YOLOFHead`)', 'anchors of all levels', '`cls`: sigmoid KD, weight 5',
     '`reg`: box deltas, MSE',
     'teacher\'s max class probability'),
    ('`ATSSHeadAdapter`', 'ATSS (also with DyHead)', 'anchors of all levels', '`cls`, `centerness`: sigmoid KD',
     '`reg`: box deltas, MSE', 'max class probability x centerness'),
    ('`FCOSHeadAdapter`', 'FCOS, NAS-FCOS', 'locations of all levels', '`cls`, `centerness`: sigmoid KD',
     '`reg`: distances to the 4 sides in units of the level\'s stride, MSE', 'max class probability x centerness'),
    ('`YOLOXHeadAdapter`', 'YOLOX', 'locations of all levels', '`cls`, `obj` (objectness): sigmoid KD',
     '`reg`: raw offsets and log sizes (per stride), MSE', 'max class probability x objectness'),
    ('`RTMDetHeadAdapter`', 'RTMDet (`RTMDetSepBNHead`, `RTMDetHead`; the box part of RTMDet-Ins)',
     'locations of all levels', '`cls`: sigmoid KD', '`reg`: distances in units of the level\'s stride, MSE',
     'max class probability'),
    ('`GFLHeadAdapter`', 'GFL', 'locations of all levels', '`cls` (quality-focal scores): sigmoid KD',
     '`reg`: 4 x (reg_max + 1) bin logits, softmax KL over each side\'s bins (`DistributionKLLoss`)',
     'max class probability'),
    ('`DDODHeadAdapter`', 'DDOD', 'anchors of all levels', '`cls`, `iou` (predicted IoU): sigmoid KD',
     '`reg`: box deltas, MSE', 'max class probability x IoU'),
    ('`PAAHeadAdapter`', 'PAA', 'anchors of all levels', '`cls`, `iou` (predicted IoU): sigmoid KD',
     '`reg`: box deltas, MSE', 'sqrt(max class probability x IoU)'),
    ('`TOODHeadAdapter`', 'TOOD', 'anchors of all levels',
     '`cls`: the task-aligned class probabilities as logits, sigmoid KD',
     '`reg`: decoded boxes in units of the level\'s stride, MSE', 'max class probability'),
    ('`VFNetHeadAdapter`', 'VarifocalNet', 'locations of all levels', '`cls` (IoU-aware scores): sigmoid KD',
     '`reg`: the refined distances in units of the level\'s stride, MSE', 'max class probability'),
    ('`AutoAssignHeadAdapter`', 'AutoAssign', 'locations of all levels',
     '`cls`, `centerness` (objectness): sigmoid KD', '`reg`: distances in units of the level\'s stride, MSE',
     'max class probability x objectness'),
    ('`FoveaHeadAdapter`', 'FoveaBox', 'locations of all levels', '`cls`: sigmoid KD',
     '`reg`: log-space box offsets (per base edge), MSE', 'max class probability'),
    ('`CenterNetUpdateHeadAdapter`', 'CenterNet-Update (`CenterNetUpdateHead`)', 'locations of all levels',
     '`cls`: sigmoid KD',
     '`reg`: distances in units of the level\'s stride, MSE', 'max class probability'),
    ('`CenterNetHeadAdapter`', 'CenterNet, the earlier one (`CenterNetHead` on `CTResNetNeck`\'s one map)',
     'locations of the one stride-4 map', '`cls`: the centre-heatmap probabilities as logits, sigmoid KD',
     '`reg`: 2 box sizes + 2 centre offsets (output-map units), MSE', 'max heatmap probability'),
    ('`CornerHeadAdapter`', 'CornerNet (`CornerHead`; no neck: the switch point is the hourglass stacks\' '
     'outputs)', 'locations of every stack\'s map', '`cls`: both corners\' heatmaps, sigmoid KD (embeddings not '
     'distilled)', '`reg`: both corners\' offsets (output-map units), MSE', 'max corner probability'),
    ('`CentripetalHeadAdapter`', 'CentripetalNet (`CentripetalHead`, on the hourglass stacks\' outputs)',
     'locations of every stack\'s map', '`cls`: both corners\' heatmaps, sigmoid KD',
     '`reg`: both corners\' offsets, MSE; `shift`: guiding and centripetal shifts, MSE', 'max corner probability'),
    ('`YOLOV3HeadAdapter`', 'YOLOv3', 'anchors of all levels (3 per location)',
     '`cls`, `obj` (objectness): sigmoid KD', '`reg`: raw offsets and log sizes (per stride), MSE',
     'max class probability x objectness'),
    ('`SSDHeadAdapter`', 'SSD, SSDLite', 'anchors of all levels (4 or 6 per location, by level)',
     '`cls`: C + 1 softmax logits, softmax KL (`DistributionKLLoss` over one group of C + 1)',
     '`reg`: box deltas, MSE', 'max foreground softmax probability'),
    ('`RPNHeadAdapter`', 'RPN on its own (`RPN` + `RPNHead`)', 'anchors of all levels (3 per location)',
     '`cls` (objectness): sigmoid KD', '`reg`: box deltas, MSE', 'objectness probability'),
    ('`RepPointsHeadAdapter`', 'RepPoints (`RepPointsHead`)', 'locations of all levels', '`cls`: sigmoid KD',
     '`reg`: the refined point set as a box (each head\'s own `points2bbox`, units of the level\'s stride), MSE',
     'max class probability'),
    ('`SABLRetinaHeadAdapter`', 'SABL RetinaNet (`SABLRetinaHead`)', 'locations of all levels (one square anchor)',
     '`cls`: sigmoid KD',
     '`bucket`: 4 x side_num bucket logits, softmax KL per side; `offset`: offsets in bucket widths, MSE',
     'max class probability'),
    ('`GuidedAnchorHeadAdapter`', 'Guided Anchoring (`GARetinaHead`, `GARPNHead` on its own; GA Faster R-CNN: '
     '`RoIBoxHeadAdapter`)', 'locations of all levels (one guided anchor)',
     '`cls`, `loc` (anchor location): sigmoid KD',
     '`reg`: the decoded box (guided anchor + deltas) in units of the level\'s stride, MSE; `shape`: the anchor '
     'shape deltas, MSE', 'max class probability x anchor-location probability'),
    ('`CondInstHeadAdapter`', 'the box head of CondInst / BoxInst (`CondInstBboxHead`, `BoxInstBboxHead`)',
     'locations of all levels', '`cls`, `centerness`: sigmoid KD (mask-filter parameters not distilled)',
     '`reg`: distances in units of the level\'s stride, MSE', 'max class probability x centerness'),
    ('`YOLACTHeadAdapter`', 'the box head of YOLACT (`YOLACTHead`)', 'anchors of all levels (3 per location)',
     '`cls`: C + 1 softmax logits, softmax KL (mask coefficients not distilled)', '`reg`: box deltas, MSE',
     'max foreground softmax probability'),
    ('`SOLOHeadAdapter`', 'the category grid of SOLO, SOLOv2, decoupled SOLO (`mask_head`)',
     'the S x S grid cells of all levels', '`cls`: per-cell class logits, sigmoid KD (masks, kernels not distilled)',
     'none', 'max class probability'),
    ('`CrossFamilyHeadAdapter`', 'a teacher and a student of different families, the teacher dense (e.g. FCOS -> '
     'RetinaNet, FCOS -> Faster R-CNN); picked by itself for such a pair',
     'the teacher head\'s rows, on its levels that have a student level of equal stride',
     'the teacher adapter\'s, path `st` only', 'the teacher adapter\'s, path `st` only',
     'the teacher adapter\'s'),
]
ADAPTERS_OUTRO = """
All of this but Faster R-CNN's setting is the plugin's own extension (the official FCFD detection
code has Faster R-CNN only); weights are 1 unless the table says otherwise and are not tuned for these
families. Mask R-CNN-style detectors are distilled at their box head only; their mask heads train on
their own loss. So are the one-stage instance segmentors: CondInst / BoxInst and YOLACT at their box
head (CondInst's dynamic mask-filter parameters and YOLACT's mask coefficients are not distilled: they
are weights and coordinates of each network's own mask branch), SOLO / SOLOv2 at their category grid
(one row per grid cell; SOLO's predictions carry no boxes, so only the mask mAP of its hybrids means
something). Shipped configs: `configs/fcfd_rtmdet_s_tiny_coco.py` (RTMDet-s -> RTMDet-tiny),
`configs/fcfd_gfl_r101_r50_coco.py` (GFL R101 -> R50), `configs/fcfd_fcos_r101_r50_coco.py` (FCOS
R101-caffe -> R50-caffe) and `configs/fcfd_atss_r101_r50_coco.py` (ATSS R101 -> R50), besides the
Faster R-CNN and RetinaNet ones.

Teacher and student of different families (`CrossFamilyHeadAdapter`, `configs/fcfd_fcos_r101_retina_r50_coco.py`):
the appearance term on the neck levels of equal stride (a Faster R-CNN student's P2-P6 against an FCOS
teacher's P3-P7 pairs P3-P6) and path `st`, whose output terms compare the teacher's head with itself. Paths
`s` and `ts` compare the two heads row by row and are refused for such a pair, as are RoI-head teachers
(their `st` path would need RoIs the student does not propose) and the backbone-stage switch point. A
teacher whose config normalises its inputs differently (caffe-style FCOS) gets its own normalisation.

DETR-style detectors (DETR, Deformable DETR, DINO, DDQ-DETR, Conditional DETR, DAB-DETR, Co-DETR) and
the other query-based ones (Sparse R-CNN, QueryInst, MaskFormer, Mask2Former) are refused: their
outputs are a set of learned queries that each network matches to the ground truth by itself, so
there is no per-location or per-RoI correspondence between the student's and the teacher's outputs
for FCFD's output terms. Distil them with feature losses on the neck instead, e.g. MMRazor's PKD or
CWD distillers.

### Adding a family

A family without an adapter is refused with the list of supported ones. To add one, register a head
adapter in a module of the config's `custom_imports`; for a dense head, subclass `DenseHeadBase`
(`fcfd_mm/adapters/heads/dense_base.py`), which owns the flow (pair checks, rows, row weights,
running the head), and say which head classes it serves, how the head's forward tuple becomes named
per-level maps and which loss fits each name; optionally the output that scales the teacher's class
score in the row weights (`quality_output`, e.g. `'centerness'`), whether only sigmoid class scores
are served (`sigmoid_classes`), checks of the two heads (`check_heads`), the detector attribute that
holds the head (`head_attr`, SOLO's `'mask_head'`) and, for maps that depend on the head's own
parameters (RepPoints' moment transfer), `head_maps(head, outputs)` instead of `level_maps`:

```python
from fcfd_mm.adapters import HEAD_ADAPTERS, DenseHeadBase


@HEAD_ADAPTERS.register_module()
class MyHeadAdapter(DenseHeadBase):
    family = 'a MyDet detector (MyHead: classes, box deltas)'
    output_losses = dict(cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0),
                         reg=dict(type='WeightedMSELoss', loss_weight=1.0))

    @classmethod
    def head_types(cls):
        from my_package import MyHead
        return (MyHead,)

    def level_maps(self, outputs, training):
        cls_scores, bbox_preds = outputs[:2]  # per level (B, A * width, H, W)
        return dict(cls=list(cls_scores), reg=list(bbox_preds))
```

With no `fcfd.head.type` the most recently registered adapter whose `supports(student)` holds is
used; where it does not serve the teacher but another adapter does, `CrossFamilyHeadAdapter` pairs the
two (a cross-family pair, above). Two-stage heads follow `RoIBoxHeadAdapter` / `CascadeRoIHeadAdapter`
(`fcfd_mm/adapters/heads/`).
"""


def adapters_doc() -> str:
    head = ['| adapter | serves | rows of the output terms | class-like outputs | box-like outputs | row weights '
            '(`anchor_weighting=\'teacher_score\'`) |', '|---|---|---|---|---|---|']
    return '\n'.join([ADAPTERS_INTRO] + head + ['| ' + ' | '.join(r) + ' |' for r in ADAPTER_ROWS]) + '\n' + \
        ADAPTERS_OUTRO


def own_loss_step_size(plain, extra: dict):
    """The image size (:data:`SIZES`) at which the detector ``plain`` runs its own loss step, or the
    error of the last try in one line. The runner's epoch is 0 (``MessageHub`` info ``epoch``, which
    TOOD's head reads as a runner sets it)."""
    from mmengine.logging import MessageHub
    MessageHub.get_current_instance().update_info('epoch', 0)
    for size in SIZES:
        try:
            data = random_batch(plain, size=size, **extra)
            plain.loss(data['inputs'], data['data_samples'])
            return size
        except Exception as exc:
            error = exc
            if not any(text in str(exc) for text in SMALL_INPUT_ERRORS):
                break
    return _first_line(error)


@lru_cache(maxsize=None)
def sweep(family: str) -> Dict[str, str]:
    """Run one family; returns its table row (``status`` distilled / refused / skipped)."""
    from mmdet.models.detectors.base import BaseDetector
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.hub import get_config

    from fcfd_mm.adapters import UnsupportedModelError

    row = dict(family=family, config='', detector='', status='skipped', adapter='', terms='', reason='')
    if not (zoo_dir() / family / 'metafile.yml').exists():
        row['reason'] = 'no metafile.yml: not a model family (shared bases, dataset variants, examples)'
        return row
    name = pick_config(family)
    if name is None:
        row['reason'] = 'no config at the top level of the directory'
        return row
    row['config'] = name
    try:
        model_cfg = get_config(f'mmdet::{family}/{name}').model
    except Exception as exc:  # a config that does not load here (e.g. needs an optional package)
        row['reason'] = f'the config does not load here ({_first_line(exc)})'
        return row
    cls = MMDET_MODELS.get(model_cfg.get('type'))
    if cls is None or not (isinstance(cls, type) and issubclass(cls, BaseDetector)):
        row['reason'] = f'{model_cfg.get("type")} is not an image detector (tracking, video or re-identification)'
        return row
    classes = 1 if family in ONE_CLASS else 4
    model_cfg = shrink(model_cfg, num_classes=classes)
    model_cfg['_scope_'] = 'mmdet'
    heads = [model_cfg.get(k, {}).get('type') for k in ('rpn_head', 'roi_head', 'bbox_head', 'mask_head')
             if isinstance(model_cfg.get(k), dict)]
    row['detector'] = ' + '.join([model_cfg['type']] + [h for h in heads if h])
    try:  # the detector alone, as mmdet builds it
        torch.manual_seed(0)
        plain = MMDET_MODELS.build(copy.deepcopy(model_cfg))  # some detectors edit the config they get
    except Exception as exc:
        row['reason'] = f'the detector itself does not build here ({_first_line(exc)})'
        return row
    with_mask = bool(getattr(plain, 'with_mask', False) or getattr(getattr(plain, 'roi_head', None), 'with_mask',
                                                                    False))
    # semantic maps for a detector with a semantic head of its own or in its RoI head (HTC)
    with_semantic = hasattr(plain, 'semantic_head') or bool(getattr(getattr(plain, 'roi_head', None), 'with_semantic',
                                                                    False))
    extra = dict(with_mask=with_mask, with_semantic=with_semantic, num_classes=classes)
    try:
        alg = build_pair(model_cfg)
    except UnsupportedModelError as exc:
        row.update(status='refused', reason=str(exc))
        return row
    plain.train()
    size = own_loss_step_size(plain, extra)
    del plain
    if not isinstance(size, int):
        row['reason'] = (f'served by {type(alg.head_adapter).__name__}, but the detector\'s own loss step does not '
                         f'run here ({size})')
        return row
    row['adapter'] = type(alg.head_adapter).__name__
    row['terms'] = _terms(alg)
    data = random_batch(alg, size=size, **extra)
    losses = alg.loss(data['inputs'], data['data_samples'])
    fcfd = {k: v for k, v in losses.items() if k.startswith('distill.loss_fcfd')}
    bad = [k for k, v in fcfd.items() if not torch.isfinite(v).all()]
    assert fcfd and not bad, f'{family}: non-finite FCFD terms {bad}'
    total = sum(fcfd.values())
    total.backward()
    for direction, bridges in (('st', alg.fcfd_neck.bridges_st), ('ts', alg.fcfd_neck.bridges_ts)):
        grads = [p.grad for b in bridges for p in b.parameters()]
        assert grads and all(g is not None and torch.isfinite(g).all() for g in grads), \
            f'{family}: the {direction} bridges got no (finite) gradient'
        assert any(g.abs().sum() > 0 for g in grads), f'{family}: the {direction} bridges got zero gradients'
    assert all(p.grad is None for p in alg.teacher.parameters()), f'{family}: the teacher got gradients'
    row['status'] = 'distilled'
    return row


def check_row(row: Dict[str, str]) -> None:
    if row['status'] == 'refused':
        reason = row['reason']
        assert 'FCFD' in reason and re.search(r'\b(Use|use|register|Distil)\b', reason), \
            f'{row["family"]}: the refusal names no fix: {reason}'


def table() -> str:
    rows = [sweep(f) for f in family_dirs()]
    out = ['# FCFD on the detector families of MMDetection 3.3', '',
           'Generated by `tools/dev/family_sweep.py` (`PYTHONPATH=. python '
           'tools/dev/family_sweep.py --write`): for every directory of mmdet 3.3\'s model-zoo '
           '`configs/`, one config (the cheapest-looking: an `r18` / `r50` / `tiny` / `s` / `nano` name, '
           'then the shortest), narrowed, as teacher and student of `FCFDDistill(fcfd=dict())` on two '
           'random 64x64 images (384x384 where the detector\'s own loss step needs larger ones: deformable '
           'convolutions on the coarsest level): one loss step and backward. **distilled**: finite FCFD '
           'terms, gradients in the bridges of both directions, none in the teacher. **refused**: '
           '`UnsupportedModelError` before training, with the reason. **skipped**: by the rule given (not '
           'a detector family, or the detector itself does not run on this CPU-only, offline test machine).', '',
           adapters_doc(), '## Distilled', '',
           '| family | config | detector | adapter | output terms (`fcfd.neck.output_losses`) |',
           '|---|---|---|---|---|']
    out += [f'| {r["family"]} | `{r["config"]}` | {r["detector"]} | `{r["adapter"]}` | {r["terms"]} |'
            for r in rows if r['status'] == 'distilled']
    out += ['', '## Refused', '',
            'The first sentence of each refusal; where FCFD only lacks a head adapter the message goes on with '
            'the supported families and how to register an adapter for another one.', '',
            '| family | config | detector | why |', '|---|---|---|---|']
    out += [f'| {r["family"]} | `{r["config"]}` | {r["detector"]} | {_short(r["reason"])} |'
            for r in rows if r['status'] == 'refused']
    out += ['', '## Skipped', '', '| family | config | why |', '|---|---|---|']
    out += [f'| {r["family"]} | {("`" + r["config"] + "`") if r["config"] else ""} | {_cell(r["reason"])} |'
            for r in rows if r['status'] == 'skipped']
    return '\n'.join(out) + '\n'


def _cell(text: str) -> str:
    return text.replace('|', '\\|').replace('\n', ' ')


def _short(reason: str) -> str:
    """The refusal's first sentence (the family's reason), without the list of supported families."""
    return _cell(reason.split(' Supported: ')[0] if 'Supported: ' in reason else reason.split('. ')[0] + '.')


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--write', action='store_true', help='write docs/families.md')
    parser.add_argument('--family', nargs='+', help='print the rows of these families only')
    args = parser.parse_args(argv)
    import fcfd_mm  # noqa: F401
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    if args.family and args.write:
        parser.error('--write regenerates the whole table; leave out --family')
    try:
        if args.family:
            for family in args.family:
                row = sweep(family)
                print(' | '.join(f'{k}: {v}' for k, v in row.items() if v))
            return 0
        text = table()
    except Exception:
        traceback.print_exc()
        return 1
    if args.write:
        DOC.write_text(text)
        print(f'wrote {DOC}')
    else:
        print(text)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
