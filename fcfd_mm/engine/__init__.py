"""MMEngine hooks that keep long runs safe: the non-finite-loss guard and the teacher check."""
from .non_finite_hook import NonFiniteLossError, NonFiniteLossHook
from .teacher_check import FCFDTeacherCheckHook, TeacherCheckError, resolve_teacher_check

__all__ = ['FCFDTeacherCheckHook', 'NonFiniteLossError', 'NonFiniteLossHook', 'TeacherCheckError',
           'resolve_teacher_check']
