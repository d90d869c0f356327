"""The FCFD losses at an FPN switch point, written once for every model family (spec §1.2, §3.2).

With ``P_s^l`` / ``P_t^l`` the student / teacher FPN outputs, ``B_st^l`` / ``B_ts^l`` the bridges
and ``H_s`` / ``H_t`` the student / teacher heads (run by a family adapter, :mod:`fcfd_mm.tails`):

* appearance:   ``loss_fcfd_app = sum_l D_app(B_st^l(P_s^l), sg(P_t^l))``
* target:       ``t = H_t(P_t)`` (no graph)
* paths:        ``s  = H_s(P_s)``            (the student's own output, reused from its loss pass)
                ``st = H_t(B_st(P_s))``      (teacher head frozen, gradient flows through it)
                ``ts = H_s(B_ts(sg(P_t)))``  (student head and B_ts trained)
* per path x and output o (``cls``, ``reg``):  ``loss_fcfd_{o}_{x} = w_x * D_o(x_o, sg(t_o))``

``D_app`` is MSE by default, ``D_cls`` softmax KL (RoI head) or sigmoid KD (dense head) with
temperature, ``D_reg`` MSE; their ``loss_weight`` carries the term weight.
"""
from __future__ import annotations

import inspect
from typing import Any, Dict, Optional, Sequence

import torch
from mmrazor.registry import MODELS
from torch import Tensor, nn

from ..tails.base import FCFDTail, HeadOutputs

#: s: student head on student features; st: bridged student -> teacher head;
#: ts: bridged teacher -> student head.
PATHS = ('s', 'st', 'ts')


def _accepts_weight(loss: nn.Module) -> bool:
    return 'weight' in inspect.signature(loss.forward).parameters


