#!/usr/bin/env python
"""Training-step overhead of FCFD vs the methods users would pick instead, side by side.

    python benchmarks/overhead.py [--family frcnn retinanet] [--size 320] [--batch 2] [--repeats 5]
                                  [--pair real|demo] [--memory] [--out benchmarks/results]

In one process and on identical inputs, times one training step (forward + backward + SGD
step) of: the student alone; MMRazor's FitNet-style L2 on the FPN (3x3 conv + BN connectors);
MMRazor's PKD and CWD (FpnTeacherDistill); FCFD on the FPN; FCFD on the backbone stages. Also
times the teacher's ``extract_feat`` alone; ``floor`` = student step + teacher extract_feat.
All models are built first and timed round-robin (one step of each per round), so drifts of the
machine's speed hit every method alike. Reports medians over ``--repeats`` rounds after
``--warmup`` rounds, each method's ratio to the
student step and to the floor. ``--memory`` also runs each method in a fresh subprocess and
reports its peak resident memory (``VmHWM``; the whole process, model and data included).
On ``--device cuda`` the steps are synchronised and the peak is ``torch.cuda.max_memory_allocated``
per method, in the same process (``benchmarks/gpu_check.sh`` runs it at the real size).
Writes ``overhead_<pair>_<size>_<device>[_<family>].json`` and a PNG bar chart (the family
suffix when only one family is run). ``--parts`` also times each necessary part of the FCFD
(FPN) step on its own and reports the step as a multiple of their sum ('no waste'). Ratios, not seconds, are the result:
absolute times depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

import fcfd_mm  # noqa: E402,F401
from fcfd_mm import compat  # noqa: E402

compat.enable_trident_conv_init()  # TridentNet built without a checkpoint: mmdet leaves TridentConv uninitialised

METHODS = ('student', 'fitnet', 'pkd', 'cwd', 'fcfd_fpn', 'fcfd_fpn_fast', 'fcfd_stages', 'fcfd_stages_1path')
REAL = {'frcnn': ('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
                  'mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py'),
        'retinanet': ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
                      'mmdet::retinanet/retinanet_r101_fpn_1x_coco.py'),
        # the families added after the paper's (FCFD at the neck with the head adapter's defaults)
        'rtmdet': ('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', 'mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py'),
        'gfl': ('mmdet::gfl/gfl_r50_fpn_1x_coco.py', 'mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py'),
        'fcos': ('mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
                 'mmdet::fcos/fcos_r101-caffe_fpn_gn-head-1x_coco.py'),
        # the dense families added next (R101 -> R50 where the model zoo has both; DDOD and AutoAssign
        # have an R50 config only: R50 -> R50). PAA's own loss needs scikit-learn. YOLOv3 and SSD are
        # not here: their necks have channels by level, which the FitNet / PKD / CWD baselines' FPN
        # connectors (one channel number) do not take.
        'tood': ('mmdet::tood/tood_r50_fpn_1x_coco.py', 'mmdet::tood/tood_r101_fpn_ms-2x_coco.py'),
        'vfnet': ('mmdet::vfnet/vfnet_r50_fpn_1x_coco.py', 'mmdet::vfnet/vfnet_r101_fpn_1x_coco.py'),
        'paa': ('mmdet::paa/paa_r50_fpn_1x_coco.py', 'mmdet::paa/paa_r101_fpn_1x_coco.py'),
        'ddod': ('mmdet::ddod/ddod_r50_fpn_1x_coco.py', 'mmdet::ddod/ddod_r50_fpn_1x_coco.py'),
        'autoassign': ('mmdet::autoassign/autoassign_r50-caffe_fpn_1x_coco.py',
                       'mmdet::autoassign/autoassign_r50-caffe_fpn_1x_coco.py'),
        'foveabox': ('mmdet::foveabox/fovea_r50_fpn_4xb4-1x_coco.py', 'mmdet::foveabox/fovea_r101_fpn_4xb4-1x_coco.py'),
        'centernet_update': ('mmdet::centernet/centernet-update_r50_fpn_8xb8-amp-lsj-200e_coco.py',
                             'mmdet::centernet/centernet-update_r101_fpn_8xb8-amp-lsj-200e_coco.py'),
        'atss': ('mmdet::atss/atss_r50_fpn_1x_coco.py', 'mmdet::atss/atss_r101_fpn_1x_coco.py'),
        # the families added last (issue of the model-zoo sweep); one config only: the pair is that config twice.
        # CornerNet / CentripetalNet / TridentNet have no neck: the FitNet / PKD / CWD baselines' FPN
        # connectors do not apply (run --methods student fcfd_fpn)
        'reppoints': ('mmdet::reppoints/reppoints-moment_r50_fpn-gn_head-gn_1x_coco.py',
                      'mmdet::reppoints/reppoints-moment_r101_fpn-gn_head-gn_2x_coco.py'),
        'sabl': ('mmdet::sabl/sabl-retinanet_r50_fpn_1x_coco.py', 'mmdet::sabl/sabl-retinanet_r101_fpn_1x_coco.py'),
        # GA: the pytorch-style X101 teacher; with random weights the R101-caffe one's 0-255 inputs made
        # the decoded boxes overflow within a step (NaN weights, then no anchors for the student's own loss)
        'guided_anchoring': ('mmdet::guided_anchoring/ga-retinanet_r50_fpn_1x_coco.py',
                             'mmdet::guided_anchoring/ga-retinanet_x101-32x4d_fpn_1x_coco.py'),
        'condinst': ('mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py',
                     'mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py'),
        'yolact': ('mmdet::yolact/yolact_r50_1xb8-55e_coco.py', 'mmdet::yolact/yolact_r101_1xb8-55e_coco.py'),
        'solo': ('mmdet::solo/solo_r50_fpn_1x_coco.py', 'mmdet::solo/solo_r101_fpn_8xb8-lsj-200e_coco.py'),
        'solov2': ('mmdet::solov2/solov2_r50_fpn_1x_coco.py', 'mmdet::solov2/solov2_r101_fpn_ms-3x_coco.py'),
        'scnet': ('mmdet::scnet/scnet_r50_fpn_1x_coco.py', 'mmdet::scnet/scnet_r101_fpn_20e_coco.py'),
        'crowddet': ('mmdet::crowddet/crowddet-rcnn_r50_fpn_8xb2-30e_crowdhuman.py',
                     'mmdet::crowddet/crowddet-rcnn_r50_fpn_8xb2-30e_crowdhuman.py'),
        'grid_rcnn': ('mmdet::grid_rcnn/grid-rcnn_r50_fpn_gn-head_1x_coco.py',
                      'mmdet::grid_rcnn/grid-rcnn_r101_fpn_gn-head_2x_coco.py'),
        'tridentnet': ('mmdet::tridentnet/tridentnet_r50-caffe_1x_coco.py',
                       'mmdet::tridentnet/tridentnet_r50-caffe_1x_coco.py'),
        'cornernet': ('mmdet::cornernet/cornernet_hourglass104_8xb6-210e-mstest_coco.py',
                      'mmdet::cornernet/cornernet_hourglass104_8xb6-210e-mstest_coco.py'),
        'centripetalnet': ('mmdet::centripetalnet/centripetalnet_hourglass104_16xb6-crop511-210e-mstest_coco.py',
                           'mmdet::centripetalnet/centripetalnet_hourglass104_16xb6-crop511-210e-mstest_coco.py'),
        # served earlier, timed last: YOLOv3 / SSD (necks with channels by level) and the earlier CenterNet
        # (one-level neck) take no FPN baseline connector (run --methods student fcfd_fpn)
        'yolov3': ('mmdet::yolo/yolov3_mobilenetv2_8xb24-320-300e_coco.py',
                   'mmdet::yolo/yolov3_d53_8xb8-320-273e_coco.py'),
        'ssd': ('mmdet::ssd/ssd300_coco.py', 'mmdet::ssd/ssd300_coco.py'),
        'centernet': ('mmdet::centernet/centernet_r18_8xb16-crop512-140e_coco.py',
                      'mmdet::centernet/centernet_r18_8xb16-crop512-140e_coco.py'),
        'rpn': ('mmdet::rpn/rpn_r50_fpn_1x_coco.py', 'mmdet::rpn/rpn_r101_fpn_1x_coco.py'),
        'pisa': ('mmdet::pisa/faster-rcnn_r50_fpn_pisa_1x_coco.py',
                 'mmdet::pisa/faster-rcnn_x101-32x4d_fpn_pisa_1x_coco.py'),
        'htc': ('mmdet::htc/htc_r50_fpn_1x_coco.py', 'mmdet::htc/htc_r101_fpn_20e_coco.py'),
        'point_rend': ('mmdet::point_rend/point-rend_r50-caffe_fpn_ms-1x_coco.py',
                       'mmdet::point_rend/point-rend_r50-caffe_fpn_ms-1x_coco.py'),
        # across families: MMRazor's FCOS teacher (R101-caffe here) -> RetinaNet R50 (path st, CrossFamilyHeadAdapter)
        'fcos_retina': ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
                        'mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py')}
#: families whose published numbers used the RetinaNet setting below / have an fcfd_fpn_fast setting
FAST = ('frcnn', 'retinanet')
#: the pairs MMRazor's PKD configs distil on 4 FPN levels (its FCOS -> RetinaNet config inherits the
#: RetinaNet one)
PKD_FOUR_LEVELS = (*FAST, 'fcos_retina')
DEMO = {'frcnn': ('configs/demo/faster-rcnn_demo_student.py', 'configs/demo/faster-rcnn_demo_teacher.py'),
        'retinanet': ('configs/demo/retinanet_demo_student.py', 'configs/demo/retinanet_demo_teacher.py')}



def fcfd_settings(method: str, family: str, student: dict) -> dict:
    """``FCFDDistill(fcfd=...)`` of each FCFD method. ``fcfd_fpn``: the faithful defaults.
    ``fcfd_fpn_fast``: the overhead controls set for speed, every path kept
    (benchmarks/README.md): Faster R-CNN runs the consistency terms on a quarter of each image's sampled
    RoIs (128 of 512 in the 1x configs); RetinaNet on FPN levels P4-P7 (P3 left out)."""
    if method == 'fcfd_stages':
        return dict(neck=None, stages=dict())
    if method == 'fcfd_stages_1path':  # one hybrid path per step instead of two
        return dict(neck=None, stages=dict(num_paths=1))
    if method == 'fcfd_fpn':
        return dict()
    if family not in FAST:
        raise ValueError(f'fcfd_fpn_fast has no setting for {family}; run fcfd_fpn.')
    if family == 'frcnn':
        rois = max(1, student['train_cfg']['rcnn']['sampler']['num'] // 4)
        return dict(head=dict(type='RoIBoxHeadAdapter', consistency_rois=rois))
    return dict(head=dict(type='DenseHeadAdapter'), neck=dict(levels=(1, 2, 3, 4)))


def detector_cfg(path: str) -> dict:
    """The model config of an mmdet / local config, weights initialised randomly (no download),
    without batch augmentation."""
    from mmengine.config import Config
    from mmengine.hub import get_config
    cfg = get_config(path) if '::' in path else Config.fromfile(path)
    model = copy.deepcopy(cfg.model)
    model.backbone.init_cfg = None
    model._scope_ = 'mmdet'
    # no batch augmentation: the large-scale-jitter configs pad every batch to 1024 x 1024
    # (BatchFixedSizePad), which would time every method at that size instead of --size
    if isinstance(model.get('data_preprocessor'), dict):
        model.data_preprocessor.pop('batch_augments', None)
    return model


def fpn_losses(kind: str, levels: int, channels: int, teacher_channels: int = None) -> dict:
    """MMRazor distiller settings for FitNet-style L2, PKD or CWD on the FPN levels. When the
    teacher's neck is wider (e.g. RTMDet-s -> tiny), PKD and CWD read the student's levels through a
    1x1 conv + BN connector to the teacher's channels, as MMRazor's configs for such pairs do."""
    t_channels = channels if teacher_channels is None else teacher_channels
    losses, mappings, connectors = {}, {}, {}
    for i in range(levels):
        name = f'loss_{kind}_fpn{i}'
        s = dict(from_student=True, recorder='fpn', data_idx=i)
        t = dict(from_student=False, recorder='fpn', data_idx=i)
        if kind == 'fitnet':
            connectors[f'fitnet{i}'] = dict(type='ConvModuleConnector', in_channel=channels, out_channel=t_channels,
                                            kernel_size=3, padding=1, norm_cfg=dict(type='BN'), act_cfg=None)
            losses[name] = dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0)
            mappings[name] = dict(s_feature=dict(s, connector=f'fitnet{i}'), t_feature=t)
            continue
        if t_channels != channels:
            connectors[f'{kind}{i}'] = dict(type='ConvModuleConnector', in_channel=channels, out_channel=t_channels,
                                            kernel_size=1, norm_cfg=dict(type='BN'), act_cfg=None)
            s = dict(s, connector=f'{kind}{i}')
        if kind == 'pkd':
            losses[name] = dict(type='PKDLoss', loss_weight=6)
        else:
            losses[name] = dict(type='ChannelWiseDivergence', tau=1, loss_weight=10)
        mappings[name] = dict(preds_S=s, preds_T=t)
    return dict(type='ConfigurableDistiller', student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
                teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')), connectors=connectors,
                distill_losses=losses, loss_forward_mappings=mappings)


def baseline_levels(method: str, family: str, neck: dict) -> int:
    """How many neck levels MMRazor's FitNet / PKD / CWD terms read: every neck output (one per
    input for PAFPN-style necks, which have no ``num_outs``), except PKD on the Faster R-CNN /
    RetinaNet pairs (and its FCOS -> RetinaNet pair): 4 levels, the setting its published numbers were
    measured with."""
    num_outs = neck.get('num_outs', len(neck['in_channels']))
    return 4 if method == 'pkd' and family in PKD_FOUR_LEVELS else num_outs


def build(method: str, student: dict, teacher: dict, family: str = 'frcnn'):
    from mmdet.registry import MODELS as DET
    from mmrazor.registry import MODELS
    if method == 'student':
        return DET.build(copy.deepcopy(student))
    common = dict(_scope_='mmrazor', architecture=copy.deepcopy(student), teacher=copy.deepcopy(teacher))
    if method in ('fitnet', 'pkd', 'cwd'):
        neck = student['neck']
        distiller = fpn_losses(method, baseline_levels(method, family, neck), neck['out_channels'],
                               teacher['neck']['out_channels'])
        return MODELS.build(dict(type='FpnTeacherDistill', distiller=distiller, **common))
    return MODELS.build(dict(type='FCFDDistill', fcfd=fcfd_settings(method, family, student), **common))


def peak_rss_gb() -> float:
    """This process's peak resident memory (``VmHWM``). Not ``ru_maxrss``: Linux carries that over
    from the parent across fork/exec, so a child started by a large parent reports the parent's."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 2**20  # kB -> GiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def num_classes(student: dict, family: str) -> int:
    """The classes of ``student``'s box head (a cascade's first), dense head or SOLO's mask head; an
    RPN on its own: 1 (objectness)."""
    head = student.get('roi_head', {}).get('bbox_head') or student.get('bbox_head') or student.get('mask_head')
    head = head[0] if isinstance(head, (list, tuple)) else head
    return 1 if head is None and 'rpn_head' in student else head['num_classes']


