# Faster R-CNN MobileNetV2-FPN, COCO 1x: the student of the R50 -> MobileNetV2 pair, with the
# official pair's layout: FPN on the 24 / 32 / 96 / 320-channel outputs at strides 4 / 8 / 16 /
# 32 (mmdet MobileNetV2 layers 2, 3, 5, 7; no final 1280-channel conv) and frozen BN
# statistics and affine parameters (detectron2's FrozenBN), no frozen stages.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        out_indices=(1, 2, 4, 6),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://mmdet/mobilenet_v2')),
    neck=dict(in_channels=[24, 32, 96, 320]))
