"""The FCFD losses, written once for every model family (docs/method.md, "Loss terms at the FPN
switch point (detectors)" and "Loss terms at the stage switch points").

Two kinds of switch points, each an ``nn.Module`` holding its bridges and losses:

:class:`FCFDNeckSwitch` -- the FPN output of a detector (official detection form).
With ``P_s^l`` / ``P_t^l`` the student / teacher FPN outputs, ``B_st^l`` / ``B_ts^l`` the bridges
and ``H_s`` / ``H_t`` the heads (run by a head adapter, :mod:`fcfd_mm.adapters`):

* appearance:   ``loss_fcfd_app = sum_l D_app(B_st^l(P_s^l), sg(P_t^l))``
* target:       ``t = H_t(P_t)`` (no graph, computed once per step)
* paths:        ``s  = H_s(P_s)``            (the student's own output, reused from its loss pass)
                ``st = H_t(B_st(P_s))``      (teacher head frozen, gradient flows through it)
                ``ts = H_s(B_ts(sg(P_t)))``  (student head and B_ts trained)
* per path x and output o (``cls``, ``reg``):  ``loss_fcfd_{o}_{x} = w_x * D_o(x_o, sg(t_o))``

:class:`FCFDStageSwitch` -- backbone stage boundaries (positions ``1..N``, the general form; the
backbone is cut by a stage cutter, :mod:`fcfd_mm.adapters.stages`). With ``F_s^i`` / ``F_t^i`` the
position features and ``r`` the L2 warm-up:

* ``loss_fcfd_stage_app  = lambda r sum_{i in positions} MSE(B_st^i(F_s^i), sg(F_t^i))``
  (+ the pooled-vector MSE at position N for classifiers); positions where the student is frozen
  (mmdet's ``frozen_stages``) have no appearance term and no S->T path;
* a few hybrid paths ``<k, direction>`` sampled per step, identically on every DDP rank:
  S->T runs the teacher after position k on the bridged student feature(s) (grad flows through
  the frozen teacher); T->S runs the student after k on bridged teacher feature(s);
* ``loss_fcfd_stage_feat = lambda r sum_{S->T paths} [MSE of every later hybrid feature vs the
  teacher's (backbone positions, FPN levels; pooled vector at N for classifiers)]``;
* ``loss_fcfd_stage_{o}_{st|ts} = mu sum_{paths of that direction} D_o(hybrid_o, sg(t_o))``;
* ``loss_fcfd_stage_{o}_s = D_o(s_o, sg(t_o))`` (plain KD of the student's own output), optional.

Hybrid runs swap in separate ("ghost") BN running statistics per hybrid, so no main running
statistics are updated by bridged inputs (docs/method.md, "Teacher and BatchNorm"). ``D_app`` /
feature distances are MSE by default; output distances are softmax KL (RoI head, classifier) or
sigmoid KD (dense head).

AMP: every term is computed in float32 with autocast off (:func:`fp32_loss`), whatever precision
the bridges, backbones and heads ran in under ``torch.autocast`` (fp16 / bf16).
"""
from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor, nn

from ..adapters import HeadOutputs
from ..utils.state_dict import rename_state_keys
from .ghost_bn import GhostBNStatistics
from .hybrid import DIRECTIONS, hybrid_name
from .pair import FCFDPair
from .step import FCFDStep

#: s: student head on student features; st: bridged student -> teacher head;
#: ts: bridged teacher -> student head.
PATHS = ('s', 'st', 'ts')
#: how the FPN bridges start (``fcfd.neck.bridge_init``): None (their own initialisation) or from the
#: receiving network's per-channel feature statistics on the first training step
BRIDGE_INITS = (None, 'receiver_statistics')
#: hybrid-path candidate sets at stage switch points (docs/method.md, "Loss terms at the stage switch
#: points")
STAGE_MODES = ('bi', 'st', 'ts', 'nomix')
#: what finishing a hybrid network returns (head outputs for the loss, predictions at validation)
T = TypeVar('T')
#: the bridges' submodule names before the third renovation (one spelling of directions: st / ts)
RENAMED_BRIDGES = {'bridges_s2t': 'bridges_st', 'bridges_t2s': 'bridges_ts'}
DEFAULT_MSE = dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0)


# ------------------------------------------------------------------------------------ primitives
def sample_paths(candidates: Sequence[Tuple[int, str]], num: int, seed: int, step: int) -> List[Tuple[int, str]]:
    """``num`` distinct candidates, uniformly without replacement, from a generator seeded by
    ``(seed, step)``: every DDP rank draws the same paths at the same step."""
    if num >= len(candidates):
        return list(candidates)
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(step))
    picked = torch.randperm(len(candidates), generator=gen)[:num].tolist()
    return [candidates[i] for i in sorted(picked)]


