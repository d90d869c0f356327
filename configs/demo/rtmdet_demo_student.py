# Demo student: RTMDet at 1/8 of RTMDet-l's width (CSPNeXt stages 32 / 64 / 128 channels), demo schedule.
_base_ = ['./_base_/demo_rtmdet.py', './_base_/demo_shapes_detection.py', './_base_/demo_runtime.py']
model = dict(backbone=dict(widen_factor=0.125), neck=dict(in_channels=[32, 64, 128]))
# SGD at lr 0.01: at the other demos' 0.02 these RTMDets (trained with AdamW in mmdet) sometimes
# collapse (benchmarks/README.md)
optim_wrapper = dict(optimizer=dict(lr=0.01))
