# Demo teacher: ATSS, ResNet-18 layout at half width, 2x the demo schedule, AdamW.
_base_ = ['./_base_/demo_atss.py', './_base_/demo_shapes_detection.py', './_base_/demo_teacher_runtime.py',
          './_base_/demo_adamw.py']
optim_wrapper = {{_base_.demo_adamw}}
