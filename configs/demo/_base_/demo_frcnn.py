# Tiny Faster R-CNN (ResNet-18 layout with narrow stages + FPN) for 128x128 demo images,
# trained from scratch: BN in train mode, no pretrained weights. Width set by the configs
# that inherit this one (backbone.base_channels, neck.in_channels).
_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py']
fpn_channels = 64
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    backbone=dict(depth=18, base_channels=32, frozen_stages=-1, norm_eval=False,
                  norm_cfg=dict(type='BN', requires_grad=True), init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=fpn_channels),
    rpn_head=dict(in_channels=fpn_channels, feat_channels=fpn_channels,
                  anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=fpn_channels),
        bbox_head=dict(in_channels=fpn_channels, fc_out_channels=256, num_classes=4)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300),
                   rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100)))
