# Tiny FCOS (narrow ResNet-18 layout + FPN P3-P7 + FCOSHead with GN) for 128x128 demo images, from
# scratch: the demo RetinaNet layout with FCOS's anchor-free head and the improvements of mmdet's
# fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou config (center sampling, normalised
# box targets, centerness on the regression branch, GIoU). Regression ranges at 1/4 of mmdet's for
# the demo's 18-77 px shapes, as the demo GFL / ATSS anchors (2x the stride instead of 8x).
_base_ = ['./demo_retinanet.py']
INF = 1e8
model = dict(
    type='FCOS',
    bbox_head=dict(
        _delete_=True,
        type='FCOSHead', num_classes=4, in_channels={{_base_.fpn_channels}}, stacked_convs=2,
        feat_channels={{_base_.fpn_channels}}, strides=[8, 16, 32, 64, 128],
        regress_ranges=((-1, 16), (16, 32), (32, 64), (64, 128), (128, INF)),
        norm_on_bbox=True, centerness_on_reg=True, center_sampling=True, conv_bias=True,
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=None,
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5),
                  max_per_img=100))
