"""MMEngine components: hooks that keep long runs safe (the non-finite-loss guard and the teacher
check) and the optimizer wrappers that keep SGD off the bridges a step did not use."""
from .non_finite_hook import NonFiniteLossError, NonFiniteLossHook
from .optim_wrappers import FCFDAmpOptimWrapper, FCFDOptimWrapper
from .teacher_check import FCFDTeacherCheckHook, TeacherCheckError, resolve_teacher_check

__all__ = ['FCFDAmpOptimWrapper', 'FCFDOptimWrapper', 'FCFDTeacherCheckHook', 'NonFiniteLossError', 'NonFiniteLossHook',
           'TeacherCheckError', 'resolve_teacher_check']
