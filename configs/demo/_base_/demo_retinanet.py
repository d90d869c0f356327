# Tiny RetinaNet (narrow ResNet-18 layout + FPN P3-P7) for 128x128 demo images, from scratch.
_base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py']
fpn_channels = 64
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    backbone=dict(depth=18, base_channels=32, frozen_stages=-1, norm_eval=False,
                  norm_cfg=dict(type='BN', requires_grad=True), init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=fpn_channels),
    bbox_head=dict(num_classes=4, in_channels=fpn_channels, feat_channels=fpn_channels, stacked_convs=2,
                   anchor_generator=dict(octave_base_scale=2)))
