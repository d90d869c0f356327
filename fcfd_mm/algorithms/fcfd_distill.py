"""``FCFDDistill``: MMRazor algorithm for Function-Consistent Feature Distillation."""
from __future__ import annotations

import contextlib
import logging
from typing import Dict, List, Optional, Sequence, Set, Tuple

import torch
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms.distill.configurable.single_teacher_distill import SingleTeacherDistill
from mmrazor.models.task_modules.recorder import RecorderManager
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from ..adapters import (
    HeadContext,
    StageCutter,
    build_head_adapter,
    build_stage_cutter,
    neck_level_channels,
    num_neck_levels,
)
from ..utils.checks import check_checkpoint_file, is_remote_checkpoint
from ..utils.model_cfg import resolve_model_cfg
from .fcfd_core import PATHS, FCFDNeckSwitch, FCFDStageSwitch, _keep_in_graph, row_weight_sum
from .hybrid import DIRECTIONS, check_bn_statistics, hybrid_name, parse_hybrid
from .pair import FCFDPair
from .step import FCFDStep
from .teacher_inputs import TeacherNormalization

FCFD_KEYS = ('head', 'neck', 'stages')
#: the switch-point keys of ``fcfd``, in the order they run, and what each cuts
SWITCH_KEYS = ('neck', 'stages')
SWITCH_POINT_WORDS = dict(neck='FPN', stages='backbone-stage')


