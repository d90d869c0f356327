# Demo student: RTMDet at 1/8 of RTMDet-l's width (CSPNeXt stages 32 / 64 / 128 channels, 64-channel
# neck and head), demo schedule, AdamW.
_base_ = ['./_base_/demo_rtmdet.py', './_base_/demo_shapes_detection.py', './_base_/demo_runtime.py',
          './_base_/demo_adamw.py']
model = dict(backbone=dict(widen_factor=0.125), neck=dict(in_channels=[32, 64, 128]))
optim_wrapper = {{_base_.demo_adamw}}