def linear_warmup(progress: int, length: int) -> float:
    """``min(1, (progress + 1) / length)``, epochs or iterations counted from 0 (docs/method.md,
    "Loss terms at the stage switch points")."""
    return 1.0 if length <= 0 else min(1.0, (progress + 1) / length)


def pooled_embedding(x: Tensor) -> Tensor:
    """``GAP(ReLU(x))``: the vector a classifier's FC reads, ``(B, C, H, W) -> (B, C)``."""
    return F.adaptive_avg_pool2d(F.relu(x), 1).flatten(1)


def fp32_loss(loss: nn.Module, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
              avg_factor: Optional[Tensor] = None, transform: Optional[Callable[[Tensor], Tensor]] = None) -> Tensor:
    """``loss(transform(pred), transform(target)[, weight=weight, avg_factor=avg_factor])`` in at least
    float32, with autocast off; ``weight`` / ``avg_factor`` (mmdet's loss convention) are passed only
    when ``weight`` is given, so losses without them (MMRazor's KL / L2) take the plain call.

    Every FCFD term goes through here (AMP safety). Under autocast the bridges, backbones and
    heads may run in fp16 / bf16 and hand over low-precision features and logits; the distances
    between them (softmax KL, sigmoid KD, MSE) are reductions over up to millions of elements
    whose fp16 / bf16 results lose most of their digits (and a squared fp16 difference overflows
    above 65504), so half-precision inputs are promoted to float32 and the loss runs with autocast
    disabled. float32 and float64 inputs keep their precision (a float64 run, the way to check the
    numerics against a reference, stays float64). Gradients flow back through the casts into the
    low-precision graph. ``transform`` (e.g. :func:`pooled_embedding`) is applied after the cast. An
    empty ``pred`` (no RoI left after the overhead controls) gives a zero that keeps the graph.
    """
    with torch.autocast(device_type=pred.device.type, enabled=False):
        pred, target = at_least_fp32(pred), at_least_fp32(target)
        if transform is not None:
            pred, target = transform(pred), transform(target)
        if pred.shape[0] == 0:
            return pred.sum() * 0.0
        if weight is None:
            return loss(pred, target)
        return loss(pred, target, weight=at_least_fp32(weight),
                    avg_factor=at_least_fp32(avg_factor) if isinstance(avg_factor, Tensor) else avg_factor)


def row_weight_sum(weight: Optional[Tensor]) -> Optional[Tensor]:
    """``avg_factor`` of the output losses for row weights ``weight`` (their sum, in at least
    float32: the weighted mean over rows), ``None`` without weights (the plain mean)."""
    return None if weight is None else at_least_fp32(weight).sum()


@functools.lru_cache(maxsize=None)
def takes_row_weights(loss_type: type) -> bool:
    """Whether a loss class's ``forward`` takes mmdet's ``weight`` and ``avg_factor`` (or ``**kwargs``),
    read from its signature once per class."""
    params = inspect.signature(loss_type.forward).parameters
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()) or \
        {'weight', 'avg_factor'} <= set(params)


def output_term(loss: nn.Module, name: str, outputs: HeadOutputs, step: FCFDStep) -> Tensor:
    """``D_o(x_o, sg(t_o))`` for output ``name`` of one path against the step's target, rows weighted
    as the step says (mmdet's loss convention: ``weight`` and ``avg_factor``, only when the head
    adapter weights rows)."""
    if step.row_weight is not None and not takes_row_weights(type(loss)):
        raise TypeError(f'output loss {name!r} ({type(loss).__name__}) takes no row weights, but the head adapter '
                        f'weights rows (anchor_weighting): use a loss of mmdet\'s convention (weight, avg_factor: '
                        f'SigmoidKDLoss, WeightedMSELoss, DistributionKLLoss) or set '
                        f'fcfd.head.anchor_weighting=None.')
    return fp32_loss(loss, outputs[name], step.target[name], step.row_weight, step.avg_factor)


def at_least_fp32(x: Tensor) -> Tensor:
    """``x`` promoted to float32 if its floating type is narrower (fp16, bf16); float32 / float64 as they are."""
    return x.float() if x.is_floating_point() and torch.finfo(x.dtype).bits < 32 else x


def _zero_term(like: Tensor) -> Tensor:
    """A scalar zero of at least float32 (float64 for float64 ``like``) on ``like``'s device: a term
    a step did not compute."""
    return torch.zeros((), dtype=torch.promote_types(like.dtype, torch.float32), device=like.device)


def _build_output_losses(cfgs: Dict[str, dict]) -> nn.ModuleDict:
    return nn.ModuleDict({name: MODELS.build(cfg) for name, cfg in cfgs.items()})


