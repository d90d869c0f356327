# Tiny RTMDet (CSPNeXt + CSPNeXtPAFPN + RTMDetSepBNHead, strides 8 / 16 / 32) for 128x128 demo
# images, from scratch: BN in train mode, no pretrained weights. The layout of mmdet's
# rtmdet/rtmdet_l_8xb32-300e_coco.py, written out here because that config also brings RTMDet's COCO
# pipeline (mosaic / mix-up), AdamW schedule and EMA / pipeline-switch hooks, which the demo's
# shapes dataset and short SGD schedule replace. Width and depth set by the configs that inherit
# this one (backbone.widen_factor / deepen_factor, neck.in_channels).
neck_channels = 64
norm_cfg = dict(type='BN')
act_cfg = dict(type='SiLU', inplace=True)
model = dict(
    type='RTMDet',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[103.53, 116.28, 123.675],
                           std=[57.375, 57.12, 58.395], bgr_to_rgb=False, pad_size_divisor=32),
    backbone=dict(type='CSPNeXt', arch='P5', expand_ratio=0.5, deepen_factor=0.167, widen_factor=0.25,
                  channel_attention=True, norm_cfg=norm_cfg, act_cfg=act_cfg),
    neck=dict(type='CSPNeXtPAFPN', in_channels=[64, 128, 256], out_channels=neck_channels, num_csp_blocks=1,
              expand_ratio=0.5, norm_cfg=norm_cfg, act_cfg=act_cfg),
    bbox_head=dict(
        type='RTMDetSepBNHead', num_classes=4, in_channels=neck_channels, stacked_convs=2,
        feat_channels=neck_channels,
        anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=[8, 16, 32]),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        with_objectness=False, exp_on_reg=False, share_conv=True, pred_kernel_size=1,
        norm_cfg=norm_cfg, act_cfg=act_cfg),
    train_cfg=dict(assigner=dict(type='DynamicSoftLabelAssigner', topk=13), allowed_border=-1, pos_weight=-1,
                   debug=False),
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.001, nms=dict(type='nms', iou_threshold=0.65),
                  max_per_img=100))
