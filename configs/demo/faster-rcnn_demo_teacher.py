# Demo teacher: Faster R-CNN, ResNet-18 layout at half width (32-256 channels), 2x the demo schedule.
_base_ = ['./_base_/demo_frcnn.py', './_base_/demo_shapes_detection.py', './_base_/demo_teacher_runtime.py']
