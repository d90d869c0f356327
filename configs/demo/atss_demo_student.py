# Demo student: ATSS, ResNet-18 layout at quarter width, demo schedule, AdamW.
_base_ = ['./_base_/demo_atss.py', './_base_/demo_shapes_detection.py', './_base_/demo_runtime.py',
          './_base_/demo_adamw.py']
model = dict(backbone=dict(base_channels=16), neck=dict(in_channels=[16, 32, 64, 128]))
optim_wrapper = {{_base_.demo_adamw}}
