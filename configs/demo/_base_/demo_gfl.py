# Tiny GFL (narrow ResNet-18 layout + FPN P3-P7 + GFLHead) for 128x128 demo images, from scratch:
# the demo RetinaNet with GFL's head (quality focal loss, a distribution over 17 bins per box side,
# ATSS assignment), as mmdet's gfl/gfl_r50_fpn_1x_coco.py does for its RetinaNet-style layout.
_base_ = ['./demo_retinanet.py']
model = dict(
    type='GFL',
    bbox_head=dict(
        _delete_=True,
        type='GFLHead', num_classes=4, in_channels={{_base_.fpn_channels}}, stacked_convs=2,
        feat_channels={{_base_.fpn_channels}},
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=2, scales_per_octave=1,
                              strides=[8, 16, 32, 64, 128]),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        reg_max=16,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(_delete_=True, assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1,
                   debug=False))