def make_batch(model, size, batch: int, num_classes: int):
    """``size``: [side] or [height, width]. Instance masks and semantic maps where the detector's
    own loss trains on them (instance segmentors, HTC-style semantic heads); one class: every
    label 0 (``demo_mm_inputs`` draws labels from 1)."""
    from mmdet.testing import demo_mm_inputs
    h, w = (size[0], size[-1]) if isinstance(size, (list, tuple)) else (size, size)
    det = getattr(model, 'architecture', model)
    roi_head = getattr(det, 'roi_head', None)
    with_mask = bool(getattr(det, 'with_mask', False) or getattr(roi_head, 'with_mask', False))
    with_semantic = bool(getattr(roi_head, 'with_semantic', False))
    packed = demo_mm_inputs(batch_size=batch, image_shapes=[(3, h, w)] * batch, num_items=[4] * batch,
                            num_classes=max(num_classes, 2), with_mask=with_mask, with_semantic=with_semantic)
    if num_classes == 1:
        for sample in packed['data_samples']:
            sample.gt_instances.labels[:] = 0
    return model.data_preprocessor(packed, True)


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _timed(fn, device: str):
    """A closure that runs ``fn()`` (device-synchronised) and returns its seconds."""
    def run() -> float:
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        return time.perf_counter() - t0

    return run


