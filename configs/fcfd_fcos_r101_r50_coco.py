# FCFD-style distillation for FCOS R101-caffe FPN, GN head (teacher, multi-scale 2x) -> FCOS R50-caffe FPN,
# GN head (student), COCO 2017, 1x. The plugin's own extension (docs/families.md; the official FCFD code
# has no FCOS): bridges on P3-P7 both ways, scale-free appearance MSE, dense-head paths s / st / ts with
# the FCOSHeadAdapter's defaults: per-class sigmoid KD (T=1, weight 1) on the class scores and on the
# centerness, MSE (weight 1) on the box distances in units of the level's stride, locations weighted by
# the teacher's max class score: the setting the FCOS demo measured (benchmarks/README.md). Both
# networks are caffe-style (BGR minus the caffe mean), so the teacher takes the student's batch as it
# is. Not yet verified on COCO.
#   bash tools/dist_train.sh configs/fcfd_fcos_r101_r50_coco.py 8
_base_ = ['./_base_/fcfd_coco_1x.py']

# The MMDetection model-zoo FCOS R101-caffe FPN, GN head, multi-scale 2x (COCO bbox mAP 40.8; the
# student alone, fcos_r50-caffe_fpn_gn-head_1x_coco, 36.6), loaded strictly; a local file works too:
# `--cfg-options model.teacher_ckpt=/path/to/teacher.pth`.
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco-511424d6.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    fcfd=dict(head=dict(type='FCOSHeadAdapter')))  # FPN switch point with the adapter's defaults

# The student's own mmdet 1x recipe (fcos_r50-caffe_fpn_gn-head_1x_coco): lr 0.01 at batch 16, twice
# the learning rate and no weight decay on biases, gradients clipped at norm 35, a constant warm-up
# at a third of the rate for 500 iterations; the bridges' BN keeps no weight decay (the base config).
optim_wrapper = dict(
    optimizer=dict(lr=0.01),
    paramwise_cfg=dict(bias_lr_mult=2., bias_decay_mult=0.),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='ConstantLR', factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)]