def _build_bridge(cfg: Optional[dict], in_channels: int, out_channels: int, where: str, **extra) -> nn.Module:
    cfg = dict(type='FCFDBridge') if cfg is None else dict(cfg)
    for key, value in (('in_channels', in_channels), ('out_channels', out_channels)):
        if key in cfg and cfg[key] != value:
            raise ValueError(f'{where}: bridge {key}={cfg[key]} does not match the network ({value}). Remove '
                             f'{key} from the bridge config (it is filled in from the models) or set it to {value}.')
        cfg[key] = value
    for key, value in extra.items():
        cfg.setdefault(key, value)
    try:
        return MODELS.build(cfg)
    except ValueError as exc:
        raise ValueError(f'{where}: {exc}') from exc


def _keep_in_graph(modules: Sequence[nn.Module]) -> Tensor:
    """A zero that depends on every parameter of ``modules``: bridges a step did not use still get
    a (zero) gradient, so DDP runs with ``find_unused_parameters=False``."""
    params = [p for m in modules for p in m.parameters()]
    return sum(p.sum() for p in params) * 0.0 if params else torch.zeros(())


# ------------------------------------------------------------------------------- neck (FPN)
def _per_level(channels: Union[int, Sequence[int]], num_levels: int) -> List[int]:
    """``channels`` of every neck level: one number repeated, or one per level (checked)."""
    if isinstance(channels, int):
        return [channels] * num_levels
    channels = [int(c) for c in channels]
    if len(channels) != num_levels:
        raise ValueError(f'FCFDNeckSwitch: {len(channels)} channel numbers for {num_levels} neck levels.')
    return channels