@MODELS.register_module()
class FCFDDistill(SingleTeacherDistill):
    """FCFD for detectors (FPN and/or backbone-stage switch points) and image classifiers.

    It builds and computes: at build time the head adapter, the stage cutters and the pair
    (:class:`~fcfd_mm.algorithms.pair.FCFDPair`) bound to each switch point; in one training step
    the teacher backbone (+ neck) under ``no_grad`` -> the student loss pass, recording its
    switch-point features and head inputs/outputs -> the step record
    (:class:`~fcfd_mm.algorithms.step.FCFDStep`: context, teacher target computed once, row
    weights, progress) -> every switch point's terms (:mod:`fcfd_mm.algorithms.fcfd_core`) -> any
    extra MMRazor losses of ``distiller`` ("FCFD + X"). The engine talks to it through three
    methods: ``set_progress`` (``FCFDProgressHook``), ``pop_unused_parameters``
    (``FCFDUnusedBridgesHook``) and ``hybrid_names`` / ``predict_hybrid`` (``FCFDValLoop``).
    Prediction (student only), ``teacher_ckpt``, freezing and ``teacher_norm_eval`` are MMRazor's
    ``SingleTeacherDistill``.

    Args:
        fcfd: ``dict(head=..., neck=..., stages=...)``:

            * ``head``: the head adapter (:mod:`fcfd_mm.adapters`: ``RoIBoxHeadAdapter``,
              ``CascadeRoIHeadAdapter``, ``DenseHeadAdapter``, ``ATSSHeadAdapter``,
              ``FCOSHeadAdapter``, ``YOLOXHeadAdapter``, ``RTMDetHeadAdapter``, ``GFLHeadAdapter``,
              ``ClassifierHeadAdapter`` (docs/families.md) or one registered in
              ``HEAD_ADAPTERS``), picked from the student when it names no ``type``;
            * ``neck``: FPN switch point settings (:class:`FCFDNeckSwitch`: ``paths``,
              ``path_weights``, ``bridge``, ``appearance_loss``, ``output_losses``); on by default
              for detectors, ``None`` turns it off;
            * ``stages``: backbone-stage switch point settings (:class:`FCFDStageSwitch`:
              ``positions``, ``num_paths``, ``mode``, ``l2_weight``, ``mixture_weight``,
              ``l2_warmup``, ``student_kd``, ``pooled_last``, ``ghost_bn``, ``seed``, ``bridge``,
              ``st_activation`` / ``ts_activation`` ('auto': LeakyReLU(0.1) into networks whose
              stages take post-ReLU inputs), ``feature_loss``, ``output_losses``, ``cutter``
              (the stage cutter config of both backbones, or ``dict(student=..., teacher=...)``;
              picked from each backbone when it names no ``type``)); on by default for
              classifiers, off (``None``) for detectors.
        distiller: MMRazor distiller for extra losses (default: none). Its teacher recorders see
            the teacher's backbone and neck (the teacher head runs inside FCFD).
        inherit_teacher: student submodules initialised from the teacher's after weight init,
            e.g. ``('neck', 'rpn_head', 'roi_head')`` (the INHERIT variant, docs/method.md).
        **kwargs: ``architecture``, ``teacher``, ``teacher_ckpt``, ``teacher_norm_eval``... as in
            ``SingleTeacherDistill``; ``architecture`` / ``teacher`` may be
            ``dict(cfg_path='local/config.py')``.
    """

    def __init__(self, fcfd: Optional[dict] = None, distiller: Optional[dict] = None,
                 inherit_teacher: Sequence[str] = (), teacher_ckpt: Optional[str] = None, **kwargs) -> None:
        if teacher_ckpt:
            check_checkpoint_file(teacher_ckpt, 'teacher_ckpt', 'Set model.teacher_ckpt (or `--cfg-options '
                                  'model.teacher_ckpt=PATH`) to a trained teacher checkpoint.')
        if kwargs.get('teacher_trainable', False):
            raise ValueError('FCFDDistill trains a student from a frozen teacher; teacher_trainable=True is '
                             'not supported.')
        for role in ('architecture', 'teacher'):
            if role in kwargs:
                kwargs[role] = resolve_model_cfg(kwargs[role], f'model.{role}')
        super().__init__(distiller=distiller or dict(type='ConfigurableDistiller'), teacher_ckpt=None, **kwargs)
        self.teacher_ckpt_path, self.teacher_ckpt_meta = teacher_ckpt, None
        if teacher_ckpt:
            self.load_teacher_checkpoint(teacher_ckpt)
        fcfd = dict(fcfd or {})
        unknown = set(fcfd) - set(FCFD_KEYS)
        if unknown:
            raise ValueError(f'fcfd has unknown key(s) {sorted(unknown)}; it takes {list(FCFD_KEYS)} (FPN settings '
                             f'such as paths or bridge go under fcfd.neck, stage settings under fcfd.stages).')
        #: the teacher's own input normalisation where its config's differs from the student's (e.g. a
        #: caffe-style teacher): student-preprocessed batches are re-normalised for it; None: the same
        self.teacher_normalization = TeacherNormalization.between(
            self.data_preprocessor, getattr(self.teacher, 'data_preprocessor', None))
        self.head_adapter = build_head_adapter(self.student, self.teacher, fcfd.get('head'))
        # adapter state that changes in training (the RoI-draw generator): in state_dict, hence in
        # checkpoints
        self.head_adapter_state = torch.nn.ModuleDict(self.head_adapter.state_modules())
        head = self.head_adapter
        neck_cfg, stages_cfg = (fcfd.get(key, {} if key in head.default_switch_points else None)
                                for key in SWITCH_KEYS)
        for key, cfg in zip(SWITCH_KEYS, (neck_cfg, stages_cfg)):
            if cfg is not None and key not in head.switch_points:
                raise ValueError(f'fcfd.{key}: {type(head).__name__} has no {SWITCH_POINT_WORDS[key]} switch '
                                 f'point; it has {[f"fcfd.{k}" for k in head.switch_points]}.')
        if neck_cfg is None and stages_cfg is None:
            raise ValueError('fcfd.neck and fcfd.stages are both off: nothing to distil. Enable at least one.')
        stages_cfg = None if stages_cfg is None else dict(stages_cfg)
        cutters = self._build_cutters(stages_cfg.pop('cutter', None)) if stages_cfg is not None else None
        #: the two networks with the head adapter and stage cutters, bound to every switch point
        self.pair = FCFDPair(self.student, self.teacher, self.head_adapter, cutters)
        self.fcfd_neck = self._build_neck(dict(neck_cfg)) if neck_cfg is not None else None
        self.fcfd_stages = self._build_stages(stages_cfg, neck_on=neck_cfg is not None) \
            if stages_cfg is not None else None
        recorders = dict(self.head_adapter.student_recorders())
        if cutters is not None:
            recorders.update(cutters['student'].recorders())
        self.fcfd_recorders = RecorderManager(recorders)
        # ids of the FCFD parameters unused by every loss pass since the last pop_unused_parameters()
        self._unused_ids: Optional[Set[int]] = None
        #: (epoch, iteration) of the coming training step, set by FCFDProgressHook (set_progress)
        self._progress: Optional[Tuple[int, int]] = None
        self._warned_no_progress = False
        self.fcfd_recorders.initialize(self.student)
        self.inherit_teacher = tuple(inherit_teacher)
        for name in self.inherit_teacher:
            for role, model in (('student', self.student), ('teacher', self.teacher)):
                if not hasattr(model, name):
                    raise ValueError(f'inherit_teacher: the {role} has no submodule {name!r}; choose from '
                                     f'{[n for n, _ in self.student.named_children()]}.')

    # ------------------------------------------------------------------------ construction
    def _build_neck(self, cfg: dict) -> FCFDNeckSwitch:
        head = self.head_adapter
        cfg.setdefault('output_losses', head.default_output_losses())
        for key, value in head.default_neck_settings().items():
            cfg.setdefault(key, value)
        head.check_neck_paths(cfg.get('paths', PATHS))
        return FCFDNeckSwitch(
            student_channels=neck_level_channels(self.student), teacher_channels=neck_level_channels(self.teacher),
            num_levels=num_neck_levels(self.student), num_head_levels=head.num_head_levels(self.student),
            level_map=head.level_map(self.student, self.teacher), teacher_levels=num_neck_levels(self.teacher),
            teacher_head_levels=head.num_head_levels(self.teacher), pair=self.pair, **cfg)

    def _build_cutters(self, cfg: Optional[dict]) -> Dict[str, StageCutter]:
        """The stage cutters of both backbones from ``fcfd.stages.cutter`` (one config for both, or
        ``dict(student=..., teacher=...)``; picked from each backbone where it names no ``type``)."""
        cfg = dict(cfg or {})
        per_role = bool(cfg) and set(cfg) <= {'student', 'teacher'}
        return {role: build_stage_cutter(model, role, cfg.get(role) if per_role else cfg)
                for role, model in (('student', self.student), ('teacher', self.teacher))}

    def _build_stages(self, cfg: dict, neck_on: bool) -> FCFDStageSwitch:
        s_cut, t_cut = self.pair.cutters['student'], self.pair.cutters['teacher']
        s_shapes, t_shapes = s_cut.probe_positions(self.student), t_cut.probe_positions(self.teacher)
        if len(s_shapes) != len(t_shapes):
            raise ValueError(f'fcfd.stages: the student has {len(s_shapes)} stages and the teacher {len(t_shapes)}; '
                             f'FCFD switches between corresponding stages, so both need the same number.')
        scales = [t[1] / s[1] for s, t in zip(s_shapes, t_shapes)]
        n = len(s_shapes)
        for direction in DIRECTIONS:
            key = f'{direction}_activation'
            if cfg.get(key, 'auto') == 'auto':
                receiver = self.pair.receiver(direction)
                cfg[key] = 'leaky_relu' if self.pair.cutter(direction).receives_post_relu(receiver) else None
        head = self.head_adapter
        cfg.setdefault('positions', tuple(range(1, n + 1)))
        if 'frozen_positions' in cfg:
            raise ValueError("fcfd.stages.frozen_positions is read from the student (its backbone's frozen_stages), "
                             "not set: remove the key and set the student backbone's frozen_stages instead.")
        frozen = s_cut.frozen_positions(self.student)
        if frozen:
            print_log(f'FCFDDistill: the student\'s stage position(s) {frozen} are frozen (its backbone\'s '
                      f'frozen_stages): no appearance term and no S->T path there (they would train only the '
                      f'bridge); T->S paths there still train the later stages. To distil them, lower frozen_stages.',
                      logger='current')
        cfg['frozen_positions'] = frozen
        cfg.setdefault('output_losses', head.default_output_losses())
        cfg.setdefault('student_kd', not neck_on)  # with the FPN switch on, its 's' path is the KD
        cfg.setdefault('pooled_last', head.reads_pooled_last)
        return FCFDStageSwitch(
            student_channels=[s[0] for s in s_shapes], teacher_channels=[t[0] for t in t_shapes], scales=scales,
            max_switch=min(s_cut.max_switch(n), t_cut.max_switch(n)), neck_reads=s_cut.neck_reads(self.student),
            pair=self.pair, **cfg)

    def load_teacher_checkpoint(self, path: str) -> None:
        """Load the teacher's weights (as ``SingleTeacherDistill`` does) with an error that says why."""
        from mmengine.runner import load_checkpoint
        try:
            # strict: a checkpoint of another architecture must not leave a silently random teacher
            checkpoint = load_checkpoint(self.teacher, path, map_location='cpu', strict=True)
        except Exception as exc:
            if is_remote_checkpoint(path) and isinstance(exc, OSError):  # URLError is an OSError
                raise RuntimeError(f'teacher_ckpt {path!r} could not be downloaded ({type(exc).__name__}: {exc}). '
                                   f'Without internet access here, download it on another machine and pass the '
                                   f'file: `--cfg-options model.teacher_ckpt=/path/to/{path.rsplit("/", 1)[-1]}` '
                                   f'(or put it into $TORCH_HOME/hub/checkpoints/).') from exc
            raise RuntimeError(f'teacher_ckpt {path!r} could not be loaded ({type(exc).__name__}: {exc}). It must '
                               f'be a checkpoint of the teacher config, saved by mmengine/mmdet tools/train.py '
                               f'(a .pth with a state_dict).') from exc
        self.teacher._is_init = True  # keep the loaded weights when the runner calls init_weights()
        self.teacher_ckpt_meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None

    def init_weights(self) -> None:
        super().init_weights()
        self.copy_teacher_into_student()

    @torch.no_grad()
    def copy_teacher_into_student(self) -> List[str]:
        """Copy the ``inherit_teacher`` submodules' weights from teacher to student (INHERIT)."""
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

    # ------------------------------------------------------------------------ training step
    def fcfd_switches(self) -> List[torch.nn.Module]:
        """The switch points in use (``fcfd_neck``, ``fcfd_stages``)."""
        return [m for m in (self.fcfd_neck, self.fcfd_stages) if m is not None]

    def fcfd_parameters(self) -> List[torch.nn.Parameter]:
        """The trainable parameters FCFD adds (the bridges of every switch point)."""
        return [p for m in self.fcfd_switches() for p in m.parameters()]

    def _record_unused(self, modules: Sequence[torch.nn.Module]) -> None:
        """Note the FCFD modules this loss pass did not use (their parameters got only a zero
        keep-in-graph term); intersected over the passes until the next pop."""
        ids = {id(p) for m in modules for p in m.parameters()}
        self._unused_ids = ids if self._unused_ids is None else self._unused_ids & ids

    def pop_unused_parameters(self) -> List[torch.nn.Parameter]:
        """The FCFD parameters that no loss pass since the previous call used, and reset the record.

        These are the bridges of hybrid paths that were not drawn (stage switch points) and,
        after ``StopDistillHook``, every bridge: they are in the graph only through a zero term
        (so DDP with ``find_unused_parameters=False`` sees a gradient for them), and their gradient
        is exactly 0. The official step leaves their gradient ``None``, so SGD skips them (no
        weight decay, no momentum); :class:`~fcfd_mm.engine.FCFDUnusedBridgesHook` calls this just
        before each optimizer step (after the backward passes of an accumulation window and DDP's
        all-reduce) and sets their ``.grad`` to ``None``. Every DDP rank draws the same paths, so
        every rank clears the same parameters. The FPN switch uses all of its bridges in every step.
        """
        unused = self._unused_ids or set()
        self._unused_ids = None
        return [p for p in self.fcfd_parameters() if id(p) in unused]

    def consistency_context(self) -> Optional[HeadContext]:
        """What the heads of the consistency terms run on (e.g. the RoIs), from the recorders of
        the last student loss pass, limited by the overhead controls (``consistency_rois``,
        ``fcfd.neck.levels``): the head adapter decides it."""
        levels = self.fcfd_neck.consistency_levels if self.fcfd_neck is not None else None
        return self.head_adapter.consistency_context(self.fcfd_recorders, self.student, levels)

    def set_progress(self, epoch: int, iteration: int) -> None:
        """The training progress of the coming step (0-based epoch and iteration), which the stage
        switch points' path draw and L2 warm-up read; called by ``FCFDProgressHook`` before every
        training iteration."""
        self._progress = (int(epoch), int(iteration))

    def _stage_progress(self) -> Tuple[int, int]:
        if self._progress is None:
            if not self._warned_no_progress:
                self._warned_no_progress = True
                print_log('FCFDDistill: fcfd.stages is on but no FCFDProgressHook set the training progress; the '
                          "path draw and L2 warm-up use epoch 0, iteration 0. Add custom_hooks=[dict(type="
                          "'FCFDProgressHook')] to the config (configs/_base_/fcfd_runtime.py has it), or call "
                          'set_progress(epoch, iteration) before each step.', logger='current', level=logging.WARNING)
            return 0, 0
        return self._progress

    # ------------------------------------------------------------------------ hybrid networks
    def hybrid_names(self) -> List[str]:
        """The hybrid networks this algorithm has bridges for (:mod:`fcfd_mm.algorithms.hybrid`):
        ``st`` / ``ts`` for the FPN switch point's paths, ``st@k`` / ``ts@k`` for the stage switch
        point's path candidates; ``FCFDValLoop`` can evaluate each."""
        names = []
        if self.fcfd_neck is not None:
            names += [p for p in ('st', 'ts') if p in self.fcfd_neck.paths]
        if self.fcfd_stages is not None:
            names += [hybrid_name(d, k) for k, d in self.fcfd_stages.candidates]
        return names

    @torch.no_grad()
    def predict_hybrid(self, name: str, batch_inputs: torch.Tensor, data_samples: List[BaseDataElement],
                       bn_statistics: str = 'ghost') -> List[BaseDataElement]:
        """``data_samples`` with the predictions of hybrid ``name`` added (as ``model.predict`` gives):
        the receiving network's full prediction on the bridged features, through the same
        ``run_hybrid`` of the switch point that its loss terms use. Runs in the model's current mode
        (eval at validation: no BN running statistic changes).

        Args:
            name: one of :meth:`hybrid_names`.
            batch_inputs: preprocessed images ``(B, 3, H, W)``.
            data_samples: their data samples (predictions are written into them).
            bn_statistics: ``'ghost'``: the receiver uses the ghost BN statistics training tracked for
                this hybrid where it tracked them; ``'main'``: its own running statistics.
        """
        check_bn_statistics(bn_statistics)
        if name not in self.hybrid_names():
            raise ValueError(f'hybrid {name!r} is not available for this FCFDDistill; it has {self.hybrid_names()} '
                             f'(the FPN paths st / ts of fcfd.neck.paths, the stage path candidates st@k / ts@k of '
                             f'fcfd.stages).')
        direction, k = parse_hybrid(name)
        sender, receiver, head = self.pair.sender(direction), self.pair.receiver(direction), self.head_adapter
        t_inputs = self.teacher_inputs(batch_inputs, data_samples)
        s_in, r_in = (batch_inputs, t_inputs) if direction == 'st' else (t_inputs, batch_inputs)
        if k is None:
            neck = self.fcfd_neck
            swap = neck.ghost_statistics.use(receiver, name) if bn_statistics == 'ghost' else contextlib.nullcontext()
            with swap:
                return neck.run_hybrid(direction, neck.bridge(direction, sender.extract_feat(s_in)),
                                       lambda: receiver.extract_feat(r_in),
                                       lambda feats: head.predict_on_features(receiver, feats, data_samples))
        stages = self.fcfd_stages
        bridged = stages.bridge(direction, sender.backbone(s_in), stages.read(k))
        return stages.run_hybrid(direction, k, bridged,
                                 lambda positions: head.predict_after_backbone(receiver, positions, data_samples),
                                 statistics=bn_statistics)[1]

    def teacher_inputs(self, batch_inputs: torch.Tensor,
                       data_samples: Optional[List[BaseDataElement]] = None) -> torch.Tensor:
        """The teacher's inputs: ``batch_inputs`` (preprocessed by the student's data preprocessor,
        ``(B, 3, H, W)``) re-normalised as the teacher's own config normalises
        (:class:`~fcfd_mm.algorithms.teacher_inputs.TeacherNormalization`), or ``batch_inputs`` itself
        when the two normalise alike."""
        if self.teacher_normalization is None:
            return batch_inputs
        return self.teacher_normalization(batch_inputs, data_samples)

    def step_record(self, teacher_positions: Sequence[torch.Tensor],
                    teacher_neck: Sequence[torch.Tensor]) -> FCFDStep:
        """The record of this training step that every switch point's ``forward`` reads: the
        teacher's features, the consistency context, the target ``t`` (the teacher head on its own
        features, computed once, without graph), the row weights and the progress; the student's
        recorded values are read from the last loss pass on demand."""
        head = self.head_adapter
        context = self.consistency_context()
        with torch.no_grad():
            target = head.run_head(self.teacher, head.head_features(teacher_positions, teacher_neck), context)
        weight = head.row_weights(target)
        epoch, iteration = self._stage_progress() if self.fcfd_stages is not None else (0, 0)
        return FCFDStep(pair=self.pair, records=self.fcfd_recorders, teacher_positions=teacher_positions,
                        teacher_neck=teacher_neck, context=context, target=target, row_weight=weight,
                        avg_factor=row_weight_sum(weight), epoch=epoch, iteration=iteration)

    def loss(self, batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> Dict[str, torch.Tensor]:
        losses: Dict[str, torch.Tensor] = {}
        distilling = not self.distillation_stopped
        if distilling:
            self.distiller.set_deliveries_override(False)
            with self.distiller.teacher_recorders, self.distiller.deliveries, torch.no_grad():
                t_pos, t_neck = self.head_adapter.teacher_forward(
                    self.teacher, self.teacher_inputs(batch_inputs, data_samples))
            self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries, self.fcfd_recorders:
            student_losses = self.student(batch_inputs, data_samples, mode='loss')
        if self.calculate_student_loss:
            losses.update(add_prefix(student_losses, 'student'))
        switches = self.fcfd_switches()
        if not distilling:
            # After StopDistillHook the bridges get no gradient; a zero term keeps them in the
            # graph so DDP (find_unused_parameters=False) still sees a gradient for every parameter.
            losses['distill.loss_fcfd_stopped'] = _keep_in_graph(switches)
            self._record_unused(switches)
            return losses
        losses.update(add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        step = self.step_record(t_pos, t_neck)
        fcfd_losses: Dict[str, torch.Tensor] = {}
        for switch in switches:
            fcfd_losses.update(switch(step))
        self._record_unused([bridge for switch in switches for bridge in switch.unused_bridges])
        losses.update(add_prefix(fcfd_losses, 'distill'))
        return losses