def train_step(model, data, device: str = 'cpu'):
    """A closure that runs one full training step (loss, backward, SGD step) and returns its seconds.
    Each call is the next training iteration for an FCFD model (what FCFDProgressHook sets), so the
    stage switch points draw new hybrid paths each step, as in training, instead of the same ones."""
    model.train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-4, momentum=0.9)
    iteration = iter(range(10 ** 9))

    def step() -> None:
        if hasattr(model, 'set_progress'):
            model.set_progress(0, next(iteration))
        losses = model.loss(data['inputs'], data['data_samples'])
        total, _ = model.parse_losses(losses)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()

    return _timed(step, device)


def teacher_step(teacher, data, device: str = 'cpu'):
    """A closure that runs the teacher's ``extract_feat`` (no grad) and returns its seconds."""
    teacher.eval()

    @torch.no_grad()
    def forward() -> None:
        teacher.extract_feat(data['inputs'])

    return _timed(forward, device)


def fcfd_parts(alg, data, device: str = 'cpu') -> dict:
    """Closures timing each necessary part of an FCFD (FPN) step on its own, through the FPN switch
    point's own methods on the step record of one real step (its features, RoIs / levels and
    paths): the bridges of both directions forward + backward (``bridge``), the teacher target head
    (no graph), and the ``st`` / ``ts`` hybrids' head passes forward + backward on the bridged
    features (``run_hybrid``; ``st``: input gradient only, the teacher is frozen; ``ts``: student
    head parameters and input). Path ``s`` reuses the student's loss pass."""
    neck, head = alg.fcfd_neck, alg.head_adapter
    alg.train()
    with torch.no_grad():
        t_pos, t_neck = head.teacher_forward(alg.teacher, data['inputs'])
    alg.loss(data['inputs'], data['data_samples'])  # records the student's features and RoIs
    step = alg.step_record(t_pos, t_neck)
    t_feats = [f.detach() for f in t_neck]
    s_feats = [f.detach() for f in step.student_neck]
    with torch.no_grad():
        bridged = {d: neck.bridge(d, s_feats if d == 'st' else t_feats) for d in ('st', 'ts')}

    def timed(fn):  # the parameter gradients a part leaves are dropped outside the timed region
        run = _timed(fn, device)

        def run_and_clear() -> float:
            elapsed = run()
            alg.zero_grad(set_to_none=True)
            return elapsed
        return run_and_clear

    def backward(outs):
        sum(o.sum() for o in outs).backward()

    def bridges():
        backward([*neck.bridge('st', [f.clone().requires_grad_() for f in s_feats]).values(),
                  *neck.bridge('ts', t_feats).values()])

    def target():
        with torch.no_grad():
            head.run_head(alg.teacher, t_feats, step.context)

    def hybrid(direction):
        receiver, own = neck.pair.receiver(direction), (t_feats if direction == 'st' else s_feats)

        def run():
            inputs = {lv: f.clone().requires_grad_() for lv, f in bridged[direction].items()}
            backward(neck.run_hybrid(direction, inputs, lambda: own,
                                     lambda feats: head.run_head(receiver, feats, step.context)).values())
        return run

    parts = dict(bridges=timed(bridges), target_head=timed(target))
    for name in ('st', 'ts'):
        if name in neck.paths:
            parts[f'{name}_head_fwd_bwd'] = timed(hybrid(name))
    return parts