class FCFDNeckSwitch(nn.Module):
    """Bridges and losses of FCFD at the neck (FPN) output; ``forward(step)`` returns the loss dict.

    Args:
        student_channels, teacher_channels: neck channels of each network: one number for every
            level (FPN) or one per level (e.g. SSD's and YOLOv3's necks).
        num_levels: number of the student's FPN outputs: one student->teacher bridge per level
            that has a teacher level (appearance).
        num_head_levels: how many leading levels the student head reads; teacher->student bridges
            exist only for those (Faster R-CNN: 4, P2-P5), so DDP never sees a parameter without
            gradient.
        output_losses: ``{output name: loss config}`` for the head outputs.
        paths: subset of :data:`PATHS` to compute (default: all).
        bridge: connector config shared by every level; ``in_channels`` / ``out_channels`` are
            filled in per direction (given values must match the FPN channels).
        appearance_loss: distance between bridged student and teacher features.
        path_weights: ``{path: weight}`` multiplying that path's output losses (default 1).
        levels: overhead control (not in the official code): 0-based FPN levels with bridges and
            the appearance term; the head paths then run only on the RoIs / anchors of those
            levels (the head adapter's ``consistency_context``). ``None`` (official): every level.
        pair: the networks and head adapter this switch point connects (bound once; ``forward``
            and :meth:`hybrid_outputs` need it).
        bridge_init: ``None`` (official): the bridges start from their own initialisation;
            ``'receiver_statistics'``: on the first training step each bridge's BN is set so that its
            output has the per-channel mean and standard deviation of the receiving network's own
            feature at that level (:meth:`start_bridges`; the dense families' default).
        level_map: ``{student level: teacher level}`` of the level pairs (a cross-family pair's
            levels of equal stride); ``None``: level ``l`` with level ``l`` (one family).
        teacher_levels, teacher_head_levels: the teacher's number of FPN outputs and of leading
            levels its head reads (default: the student's).
    """

    def __init__(self, student_channels: Union[int, Sequence[int]], teacher_channels: Union[int, Sequence[int]],
                 num_levels: int, num_head_levels: int,
                 output_losses: Dict[str, dict], paths: Sequence[str] = PATHS,
                 bridge: Optional[dict] = None, appearance_loss: Optional[dict] = None,
                 path_weights: Optional[Dict[str, float]] = None,
                 levels: Optional[Sequence[int]] = None, pair: Optional[FCFDPair] = None,
                 bridge_init: Optional[str] = None, level_map: Optional[Dict[int, int]] = None,
                 teacher_levels: Optional[int] = None, teacher_head_levels: Optional[int] = None) -> None:
        super().__init__()
        self.pair = pair
        if bridge_init not in BRIDGE_INITS:
            raise ValueError(f'fcfd.neck.bridge_init={bridge_init!r}; choose one of {list(BRIDGE_INITS)} '
                             f"(None: the bridge's own initialisation).")
        self.bridge_init = bridge_init
        if bridge_init is not None:
            #: whether the bridges were started from the receivers' statistics (saved: a resumed run keeps them)
            self.register_buffer('bridges_started', torch.zeros((), dtype=torch.bool))
        self.num_levels = int(num_levels)
        #: the teacher's number of FPN outputs (a cross-family teacher's may differ)
        self.num_teacher_levels = int(num_levels if teacher_levels is None else teacher_levels)
        t_head_levels = int(num_head_levels if teacher_head_levels is None else teacher_head_levels)
        #: {student level: teacher level} of every level pair (identity for a pair of one family)
        self.teacher_level = {lv: lv for lv in range(num_levels)} if level_map is None else \
            {int(s): int(t) for s, t in sorted(level_map.items())}
        if any(not 0 <= s < num_levels or not 0 <= t < self.num_teacher_levels for s, t in self.teacher_level.items()) \
                or len(set(self.teacher_level.values())) != len(self.teacher_level) or not self.teacher_level:
            raise ValueError(f'FCFDNeckSwitch: level_map {self.teacher_level} must pair distinct existing levels '
                             f'(student 0..{num_levels - 1}, teacher 0..{self.num_teacher_levels - 1}).')
        self.levels = tuple(self.teacher_level) if levels is None else tuple(sorted({int(lv) for lv in levels}))
        bad = [lv for lv in self.levels if not 0 <= lv < num_levels]
        if bad or not self.levels:
            raise ValueError(f'fcfd.neck.levels={None if levels is None else list(levels)}: level(s) '
                             f'{bad or "none"} do not exist; the FPN has levels 0..{num_levels - 1} '
                             f'(0 = the highest resolution, e.g. P2 for Faster R-CNN, P3 for RetinaNet).')
        unmatched = [lv for lv in self.levels if lv not in self.teacher_level]
        if unmatched:
            raise ValueError(f'fcfd.neck.levels={list(self.levels)}: student level(s) {unmatched} have no teacher '
                             f'level of the same stride (pairs, student -> teacher: {self.teacher_level}); keep '
                             f'only levels of that list.')
        head_kept = tuple(lv for lv in self.levels if lv < num_head_levels)
        # the levels whose bridged student features the teacher head reads (path st)
        st_kept = tuple(lv for lv in self.levels if self.teacher_level[lv] < t_head_levels)
        if not head_kept or not st_kept:
            raise ValueError(f'fcfd.neck.levels={list(self.levels)} contains no level the head reads '
                             f'(0..{num_head_levels - 1}); the function-consistency paths would be empty.')
        #: head-read levels the consistency terms are limited to, or None when the head reads all of its
        #: levels (student levels; the head adapter maps them to the teacher's)
        self.consistency_levels = st_kept if len(st_kept) < t_head_levels else None
        unknown = set(paths) - set(PATHS)
        if unknown:
            raise ValueError(f'fcfd.neck.paths has unknown path(s) {sorted(unknown)}; choose from {list(PATHS)}.')
        self.paths = tuple(p for p in PATHS if p in paths)
        extra = set(path_weights or {}) - set(self.paths)
        if extra:
            raise ValueError(f'fcfd.neck.path_weights names path(s) {sorted(extra)} that are not in '
                             f'fcfd.neck.paths {list(self.paths)}.')
        self.path_weights = {p: float((path_weights or {}).get(p, 1.0)) for p in self.paths}
        s_ch = _per_level(student_channels, num_levels)
        t_ch = _per_level(teacher_channels, self.num_teacher_levels)
        # one B_st per level in ``levels`` (in that order)
        self.bridges_st = nn.ModuleList(
            _build_bridge(bridge, s_ch[lv], t_ch[self.teacher_level[lv]], 'fcfd.neck (student->teacher FPN)')
            for lv in self.levels)
        #: the levels with a teacher->student bridge: the head-read ones, when a path uses them
        self.ts_levels = head_kept if 'ts' in self.paths else ()
        self.bridges_ts = nn.ModuleList(
            _build_bridge(bridge, t_ch[self.teacher_level[lv]], s_ch[lv], 'fcfd.neck (teacher->student FPN)')
            for lv in self.ts_levels)
        self.num_head_levels = int(num_head_levels)
        self.appearance_loss = MODELS.build(appearance_loss or DEFAULT_MSE)
        self.output_losses = _build_output_losses(output_losses)
        #: bridges the last forward did not use: none (every bridge is in every step's graph)
        self.unused_bridges: List[nn.Module] = []
        #: BN running statistics of the student head's training passes on bridged teacher features
        #: (hybrid ``ts``), kept apart so that those passes leave the student's own statistics untouched
        self.ghost_statistics = GhostBNStatistics()

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        rename_state_keys(state_dict, prefix, RENAMED_BRIDGES)  # checkpoints of earlier fcfd-mm
        started = prefix + 'bridges_started'
        if self.bridge_init is not None and started not in state_dict and any(
                k.startswith(prefix + 'bridges_st.') for k in state_dict):
            # a checkpoint of a switch without bridge_init (an earlier default): its bridges are
            # trained already, so they must not be started again
            state_dict[started] = torch.ones((), dtype=torch.bool)
        elif self.bridge_init is None:
            state_dict.pop(started, None)  # a run with bridge_init, loaded without it: nothing to start
        super()._load_from_state_dict(state_dict, prefix, *args)

    # ------------------------------------------------------------------ the hybrid networks
    def bridges(self) -> List[nn.Module]:
        """Every bridge of this switch point (both directions)."""
        return [*self.bridges_st, *self.bridges_ts]

    def level_bridges(self, direction: str) -> List[Tuple[int, int, nn.Module]]:
        """``[(sender level, receiver level, bridge)]`` of ``direction`` (``'st'`` / ``'ts'``): the
        level pairs that have such a bridge."""
        if direction == 'st':
            return [(lv, self.teacher_level[lv], b) for lv, b in zip(self.levels, self.bridges_st)]
        return [(self.teacher_level[lv], lv, b) for lv, b in zip(self.ts_levels, self.bridges_ts)]

    def bridge(self, direction: str, sent: Sequence[Tensor]) -> Dict[int, Tensor]:
        """``{receiver level: bridged feature}``: the sending network's FPN outputs ``sent`` (each
        ``(B, C_send, H_l, W_l)``) through the bridges of ``direction`` (``'st'`` / ``'ts'``), in the
        receiving network's channels, keyed by the receiving network's level."""
        return {to: b(sent[lv]) for lv, to, b in self.level_bridges(direction)}

    def run_hybrid(self, direction: str, bridged: Dict[int, Tensor], own: Callable[[], Sequence[Tensor]],
                   finish: Callable[[Tuple[Tensor, ...]], T]) -> T:
        """The output of hybrid ``direction``: ``finish`` (what follows the receiving network's neck:
        its head for the loss terms, its full prediction at validation) on the receiving network's
        FPN tuple, ``bridged`` features where a bridge ran and the receiver's ``own`` features
        (called only when needed) at the other levels, which the terms never read."""
        n = self.num_teacher_levels if direction == 'st' else self.num_levels
        mine = own() if any(lv not in bridged for lv in range(n)) else None
        return finish(tuple(bridged[lv] if lv in bridged else mine[lv] for lv in range(n)))

    @torch.no_grad()
    def start_bridges(self, s_feats: Sequence[Tensor], t_feats: Sequence[Tensor]) -> None:
        """``bridge_init='receiver_statistics'``: each bridge's output starts with the per-channel mean
        and standard deviation of the receiving network's own feature at its level
        (:meth:`FCFDBridge.match_statistics`), on the first training step's features."""
        for direction, sent, received in (('st', s_feats, t_feats), ('ts', t_feats, s_feats)):
            for lv, to, b in self.level_bridges(direction):
                b.match_statistics(sent[lv].detach(), received[to].detach())
        self.bridges_started.fill_(True)

    def hybrid_outputs(self, direction: str, step: FCFDStep, bridged_st: Dict[int, Tensor]) -> HeadOutputs:
        """The head outputs of hybrid ``direction`` on the step's context: the teacher head on the
        bridged student features ``bridged_st`` (``'st'``; not under ``no_grad``: gradients reach
        ``B_st`` and the student through the frozen teacher head), or the student head on the
        bridged teacher features (``'ts'``: the student head and ``B_ts`` are trained; its train-mode
        BN layers update this switch's ghost statistics, not the student's own)."""
        head, receiver = self.pair.head, self.pair.receiver(direction)
        if direction == 'st':
            bridged, own = bridged_st, lambda: step.teacher_neck
            swap = contextlib.nullcontext()  # the teacher's BN layers are in eval mode
        else:
            bridged = self.bridge('ts', [t.detach() for t in step.teacher_neck])
            own = lambda: [s.detach() for s in step.student_neck]  # noqa: E731
            swap = self.ghost_statistics.track(receiver, 'ts')
        with swap:
            return self.run_hybrid(direction, bridged, own, lambda feats: head.run_head(receiver, feats, step.context))

    def forward(self, step: FCFDStep) -> Dict[str, Tensor]:
        """Compute every FCFD term at the FPN for this step.

        Reads the student FPN outputs (with graph) and the teacher's (no graph), the context, the
        student head's outputs (path ``s``), the target and the row weights from ``step``.
        Returns:
            ``{'loss_fcfd_app': ..., 'loss_fcfd_cls_st': ..., ...}``, scalars.
        """
        s_feats, t_feats = step.student_neck, step.teacher_neck
        if len(s_feats) != self.num_levels or len(t_feats) != self.num_teacher_levels:
            raise ValueError(f'FCFD: {len(s_feats)} student and {len(t_feats)} teacher FPN levels, but the bridges '
                             f'were built for {self.num_levels} and {self.num_teacher_levels}. Keep the necks\' '
                             f'num_outs of the configs the algorithm was built with.')
        losses: Dict[str, Tensor] = {}
        if self.bridge_init is not None and self.training and not bool(self.bridges_started):
            self.start_bridges(s_feats, t_feats)
        bridged_st = self.bridge('st', s_feats)
        for lv, bs in bridged_st.items():
            if bs.shape != t_feats[lv].shape:
                raise ValueError(f'FCFD: bridged student feature {tuple(bs.shape)} and teacher feature '
                                 f'{tuple(t_feats[lv].shape)} differ; both detectors need the same input size and '
                                 f'FPN strides.')
        losses['loss_fcfd_app'] = sum(fp32_loss(self.appearance_loss, bs, t_feats[lv].detach())
                                      for lv, bs in bridged_st.items())
        for path in self.paths:
            out = step.student_outputs if path == 's' else self.hybrid_outputs(path, step, bridged_st)
            for name, loss in self.output_losses.items():
                losses[f'loss_fcfd_{name}_{path}'] = self.path_weights[path] * output_term(loss, name, out, step)
        return losses


