# Faster R-CNN R18-FPN, COCO 1x: the student of the R101 -> R18 pair (mmdet ships no R18 1x
# config). ImageNet-pretrained torchvision ResNet-18, FPN on its 64/128/256/512-channel stages.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
model = dict(
    backbone=dict(depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
