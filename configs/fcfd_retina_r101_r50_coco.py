# FCFD-style distillation for RetinaNet R101-FPN (teacher) -> R50-FPN (student), COCO 2017, 1x.
# The plugin's own extension (docs/method.md; the official FCFD code has no RetinaNet): bridges on
# P3-P7 both ways, scale-free appearance MSE, dense-head paths s (student head, plain KD), st (bridged
# student -> frozen teacher head) and ts (bridged teacher -> student head); per-class sigmoid KD
# (T=1) on scores and MSE on box deltas, averaged over anchors weighted by the teacher's max class
# score; class-score KD weight 5: the defaults of the DenseHeadAdapter.
# Chosen on the RetinaNet demo, against the plain setting and FitNet-style L2 (2 seeds each; the
# numbers: benchmarks/README.md). Not yet verified on COCO; the plain setting is
# head.anchor_weighting=None, neck.paths=('st', 'ts'), neck.output_losses.cls.loss_weight=1.0.
#   bash tools/dist_train.sh configs/fcfd_retina_r101_r50_coco.py 8
_base_ = ['./_base_/fcfd_coco_1x.py', './_base_/fcfd_retina_settings.py']

# The MMDetection model-zoo RetinaNet R101-FPN 1x (COCO bbox mAP 38.5), loaded strictly; a local
# file works too: `--cfg-options model.teacher_ckpt=/path/to/teacher.pth`.
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_1x_coco/retinanet_r101_fpn_1x_coco_20200130-7a93545f.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::retinanet/retinanet_r101_fpn_1x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    fcfd={{_base_.fcfd_retina_fpn}})

optim_wrapper = dict(optimizer=dict(lr=0.01))  # RetinaNet's 1x schedule in mmdet: lr 0.01 at batch 16
