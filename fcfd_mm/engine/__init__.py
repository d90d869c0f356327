"""MMEngine parts: hooks that keep long runs safe (the non-finite-loss guard, the teacher check) and
the CPU mixed-precision optimiser wrapper (``tools/train.py --amp`` without a GPU)."""
from .cpu_amp import CPUAmpOptimWrapper
from .non_finite_hook import NonFiniteLossError, NonFiniteLossHook
from .teacher_check import FCFDTeacherCheckHook, TeacherCheckError, resolve_teacher_check

__all__ = ['CPUAmpOptimWrapper', 'FCFDTeacherCheckHook', 'NonFiniteLossError', 'NonFiniteLossHook',
           'TeacherCheckError', 'resolve_teacher_check']