class FCFDNeckSwitch(nn.Module):
    """Bridges and losses of FCFD at the neck (FPN) output; ``forward`` returns the loss dict.

    Args:
        student_channels, teacher_channels: FPN channels of each network.
        num_levels: number of FPN outputs: one student->teacher bridge per level (appearance).
        t2s_levels: leading levels the student head reads; teacher->student bridges exist only
            for those (Faster R-CNN: P2-P5), so DDP never sees a parameter without gradient.
        paths: subset of :data:`PATHS` to compute.
        bridge: connector config shared by every level; ``in_channels`` / ``out_channels`` are
            filled in per direction (given values must match the FPN channels).
        appearance_loss: distance between bridged student and teacher features.
        output_losses: ``{output name: loss config}`` for the head outputs.
        path_weights: ``{path: weight}`` multiplying that path's output losses (default 1).
        weighted_outputs: whether the adapter supplies per-row weights for the output losses.
    """

    def __init__(self, student_channels: int, teacher_channels: int, num_levels: int, t2s_levels: int,
                 paths: Sequence[str], output_losses: Dict[str, dict],
                 bridge: Optional[dict] = None, appearance_loss: Optional[dict] = None,
                 path_weights: Optional[Dict[str, float]] = None, weighted_outputs: bool = False) -> None:
        super().__init__()
        unknown = set(paths) - set(PATHS)
        if unknown:
            raise ValueError(f'fcfd.paths has unknown path(s) {sorted(unknown)}; choose from {list(PATHS)}.')
        self.paths = tuple(p for p in PATHS if p in paths)
        self.path_weights = {p: float((path_weights or {}).get(p, 1.0)) for p in self.paths}
        extra = set(path_weights or {}) - set(self.paths)
        if extra:
            raise ValueError(f'fcfd.path_weights names path(s) {sorted(extra)} that are not in fcfd.paths '
                             f'{list(self.paths)}.')
        bridge = dict(type='FCFDBridge') if bridge is None else dict(bridge)
        self.bridges_s2t = nn.ModuleList(
            self._build_bridge(bridge, student_channels, teacher_channels, 'student->teacher') for _ in range(num_levels))
        # B_ts is only built where a path uses it, so DDP sees no parameter without a gradient.
        self.bridges_t2s = nn.ModuleList(
            self._build_bridge(bridge, teacher_channels, student_channels, 'teacher->student')
            for _ in range(t2s_levels)) if 'ts' in self.paths else nn.ModuleList()
        self.appearance_loss = MODELS.build(appearance_loss or dict(
            type='L2Loss', normalize=False, div_element=True, loss_weight=1.0))
        self.output_losses = nn.ModuleDict({name: MODELS.build(cfg) for name, cfg in output_losses.items()})
        self.weighted_outputs = weighted_outputs
        if weighted_outputs:
            for name, loss in self.output_losses.items():
                if not _accepts_weight(loss):
                    raise ValueError(f'fcfd.output_losses.{name} ({type(loss).__name__}) takes no per-row '
                                     f'weight, but the adapter weights rows (anchor_weighting). Use '
                                     f'SigmoidKDLoss / WeightedMSELoss, or drop anchor_weighting.')

    @staticmethod
    def _build_bridge(cfg: dict, in_channels: int, out_channels: int, direction: str) -> nn.Module:
        cfg = dict(cfg)
        for key, value in (('in_channels', in_channels), ('out_channels', out_channels)):
            if key in cfg and cfg[key] != value:
                raise ValueError(f'fcfd.bridge.{key}={cfg[key]} does not match the {direction} FPN channels '
                                 f'({value}). Remove {key} from fcfd.bridge (it is filled in from the necks) or '
                                 f'set it to {value}.')
            cfg[key] = value
        return MODELS.build(cfg)

    def _output_loss(self, name: str, pred: Tensor, target: Tensor, weight: Optional[Tensor]) -> Tensor:
        loss = self.output_losses[name]
        return loss(pred, target) if weight is None else loss(pred, target, weight=weight)

    def forward(self, tail: FCFDTail, student: nn.Module, teacher: nn.Module,
                s_feats: Sequence[Tensor], t_feats: Sequence[Tensor], context: Any,
                s_outputs: Optional[HeadOutputs]) -> Dict[str, Tensor]:
        """Compute every FCFD term.

        Args:
            s_feats: student FPN outputs (with graph); t_feats: teacher FPN outputs (no graph).
            context: what the adapter's head needs besides features (e.g. RoIs).
            s_outputs: the student head's outputs from its loss pass (for path ``s``).
        Returns:
            ``{'loss_fcfd_app': ..., 'loss_fcfd_cls_st': ..., ...}``, scalars.
        """
        if not (len(s_feats) == len(t_feats) == len(self.bridges_s2t)):
            raise ValueError(f'FCFD: {len(s_feats)} student and {len(t_feats)} teacher FPN levels, but '
                             f'{len(self.bridges_s2t)} bridges. Use the same neck.num_outs for both models.')
        losses: Dict[str, Tensor] = {}
        bridged_s = [bridge(f) for bridge, f in zip(self.bridges_s2t, s_feats)]
        for bs, ft in zip(bridged_s, t_feats):
            if bs.shape != ft.shape:
                raise ValueError(f'FCFD: bridged student feature {tuple(bs.shape)} and teacher feature '
                                 f'{tuple(ft.shape)} differ; both detectors need the same input size and FPN strides.')
        losses['loss_fcfd_app'] = sum(self.appearance_loss(bs, ft.detach()) for bs, ft in zip(bridged_s, t_feats))

        with torch.no_grad():
            target = tail.run_head(teacher, t_feats, context)
        weight = tail.row_weights(target) if self.weighted_outputs else None

        for path in self.paths:
            if path == 's':
                out = s_outputs
            elif path == 'st':  # not under no_grad: gradients reach B_st and the student through H_t
                out = tail.run_head(teacher, bridged_s, context)
            else:
                out = tail.run_head(student, [b(f.detach()) for b, f in zip(self.bridges_t2s, t_feats)], context)
            for name in self.output_losses:
                losses[f'loss_fcfd_{name}_{path}'] = self.path_weights[path] * self._output_loss(
                    name, out[name], target[name], weight)
        return losses
