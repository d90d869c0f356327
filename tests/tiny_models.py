"""Tiny detector configs and batches for unit tests (built from the demo configs, narrower)."""
from __future__ import annotations

import copy
from pathlib import Path

import torch
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / 'configs' / 'demo'


def tiny_detector_cfg(family: str, base_channels: int, fpn_channels: int = 32, num_classes: int = 4):
    """A narrow demo Faster R-CNN (``family='frcnn'``) or RetinaNet (``'retina'``) model config."""
    name = {'frcnn': 'faster-rcnn_demo_student.py', 'retina': 'retinanet_demo_student.py'}[family]
    model = copy.deepcopy(Config.fromfile(str(DEMO / name)).model)
    c = base_channels
    model.backbone.base_channels = c
    model.neck.in_channels = [c, 2 * c, 4 * c, 8 * c]
    model.neck.out_channels = fpn_channels
    if family == 'frcnn':
        model.rpn_head.in_channels = model.rpn_head.feat_channels = fpn_channels
        model.roi_head.bbox_roi_extractor.out_channels = fpn_channels
        model.roi_head.bbox_head.in_channels = fpn_channels
        model.roi_head.bbox_head.fc_out_channels = 64
        model.roi_head.bbox_head.num_classes = num_classes
        model.train_cfg.rcnn.sampler.num = 32
    else:
        model.bbox_head.in_channels = model.bbox_head.feat_channels = fpn_channels
        model.bbox_head.num_classes = num_classes
    model._scope_ = 'mmdet'
    return model


def fcfd_cfg(family: str, fcfd: dict | None = None, **kwargs) -> dict:
    """An ``FCFDDistill`` config: teacher 16 base channels / FPN 32, student 8 / FPN 24."""
    cfg = dict(_scope_='mmrazor', type='FCFDDistill',
               architecture=tiny_detector_cfg(family, 8, fpn_channels=24),
               teacher=tiny_detector_cfg(family, 16, fpn_channels=32),
               fcfd=fcfd or {})
    cfg.update(kwargs)
    return cfg


def build_fcfd(family: str, fcfd: dict | None = None, seed: int = 0, **kwargs):
    from mmrazor.registry import MODELS

    import fcfd_mm  # noqa: F401
    torch.manual_seed(seed)
    alg = MODELS.build(fcfd_cfg(family, fcfd, **kwargs))
    alg.init_weights()
    if family == 'retina':  # perturb the zero-initialised head biases so outputs differ per class
        for m in (alg.teacher, alg.student):
            torch.nn.init.normal_(m.bbox_head.retina_cls.bias, -2.0, 0.5)
    alg.train()
    return alg


def batch(alg, size: int = 64, batch_size: int = 2, num_items=(3, 2)):
    """A preprocessed random batch (``inputs`` (B, 3, size, size), ``data_samples``)."""
    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(batch_size=batch_size, image_shapes=[(3, size, size)] * batch_size,
                            num_items=list(num_items), num_classes=4)
    return alg.data_preprocessor(packed, True)


def bn_statistics(module) -> dict:
    """A copy of every BN running statistic in ``module.state_dict()`` (main buffers and, for an
    ``FCFDDistill``, the ghost BN buffers it saves there), to compare before / after a pass."""
    return {k: v.clone() for k, v in module.state_dict().items() if 'running' in k or 'num_batches' in k}


def config_loss_step(model_cfg: dict, seed: int = 0, num_classes: int = 80):
    """Build ``model_cfg`` (an FCFD config's ``model``), run one training loss pass and backward on a
    random 2-image 128x160 batch with labels from ``num_classes`` classes (COCO's 80 by default); the
    total must be finite. Returns ``(algorithm, losses)``."""
    from mmdet.testing import demo_mm_inputs
    from mmrazor.registry import MODELS
    torch.manual_seed(seed)
    alg = MODELS.build(model_cfg)
    alg.train()
    packed = demo_mm_inputs(batch_size=2, image_shapes=[(3, 128, 160)] * 2, num_items=[3, 2], num_classes=num_classes)
    data = alg.data_preprocessor(packed, True)
    losses = alg.loss(data['inputs'], data['data_samples'])
    total, _ = alg.parse_losses(losses)
    total.backward()
    assert torch.isfinite(total)
    return alg, losses


def toy_runner(work_dir, checkpoint: dict | None = None, **kw):
    """An MMEngine ``Runner`` of a 3-weight linear model on 8 random 2-vectors (batch 2), iteration
    based (``max_iters``, default 2), checkpointed by ``checkpoint`` (default: MMEngine's
    ``CheckpointHook`` every 2 iterations); other keyword arguments go to ``Runner``."""
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = self.lin(inputs if torch.is_tensor(inputs) else torch.stack(inputs))
            return dict(loss=out.pow(2).mean()) if mode == 'loss' else out

    data = [dict(inputs=torch.randn(2)) for _ in range(8)]
    return Runner(model=Toy(), work_dir=str(work_dir),
                  train_dataloader=dict(dataset=data, sampler=dict(type='DefaultSampler', shuffle=False),
                                        batch_size=2, collate_fn=dict(type='default_collate')),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                  train_cfg=dict(by_epoch=False, max_iters=kw.pop('max_iters', 2)),
                  default_hooks=dict(checkpoint=checkpoint or dict(type='CheckpointHook', by_epoch=False, interval=2)),
                  **kw)
