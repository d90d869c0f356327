# Demo teacher: RTMDet at 1/4 of RTMDet-l's width (CSPNeXt stages 64 / 128 / 256 channels), 2x the
# demo schedule.
_base_ = ['./_base_/demo_rtmdet.py', './_base_/demo_shapes_detection.py', './_base_/demo_runtime.py']
max_iters = 1200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[int(max_iters * 0.75), int(max_iters * 0.9)], gamma=0.1),
]
# SGD at lr 0.01: at the other demos' 0.02 these RTMDets (trained with AdamW in mmdet) sometimes
# collapse (mAP 0.004-0.14 instead of 0.4)
optim_wrapper = dict(optimizer=dict(lr=0.01))
default_hooks = dict(checkpoint=dict(interval=max_iters))
