# Demo teacher: FCOS, ResNet-18 layout at half width, 2x the demo schedule.
_base_ = ['./_base_/demo_fcos.py', './_base_/demo_shapes_detection.py', './_base_/demo_teacher_runtime.py']
optim_wrapper = dict(optimizer=dict(lr=0.02))