def start_training_progress() -> None:
    """Iteration and epoch 0 in MMEngine's message hub, as a runner sets them before its first
    step (TOOD's head reads the epoch)."""
    from mmengine.logging import MessageHub
    MessageHub.get_current_instance().update_info('iter', 0)
    MessageHub.get_current_instance().update_info('epoch', 0)


def run_family(family: str, args) -> dict:
    start_training_progress()
    s_path, t_path = (REAL if args.pair == 'real' else DEMO)[family]
    student, teacher = detector_cfg(s_path), detector_cfg(t_path)
    result = dict(family=family, pair=args.pair, size=args.size, batch=args.batch, repeats=args.repeats,
                  methods={})
    # Build every model first, then time them round-robin (one step of each per round), so a
    # drift of the machine's speed (other load, allocator warm-up) hits every method alike.
    from mmdet.registry import MODELS as DET
    models, runners, data = {}, {}, None
    for method in ['teacher_extract_feat'] + list(args.methods):
        torch.manual_seed(0)
        model = DET.build(copy.deepcopy(teacher)) if method == 'teacher_extract_feat' else \
            build(method, student, teacher, family)
        model.to(args.device)
        if data is None:
            data = make_batch(model, args.size, args.batch, num_classes(student, family))
        models[method] = model
        runners[method] = teacher_step(model, data, args.device) if method == 'teacher_extract_feat' else \
            train_step(model, data, args.device)
    if args.parts:  # FCFD's necessary parts, each timed on its own, in the same rounds
        for method in [m for m in ('fcfd_fpn', 'fcfd_fpn_fast') if m in models]:
            for part, run in fcfd_parts(models[method], data, args.device).items():
                runners[f'{method}:{part}'] = run
    times = {m: [] for m in runners}
    for r in range(args.warmup + args.repeats):
        for method, run in runners.items():
            elapsed = run()
            if r >= args.warmup:
                times[method].append(elapsed)
    for method, ts in times.items():
        result['methods'][method] = dict(median_s=statistics.median(ts), times_s=ts)
        print(f'[{family}] {method:<22} median {statistics.median(ts):7.3f} s', flush=True)
    if args.device.startswith('cuda'):  # peak memory per method, one at a time
        for method, run in runners.items():
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            run()
            result['methods'][method]['peak_gpu_gb'] = torch.cuda.max_memory_allocated() / 2**30
    del models, runners
    m = result['methods']
    floor = m['student']['median_s'] + m['teacher_extract_feat']['median_s']
    result['floor_s'] = floor
    parts = {k: m.pop(k) for k in [k for k in m if ':' in k]}
    for name, v in m.items():
        v['x_student'] = v['median_s'] / m['student']['median_s']
        v['x_floor'] = v['median_s'] / floor
    for method in [k for k in ('fcfd_fpn', 'fcfd_fpn_fast') if any(p.startswith(k + ':') for p in parts)]:
        own = {k.split(':')[1]: v['median_s'] for k, v in parts.items() if k.startswith(method + ':')}
        total = floor + sum(own.values())
        m[method]['parts_s'] = dict(student_step=m['student']['median_s'],
                                    teacher_extract_feat=m['teacher_extract_feat']['median_s'], **own)
        m[method]['sum_of_parts_s'] = total
        m[method]['x_sum_of_parts'] = m[method]['median_s'] / total
    if args.memory and args.device == 'cpu':
        for method in args.methods:
            # the stage switch draws its hybrid paths per step: peak over 8 steps (8 draws), not 3
            steps = 7 if method.startswith('fcfd_stages') else 2
            cmd = [sys.executable, __file__, '--family', family, '--pair', args.pair, '--size', *map(str, args.size),
                   '--batch', str(args.batch), '--warmup', '1', '--repeats', str(steps), '--methods', method,
                   '--rss-only']
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            m[method]['peak_rss_gb'] = json.loads(out.strip().splitlines()[-1])['peak_rss_gb']
    return result


