# Demo student: Faster R-CNN, ResNet-18 layout at quarter width (16-128 channels), demo schedule.
_base_ = ['./_base_/demo_frcnn.py', './_base_/demo_shapes_detection.py', './_base_/demo_runtime.py']
model = dict(backbone=dict(base_channels=16), neck=dict(in_channels=[16, 32, 64, 128]))
