# FCFD-style distillation for ATSS R101-FPN (teacher, 1x) -> ATSS R50-FPN (student), COCO 2017, 1x.
# The plugin's own extension (docs/families.md; the official FCFD code has no ATSS): bridges on P3-P7
# both ways, scale-free appearance MSE, dense-head paths s / st / ts with the ATSSHeadAdapter's
# defaults: per-class sigmoid KD (T=1, weight 1) on the class scores and on the centerness, MSE
# (weight 1) on the box deltas, locations weighted by the teacher's max class score: the setting the
# ATSS demo measured (benchmarks/README.md). Not yet verified on COCO.
#   bash tools/dist_train.sh configs/fcfd_atss_r101_r50_coco.py 8
_base_ = ['./_base_/fcfd_coco_1x.py']

# The MMDetection model-zoo ATSS R101-FPN 1x (COCO bbox mAP 41.5; the student alone,
# atss_r50_fpn_1x_coco, 39.4), loaded strictly; a local file works too:
# `--cfg-options model.teacher_ckpt=/path/to/teacher.pth`.
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/atss/atss_r101_fpn_1x_coco/atss_r101_fpn_1x_20200825-dfcadd6f.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='mmdet::atss/atss_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::atss/atss_r101_fpn_1x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    fcfd=dict(head=dict(type='ATSSHeadAdapter')))  # FPN switch point with the adapter's defaults

optim_wrapper = dict(optimizer=dict(lr=0.01))  # ATSS's 1x schedule in mmdet: lr 0.01 at batch 16