def print_table(result: dict) -> None:
    size = 'x'.join(map(str, result['size']))
    print(f"\n{result['family']} ({result['pair']} pair, {size}, batch {result['batch']}, "
          f"median of {result['repeats']} steps; floor = student step + teacher extract_feat "
          f"= {result['floor_s']:.3f} s)")
    print(f"{'method':<22}{'s/step':>9}{'x student':>11}{'x floor':>9}{'peak GB':>9}")
    for name, v in result['methods'].items():
        peak = v.get('peak_rss_gb', v.get('peak_gpu_gb'))
        peak = f'{peak:.2f}' if peak is not None else '-'
        print(f"{name:<22}{v['median_s']:>9.3f}{v['x_student']:>11.2f}{v['x_floor']:>9.2f}{peak:>9}")
    for name, v in result['methods'].items():
        if 'parts_s' in v:
            parts = ', '.join(f'{k} {t:.3f}' for k, t in v['parts_s'].items())
            print(f"{name}: step {v['median_s']:.3f} s = {v['x_sum_of_parts']:.2f} x the sum of its parts "
                  f"timed alone ({v['sum_of_parts_s']:.3f} s: {parts})")


def plot(results: list, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4), squeeze=False)
    for ax, r in zip(axes[0], results):
        names = [n for n in r['methods'] if n != 'teacher_extract_feat']
        ax.bar(names, [r['methods'][n]['x_floor'] for n in names], color='#4c72b0')
        ax.axhline(1.0, color='k', lw=0.8, ls='--')
        ax.set_title(f"{r['family']} ({r['pair']}, {'x'.join(map(str, r['size']))}, batch {r['batch']})")
        ax.set_ylabel('step time / floor')
        ax.tick_params(axis='x', rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--family', nargs='+', choices=sorted(REAL), default=['frcnn', 'retinanet'])
    p.add_argument('--pair', choices=['real', 'demo'], default='real', help='R101->R50 (real) or the demo detectors')
    p.add_argument('--size', type=int, nargs='+', default=[320], help='SIDE or HEIGHT WIDTH of the input')
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--methods', nargs='+', choices=METHODS, default=list(METHODS))
    p.add_argument('--parts', action='store_true',
                   help="also time each necessary part of the FCFD FPN step on its own ('no waste' check)")
    p.add_argument('--memory', action='store_true', help='peak RSS per method, each in a fresh subprocess (CPU)')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    p.add_argument('--rss-only', action='store_true', help='(internal) one method, print its peak RSS as JSON')
    p.add_argument('--out', default='benchmarks/results')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    missing = [f for f in args.family if args.pair == 'demo' and f not in DEMO]
    if missing:
        sys.exit(f'--pair demo has no demo detectors of {missing}; use --pair real.')
    if 'student' not in args.methods and not args.rss_only:
        args.methods = ['student'] + list(args.methods)
    if args.rss_only:  # child of --memory: one method, report this process's peak RSS
        start_training_progress()
        family = args.family[0]
        s_path, t_path = (REAL if args.pair == 'real' else DEMO)[family]
        student, teacher = detector_cfg(s_path), detector_cfg(t_path)
        model = build(args.methods[-1], student, teacher, family)
        run = train_step(model, make_batch(model, args.size, args.batch, num_classes(student, family)))
        for _ in range(args.warmup + args.repeats):
            run()
        print(json.dumps(dict(peak_rss_gb=peak_rss_gb())))
        return
    os.makedirs(args.out, exist_ok=True)
    results = [run_family(f, args) for f in args.family]
    for r in results:
        print_table(r)
    only = '' if sorted(args.family) == ['frcnn', 'retinanet'] else '_' + '_'.join(args.family)
    stem = osp.join(args.out, f"overhead_{args.pair}_{'x'.join(map(str, args.size))}_{args.device.split(':')[0]}{only}")
    with open(stem + '.json', 'w') as f:
        json.dump(dict(torch=torch.__version__, threads=torch.get_num_threads(), device=args.device,
                       results=results), f, indent=1)
    plot(results, stem + '.png')
    print(f'\nwrote {stem}.json and {stem}.png')


if __name__ == '__main__':
    main()
