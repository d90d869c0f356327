# FCFD-style distillation for GFL R101-FPN (teacher, multi-scale 2x) -> GFL R50-FPN (student),
# COCO 2017, 1x. The plugin's own extension (docs/families.md; the official FCFD code has no GFL):
# bridges on P3-P7 both ways, scale-free appearance MSE, dense-head paths s / st / ts with the GFLHeadAdapter's
# defaults: per-class sigmoid KD (T=1, weight 1) on the quality-focal class scores and a softmax KL
# over the bins of each box side (DistributionKLLoss, T=1, weight 1) on the box distributions, rows
# weighted by the teacher's max class score. Not yet verified on COCO.
#   bash tools/dist_train.sh configs/fcfd_gfl_r101_r50_coco.py 8
_base_ = ['./_base_/fcfd_coco_1x.py']

# The MMDetection model-zoo GFL R101-FPN multi-scale 2x (COCO bbox mAP 44.7), loaded strictly; a
# local file works too: `--cfg-options model.teacher_ckpt=/path/to/teacher.pth`.
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='mmdet::gfl/gfl_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    fcfd=dict(head=dict(type='GFLHeadAdapter')))  # FPN switch point with the adapter's defaults

optim_wrapper = dict(optimizer=dict(lr=0.01))  # GFL's 1x schedule in mmdet: lr 0.01 at batch 16