# ---------------------------------------------------------------------------- backbone stages
class FCFDStageSwitch(nn.Module):
    """Bridges and losses of FCFD at backbone stage boundaries (positions ``1..N``).

    Args:
        student_channels, teacher_channels: channels at positions 1..N (lists of N ints).
        scales: teacher-size / student-size per position (1, 2 or 0.5) for the bridges.
        positions: positions with an appearance term (1-based); also the switch candidates.
        frozen_positions: student positions whose features no trainable parameter produces (mmdet's
            ``frozen_stages``): no appearance term and no S->T path there, since their gradient would
            stop at the bridge and teach the student nothing; T->S paths switching there still train
            the student's later stages.
        max_switch: the last position a hybrid path may switch at (classifiers: N - 1,
            detectors: N, since the FPN still follows).
        neck_reads: positions the part after the backbone reads (FPN: e.g. 1..N, or 2..N for
            RetinaNet's FPN); a hybrid path at k then bridges those up to k, and k itself.
            ``None`` (classifiers): only position k.
        output_losses: ``{output name: loss config}`` for the head outputs.
        num_paths: hybrid paths drawn per step (official classification: 2).
        mode: 'bi' (both directions), 'st' (S->T paths only), 'ts' (T->S paths only) or 'nomix' (no
            hybrid paths).
        student_kd: also the plain KD term of the student's own output (``_s``).
        l2_weight: lambda, on the appearance and hybrid-feature MSEs.
        mixture_weight: mu, on the hybrid paths' output losses.
        l2_warmup: ``dict(length=L, by_epoch=True)``: lambda ramps as ``min(1, (e + 1) / L)``.
        pooled_last: add the ``GAP(ReLU(.))`` MSE at position N (classifiers).
        ghost_bn: hybrid passes use separate BN running statistics (saved in the state dict).
        seed: path-sampling seed, combined with the iteration (same draw on every rank).
        bridge, st_activation, ts_activation: bridge config and activations (None /
            'leaky_relu') for bridges into the teacher / into the student.
        feature_loss: distance for appearance and hybrid-feature terms (MSE).
        pair: the networks, head adapter and stage cutters this switch point connects (bound once;
            ``forward`` and :meth:`run_hybrid` need it).
    """

    def __init__(self, student_channels: Sequence[int], teacher_channels: Sequence[int], scales: Sequence[float],
                 positions: Sequence[int], max_switch: int, neck_reads: Optional[Sequence[int]],
                 output_losses: Dict[str, dict], frozen_positions: Sequence[int] = (), num_paths: int = 2,
                 mode: str = 'bi', student_kd: bool = True,
                 l2_weight: float = 1.0, mixture_weight: float = 1.0, l2_warmup: Optional[dict] = None,
                 pooled_last: bool = False, ghost_bn: bool = True, seed: int = 0, bridge: Optional[dict] = None,
                 st_activation: Optional[str] = None, ts_activation: Optional[str] = None,
                 feature_loss: Optional[dict] = None, pair: Optional[FCFDPair] = None) -> None:
        super().__init__()
        self.pair = pair
        n = len(student_channels)
        if len(teacher_channels) != n:
            raise ValueError(f'fcfd.stages: the student has {n} stage positions and the teacher '
                             f'{len(teacher_channels)}; FCFD switches between stages, so both backbones need the '
                             f'same number of stages.')
        bad = [p for p in positions if not 1 <= int(p) <= n]
        if bad or not positions:
            raise ValueError(f'fcfd.stages.positions {list(positions)}: stage position(s) {bad or "none"} do not '
                             f'exist; this pair has positions 1..{n} (the outputs of stages 1..{n}).')
        if mode not in STAGE_MODES:
            raise ValueError(f'fcfd.stages.mode={mode!r}; choose one of {list(STAGE_MODES)}.')
        self.num_positions = n
        self.positions = tuple(sorted(int(p) for p in positions))
        self.frozen_positions = tuple(sorted(int(p) for p in frozen_positions))
        #: positions with an appearance term: those whose student features can learn from it
        self.app_positions = tuple(p for p in self.positions if p not in self.frozen_positions)
        self.neck_reads = tuple(neck_reads) if neck_reads is not None else ()
        directions = {'bi': ('st', 'ts'), 'st': ('st',), 'ts': ('ts',), 'nomix': ()}[mode]
        self.candidates = [(k, d) for k in self.positions if k <= max_switch for d in directions
                           if not (d == 'st' and k in self.frozen_positions)]
        if not self.app_positions and not self.candidates:
            raise ValueError(f'fcfd.stages: the student\'s features at positions {list(self.positions)} are all '
                             f'frozen (no trainable parameter before them), so the stage switch has nothing to '
                             f'teach; lower the student backbone\'s frozen_stages or choose other positions.')
        self.num_paths, self.student_kd, self.pooled_last, self.ghost_bn = num_paths, student_kd, pooled_last, ghost_bn
        self.l2_weight, self.mixture_weight, self.seed = float(l2_weight), float(mixture_weight), int(seed)
        self.l2_warmup = dict(l2_warmup or {})
        unknown = set(self.l2_warmup) - {'length', 'by_epoch'}
        if unknown:
            raise ValueError(f'fcfd.stages.l2_warmup has unknown key(s) {sorted(unknown)}; use length, by_epoch.')

        def needed(direction: str) -> List[int]:
            return sorted({i for k, d in self.candidates if d == direction for i in self.read(k)})

        st_positions = sorted(set(self.app_positions) | set(needed('st')))
        self.bridges_st = nn.ModuleDict({
            str(i): _build_bridge(bridge, student_channels[i - 1], teacher_channels[i - 1],
                                  f'fcfd.stages position {i} (student->teacher)', scale=scales[i - 1],
                                  activation=st_activation) for i in st_positions})
        self.bridges_ts = nn.ModuleDict({
            str(i): _build_bridge(bridge, teacher_channels[i - 1], student_channels[i - 1],
                                  f'fcfd.stages position {i} (teacher->student)', scale=1.0 / scales[i - 1],
                                  activation=ts_activation) for i in needed('ts')})
        self.feature_loss = MODELS.build(feature_loss or DEFAULT_MSE)
        self.output_losses = _build_output_losses(output_losses)
        #: separate BN running statistics of the hybrid passes, per hybrid (saved in the state dict)
        self.ghost_statistics = GhostBNStatistics()
        #: bridges the last forward did not use (they got only the zero keep-in-graph term)
        self.unused_bridges: List[nn.Module] = []

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        rename_state_keys(state_dict, prefix, RENAMED_BRIDGES)  # checkpoints of earlier fcfd-mm
        super()._load_from_state_dict(state_dict, prefix, *args)

    def read(self, k: int) -> List[int]:
        """Positions whose bridged features a hybrid path switching at ``k`` feeds the receiver."""
        return sorted({i for i in self.neck_reads if i <= k} | {k})

    def warmup_factor(self, epoch: int, iteration: int) -> float:
        if not self.l2_warmup:
            return 1.0
        by_epoch = self.l2_warmup.get('by_epoch', True)
        return linear_warmup(epoch if by_epoch else iteration, int(self.l2_warmup.get('length', 0)))

    def draw(self, iteration: int) -> List[Tuple[int, str]]:
        return sample_paths(self.candidates, self.num_paths, self.seed, iteration)

    # ------------------------------------------------------------------ the hybrid networks
    def bridges(self) -> List[nn.Module]:
        """Every bridge of this switch point (both directions)."""
        return [*self.bridges_st.values(), *self.bridges_ts.values()]

    def bridge(self, direction: str, sent: Sequence[Tensor], positions: Iterable[int]) -> Dict[int, Tensor]:
        """``{position: bridged feature}``: the sending network's position features ``sent`` (1..N,
        each ``(B, C_send, H_i, W_i)``) at ``positions`` through the bridges of ``direction``
        (``'st'`` / ``'ts'``), in the receiving network's channels and resolution."""
        bridges = self.bridges_st if direction == 'st' else self.bridges_ts
        return {i: bridges[str(i)](sent[i - 1]) for i in sorted(positions)}

    def run_hybrid(self, direction: str, k: int, bridged: Dict[int, Tensor],
                   finish: Callable[[List[Optional[Tensor]]], T], statistics: str = 'main') -> Tuple[List[Tensor], T]:
        """Hybrid ``<k, direction>``: the receiving network after position ``k``.

        Its later stages run on ``bridged[k]`` (the receiver's stage cutter), then ``finish`` (what
        follows its backbone: neck and head for the loss terms, the full prediction at validation)
        on its position features 1..N: the bridged ones it reads up to ``k`` (:meth:`read`; ``None``
        where nothing reads them) and the later ones it computed.

        Args:
            statistics: BN running statistics of the receiver: ``'track'`` (a training pass: train-mode
                BN layers update this hybrid's ghost statistics, when ``ghost_bn`` is on), ``'ghost'``
                (scoring: layers with ghost statistics for this hybrid use them), ``'main'`` (its own).
        Returns:
            ``(later position features k+1..N, what finish returns)``.
        """
        name = hybrid_name(direction, k)
        receiver, cutter = self.pair.receiver(direction), self.pair.cutter(direction)
        if statistics == 'track':
            swap = self.ghost_statistics.track(receiver, name) if self.ghost_bn else contextlib.nullcontext()
        elif statistics == 'ghost':
            swap = self.ghost_statistics.use(receiver, name)
        elif statistics == 'main':
            swap = contextlib.nullcontext()
        else:
            raise ValueError(f"statistics={statistics!r}: give 'track', 'ghost' or 'main'.")
        read = self.read(k)
        with swap:
            later = list(cutter.run_from(receiver, k, bridged[k]))
            return later, finish([bridged[i] if i in read else None for i in range(1, k + 1)] + later)

    def forward(self, step: FCFDStep) -> Dict[str, Tensor]:
        """Compute the stage-switch terms for this step.

        Reads from ``step`` the position features 1..N of student (graph) and teacher (no graph),
        the teacher's features after the backbone that hybrid S->T runs are matched to (its FPN
        levels; none for classifiers), the context, the target, the row weights and the progress
        (warm-up and path draw).
        Returns:
            ``loss_fcfd_stage_app``, ``loss_fcfd_stage_feat`` and ``loss_fcfd_stage_{o}_{s,st,ts}``.
        """
        n = self.num_positions
        s_pos, t_pos = step.student_positions, step.teacher_positions
        if len(s_pos) != n or len(t_pos) != n:
            raise ValueError(f'fcfd.stages: expected {n} stage features, got {len(s_pos)} (student) and '
                             f'{len(t_pos)} (teacher).')
        head = self.pair.head
        lam = self.l2_weight * self.warmup_factor(step.epoch, step.iteration)
        t_pos = [t.detach() for t in t_pos]
        paths = self.draw(step.iteration)
        # bridge only what this step reads: appearance positions + what the drawn S->T paths feed
        used_st = set(self.app_positions) | {i for k, d in paths if d == 'st' for i in self.read(k)}
        bridged_st = self.bridge('st', s_pos, used_st)
        app = [fp32_loss(self.feature_loss, bridged_st[i], t_pos[i - 1]) for i in self.app_positions]
        if self.pooled_last and n in self.app_positions:
            app.append(fp32_loss(self.feature_loss, bridged_st[n], t_pos[n - 1], transform=pooled_embedding))
        feats: List[Tensor] = []
        outs: Dict[str, List[HeadOutputs]] = {'st': [], 'ts': []}
        used_ts = set()
        for k, direction in paths:
            read = self.read(k)
            if direction == 'st':
                bridged = {i: bridged_st[i] for i in read}
            else:
                used_ts.update(read)
                bridged = self.bridge('ts', t_pos, read)
            receiver = self.pair.receiver(direction)
            later, (extra, out) = self.run_hybrid(
                direction, k, bridged, lambda positions: head.run_after_backbone(receiver, positions, step.context),
                statistics='track')
            if direction == 'st':
                feats += [fp32_loss(self.feature_loss, h, t_pos[j - 1]) for j, h in zip(range(k + 1, n + 1), later)]
                feats += [fp32_loss(self.feature_loss, h, t.detach()) for h, t in zip(extra, step.teacher_neck)]
                if self.pooled_last:
                    last = later[-1] if later else bridged_st[k]
                    feats.append(fp32_loss(self.feature_loss, last, t_pos[n - 1], transform=pooled_embedding))
            outs[direction].append(out)

        # bridges of undrawn paths: a zero term keeps them in the graph for DDP; the unused-bridge
        # hook then clears their (zero) gradients, as the official step leaves them None.
        self.unused_bridges = [b for i, b in self.bridges_st.items() if int(i) not in used_st] + \
            [b for i, b in self.bridges_ts.items() if int(i) not in used_ts]
        unused = _keep_in_graph(self.unused_bridges)
        feat = lam * sum(feats) if feats else _zero_term(t_pos[0])
        losses = {'loss_fcfd_stage_app': lam * sum(app) if app else _zero_term(t_pos[0]),
                  'loss_fcfd_stage_feat': feat + unused}
        for name, loss in self.output_losses.items():
            if self.student_kd:
                losses[f'loss_fcfd_stage_{name}_s'] = output_term(loss, name, step.student_outputs, step)
            for direction in DIRECTIONS:
                terms = [output_term(loss, name, o, step) for o in outs[direction]]
                losses[f'loss_fcfd_stage_{name}_{direction}'] = self.mixture_weight * sum(terms) if terms else \
                    _zero_term(t_pos[0])
        return losses
