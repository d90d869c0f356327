# Tiny ATSS (narrow ResNet-18 layout + FPN P3-P7 + ATSSHead) for 128x128 demo images, from scratch:
# the demo RetinaNet with ATSS's head (focal loss, GIoU, centerness; ATSS assignment), as mmdet's
# atss/atss_r50_fpn_1x_coco.py does for its RetinaNet-style layout. Anchors at 2x the stride (mmdet:
# 8x) for the demo's 18-77 px shapes, as the demo GFL.
_base_ = ['./demo_retinanet.py']
model = dict(
    type='ATSS',
    bbox_head=dict(
        _delete_=True,
        type='ATSSHead', num_classes=4, in_channels={{_base_.fpn_channels}}, stacked_convs=2,
        feat_channels={{_base_.fpn_channels}},
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=2, scales_per_octave=1,
                              strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0], target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(_delete_=True, assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1,
                   debug=False))
