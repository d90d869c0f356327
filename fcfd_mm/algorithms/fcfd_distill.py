"""``FCFDDistill``: MMRazor algorithm for Function-Consistent Feature Distillation of detectors."""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms.distill.configurable.single_teacher_distill import SingleTeacherDistill
from mmrazor.models.task_modules.recorder import RecorderManager
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from ..tails import build_tail
from ..utils.model_cfg import resolve_model_cfg
from .fcfd_core import FCFDNeckSwitch


@MODELS.register_module()
class FCFDDistill(SingleTeacherDistill):
    """FCFD on the FPN switch point of a detector (Faster R-CNN: spec §3.2; RetinaNet: our design).

    One training step: teacher ``extract_feat`` (no grad) -> student loss pass, recording its FPN
    outputs and head inputs/outputs -> FCFD terms (:class:`FCFDNeckSwitch`) -> any extra MMRazor
    losses of ``distiller`` ("FCFD + X"). Prediction, checkpoints of the teacher
    (``teacher_ckpt``), freezing and ``teacher_norm_eval`` are MMRazor's ``SingleTeacherDistill``.

    Args:
        fcfd: FCFD settings; keys:
            ``tail`` (adapter config, e.g. ``dict(type='DenseHeadTail', anchor_weighting=None)``;
            picked from the student when absent), ``paths`` (subset of ``('s', 'st', 'ts')``),
            ``path_weights``, ``bridge`` (connector config), ``appearance_loss``,
            ``output_losses`` (``{'cls': cfg, 'reg': cfg}``).
        distiller: MMRazor distiller for extra losses (default: none). Its teacher recorders see
            only the teacher's backbone and neck (the teacher head runs inside FCFD).
        inherit_teacher: student submodules initialised from the teacher's after weight init,
            e.g. ``('neck', 'rpn_head', 'roi_head')`` (the INHERIT variant, spec §3.3).
        **kwargs: ``architecture``, ``teacher``, ``teacher_ckpt``, ``teacher_norm_eval``... as in
            ``SingleTeacherDistill``.
    """

    def __init__(self, fcfd: Optional[dict] = None, distiller: Optional[dict] = None,
                 inherit_teacher: Sequence[str] = (), teacher_ckpt: Optional[str] = None, **kwargs) -> None:
        if teacher_ckpt and not teacher_ckpt.startswith(('http://', 'https://', 's3://')) \
                and not os.path.isfile(teacher_ckpt):
            raise FileNotFoundError(f'teacher_ckpt {teacher_ckpt!r} does not exist. Set model.teacher_ckpt (or '
                                    f'`--cfg-options model.teacher_ckpt=PATH`) to a trained teacher checkpoint.')
        if kwargs.get('teacher_trainable', False):
            raise ValueError('FCFDDistill trains a student from a frozen teacher; teacher_trainable=True is '
                             'not supported.')
        for role in ('architecture', 'teacher'):
            if role in kwargs:
                kwargs[role] = resolve_model_cfg(kwargs[role], f'model.{role}')
        super().__init__(distiller=distiller or dict(type='ConfigurableDistiller'), teacher_ckpt=None, **kwargs)
        if teacher_ckpt:
            self.load_teacher_checkpoint(teacher_ckpt)
        fcfd = dict(fcfd or {})
        self.tail = build_tail(self.student, self.teacher, fcfd.pop('tail', None))
        self.fcfd_recorders = RecorderManager(self.tail.student_recorders())
        self.fcfd_recorders.initialize(self.student)
        fcfd.setdefault('paths', self.tail.default_paths())
        fcfd.setdefault('output_losses', self.tail.default_output_losses())
        self.fcfd = FCFDNeckSwitch(
            student_channels=self.tail.neck_channels(self.student),
            teacher_channels=self.tail.neck_channels(self.teacher),
            num_levels=self.tail.num_levels(self.student),
            t2s_levels=self.tail.head_levels(self.student),
            weighted_outputs=getattr(self.tail, 'anchor_weighting', None) is not None, **fcfd)
        self.inherit_teacher = tuple(inherit_teacher)
        for name in self.inherit_teacher:
            for role, model in (('student', self.student), ('teacher', self.teacher)):
                if not hasattr(model, name):
                    raise ValueError(f'inherit_teacher: the {role} has no submodule {name!r}; choose from '
                                     f'{[n for n, _ in self.student.named_children()]}.')

    def load_teacher_checkpoint(self, path: str) -> None:
        """Load the teacher's weights (as ``SingleTeacherDistill`` does) with an error that says why."""
        from mmengine.runner import load_checkpoint
        try:
            # strict: a checkpoint of another architecture must not leave a silently random teacher
            load_checkpoint(self.teacher, path, map_location='cpu', strict=True)
        except Exception as exc:
            raise RuntimeError(f'teacher_ckpt {path!r} could not be loaded ({type(exc).__name__}: {exc}). It must '
                               f'be a checkpoint of the teacher config, saved by mmengine/mmdet tools/train.py '
                               f'(a .pth with a state_dict).') from exc
        self.teacher._is_init = True  # keep the loaded weights when the runner calls init_weights()

    def init_weights(self) -> None:
        super().init_weights()
        self.copy_teacher_into_student()

    @torch.no_grad()
    def copy_teacher_into_student(self) -> List[str]:
        """Copy the ``inherit_teacher`` submodules' weights from teacher to student (spec §3.3)."""
        copied = []
        for name in self.inherit_teacher:
            s_state = getattr(self.student, name).state_dict()
            t_state = getattr(self.teacher, name).state_dict()
            bad = [k for k in s_state if k not in t_state or t_state[k].shape != s_state[k].shape]
            if bad:
                raise ValueError(f'inherit_teacher: student.{name} and teacher.{name} differ in {bad[:3]}; '
                                 f'only modules with identical shapes can be inherited (e.g. the FPN when the '
                                 f'backbone stage channels match, as for R50 <- R101).')
            getattr(self.student, name).load_state_dict(t_state)
            copied.append(name)
        return copied

    def loss(self, batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> Dict[str, torch.Tensor]:
        losses: Dict[str, torch.Tensor] = {}
        distilling = not self.distillation_stopped
        if distilling:
            self.distiller.set_deliveries_override(False)
            with self.distiller.teacher_recorders, self.distiller.deliveries, torch.no_grad():
                t_feats = self.tail.teacher_features(self.teacher, batch_inputs)
            self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries, self.fcfd_recorders:
            student_losses = self.student(batch_inputs, data_samples, mode='loss')
        if self.calculate_student_loss:
            losses.update(add_prefix(student_losses, 'student'))
        if not distilling:
            # After StopDistillHook the bridges get no gradient; a zero term keeps them in the
            # graph so DDP (find_unused_parameters=False) still sees a gradient for every parameter.
            losses['distill.loss_fcfd_stopped'] = sum(p.sum() for p in self.fcfd.parameters()) * 0.0
            return losses
        losses.update(add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        context = self.tail.head_context(self.fcfd_recorders)
        s_outputs = self.tail.student_outputs(self.fcfd_recorders, context) if 's' in self.fcfd.paths else None
        fcfd_losses = self.fcfd(self.tail, self.student, self.teacher,
                                s_feats=self.tail.student_features(self.fcfd_recorders), t_feats=t_feats,
                                context=context, s_outputs=s_outputs)
        losses.update(add_prefix(fcfd_losses, 'distill'))
        return losses
