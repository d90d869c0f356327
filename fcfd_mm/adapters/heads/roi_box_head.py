"""Two-stage detectors (Faster R-CNN): FCFD's function consistency at the RoI box head
(docs/method.md, "Loss terms at the FPN switch point (detectors)").

The box head (RoIAlign on P2-P5 -> shared FCs -> cls / reg predictors) runs on the RoIs the
*student's* RoI head sampled in its loss pass (recorded, so the RoIs are the same ones the
student's detection loss used). Outputs per RoI: class logits ``(N_roi, num_classes + 1)`` and
class-specific box deltas ``(N_roi, 4 * num_classes)``.

Overhead controls (not in the official code, which uses every sampled RoI on P2-P5; docs/method.md,
"Overhead controls"): the consistency terms can run on at most ``consistency_rois`` of each image's
sampled RoIs, and on the RoIs of chosen FPN levels only (``fcfd.neck.levels``); both are decided in
:meth:`RoIBoxHeadAdapter.consistency_context`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmrazor.models.task_modules.recorder import RecorderManager
from torch import Tensor, nn

from ..common import CheckpointedGenerator, HeadContext, HeadOutputs, RoIContext, check_same, num_classes
from ..registry import HEAD_ADAPTERS
from .base import HeadAdapter


def is_bucketing_head(box_head: nn.Module) -> bool:
    """Whether ``box_head`` is SABL's (``SABLHead``: side buckets + offsets instead of deltas)."""
    from mmdet.models.roi_heads.bbox_heads import SABLHead
    return isinstance(box_head, SABLHead)


def check_box_head_pair(s_head: nn.Module, t_head: nn.Module, s_extractor: nn.Module, t_extractor: nn.Module,
                        where: str = '') -> None:
    """Refuse (``ValueError`` naming the fix) a student / teacher pair of RoI box heads whose outputs
    FCFD cannot compare row by row: other classes, another box-regression layout, or RoI extractors
    reading other FPN levels. ``where``: e.g. ``' (stage 1)'`` for a cascade stage."""
    check_same(f'number of classes{where}', num_classes(s_head), num_classes(t_head),
               'FCFD matches class logits, so both detectors must be trained on the same classes.')
    check_same(f'box-regression layout (reg_class_agnostic){where}', s_head.reg_class_agnostic,
               t_head.reg_class_agnostic, 'Set roi_head.bbox_head.reg_class_agnostic identically in both configs.')
    check_same(f'number of RoI-extractor input levels{where}', s_extractor.num_inputs, t_extractor.num_inputs,
               'Use the same roi_head.bbox_roi_extractor.featmap_strides in both configs.')
    check_same(f'box branch (SABL side buckets or deltas){where}', is_bucketing_head(s_head),
               is_bucketing_head(t_head), 'Use the same roi_head.bbox_head type in both configs.')
    if is_bucketing_head(s_head):
        check_same(f'SABL num_buckets{where}', s_head.num_buckets, t_head.num_buckets,
                   'Set roi_head.bbox_head.bbox_coder.num_buckets identically in both configs.')


@HEAD_ADAPTERS.register_module()
class RoIBoxHeadAdapter(HeadAdapter):
    """Faster R-CNN style detectors: ``TwoStageDetector`` + FPN + ``StandardRoIHead`` with a box head.

    Args:
        consistency_rois: at most this many of each image's sampled RoIs (drawn uniformly, without
            replacement) enter the function-consistency terms (target, paths ``s`` / ``st`` / ``ts``
            and the stage paths); ``None`` (official): all of them (512 per image in the 1x
            configs). The student's detection loss always uses every sampled RoI.
        seed: seed of the RoI draw (a generator owned by the adapter; the global RNG is untouched).
            Its state is in the algorithm's ``state_dict`` (``head_adapter_state.roi_draw.state``), so a
            resumed run draws what the uninterrupted one would have.
    """

    family = ('a Faster R-CNN-style two-stage detector (TwoStageDetector + FPN + StandardRoIHead, DynamicRoIHead, '
              'MaskScoringRoIHead, DoubleHeadRoIHead or PointRendRoIHead; Mask R-CNN: its box head)')

    def __init__(self, student: nn.Module, teacher: nn.Module, consistency_rois: Optional[int] = None,
                 seed: int = 0) -> None:
        if consistency_rois is not None and (int(consistency_rois) != consistency_rois or consistency_rois < 1):
            raise ValueError(f'RoIBoxHeadAdapter: consistency_rois must be a positive integer (RoIs per image) or '
                             f'None (all sampled RoIs), got {consistency_rois!r}.')
        self.consistency_rois = None if consistency_rois is None else int(consistency_rois)
        self.roi_draw = CheckpointedGenerator(seed)
        super().__init__(student, teacher)
        box_head = student.roi_head.bbox_head
        #: SABL's box head (``SABLHead``): its box branch is side buckets + offsets, not deltas
        self.side_num = int(box_head.side_num) if is_bucketing_head(box_head) else None

    @property
    def generator(self) -> torch.Generator:
        """The generator of the RoI draw (its state is checkpointed)."""
        return self.roi_draw.generator

    def state_modules(self) -> Dict[str, nn.Module]:
        return dict(roi_draw=self.roi_draw)

    @classmethod
    def roi_head_types(cls) -> tuple:
        """The RoI heads served (exact types): ``StandardRoIHead`` and the subclasses that change only
        the box losses or add a mask score (``DynamicRoIHead``, ``MaskScoringRoIHead``), the box
        head's layers with the same outputs (``DoubleHeadRoIHead``) or only the mask branch
        (``PointRendRoIHead``). Cascade / HTC heads run several
        box heads (their own adapter or refused); heads that run the box head on other RoIs too
        are refused (Grid R-CNN) or have their own adapter (PISA: :class:`PISARoIBoxHeadAdapter`)."""
        from mmdet.models import roi_heads
        return tuple(getattr(roi_heads, n) for n in ('StandardRoIHead', 'DynamicRoIHead', 'MaskScoringRoIHead',
                                                     'DoubleHeadRoIHead', 'PointRendRoIHead'))

    @classmethod
    def supports(cls, model: nn.Module) -> bool:
        from mmdet.models.detectors import TwoStageDetector
        roi_head = getattr(model, 'roi_head', None)
        return (isinstance(model, TwoStageDetector) and type(roi_head) in cls.roi_head_types()
                and getattr(roi_head, 'with_bbox', False))

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        check_box_head_pair(student.roi_head.bbox_head, teacher.roi_head.bbox_head,
                            student.roi_head.bbox_roi_extractor, teacher.roi_head.bbox_roi_extractor)

    def default_output_losses(self) -> Dict[str, dict]:
        # docs/method.md "Output distances": KL at T=1 on the (num_classes + 1)-way logits, batch
        # mean over RoIs; MSE over all elements of the class-specific deltas. Both exist in MMRazor.
        cls = dict(type='KLDivergence', tau=1.0, loss_weight=1.0, reduction='batchmean')
        mse = dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0)
        if self.side_num is not None:  # SABL: a softmax over each side's buckets (KL per side), offsets by MSE
            return dict(cls=cls, bucket=dict(type='DistributionKLLoss', num_bins=self.side_num, tau=1.0,
                                             loss_weight=1.0), offset=mse)
        return dict(cls=cls, reg=mse)

    def box_outputs(self, cls_score: Tensor, bbox_pred) -> HeadOutputs:
        """The named outputs of the box head's ``(cls_score, bbox_pred)``: ``cls`` and ``reg``, or
        for SABL's head (``bbox_pred`` = (bucket logits, bucket offsets), ``(N, 4 * side_num)`` each,
        side-major as its coder reads them) ``cls``, ``bucket`` and ``offset``."""
        if self.side_num is not None:
            return dict(cls=cls_score, bucket=bbox_pred[0], offset=bbox_pred[1])
        return dict(cls=cls_score, reg=bbox_pred)

    def num_head_levels(self, model: nn.Module) -> int:
        return int(model.roi_head.bbox_roi_extractor.num_inputs)  # P2-P5 of P2-P6

    def student_recorders(self) -> Dict[str, dict]:
        return dict(
            neck=self.switch_recorder(),
            # inputs of the RoI extractor = (FPN tuple, rois (N, 5) [batch_idx, x1, y1, x2, y2])
            roi_extractor=dict(type='ModuleInputs', source='roi_head.bbox_roi_extractor'),
            # outputs of the box head = (cls_score, bbox_pred) on those rois
            box_head=dict(type='ModuleOutputs', source='roi_head.bbox_head'))

    def consistency_context(self, records: RecorderManager, student: nn.Module,
                            levels: Optional[Sequence[int]] = None) -> RoIContext:
        """The student's sampled RoIs, then at most ``consistency_rois`` of each image's (drawn
        with the adapter's generator), then those the RoI extractor maps to FPN ``levels`` (0 = P2):
        the consistency terms then never read the other levels, whose bridges need not run."""
        extractor_call, _ = self.sampled_calls(records)
        rois = records.get_recorder('roi_extractor').get_record_data(extractor_call, 1)
        return self.limit_rois(rois, student.roi_head.bbox_roi_extractor, levels)

    def sampled_calls(self, records: RecorderManager) -> Tuple[int, int]:
        """``(RoI-extractor call, box-head call)`` of the student's loss pass that ran on its sampled
        RoIs: the first of each. A mask branch sharing the box RoI extractor (share_roi_extractor)
        calls it again after the box head, DoubleHeadRoIHead calls it twice with the same RoIs (a
        larger scale for the box branch)."""
        recorder = records.get_recorder('roi_extractor')
        heads = records.get_recorder('box_head').data_buffer
        if not recorder.data_buffer or len(heads) != 1 or \
                heads[0][0].shape[0] != recorder.get_record_data(0, 1).shape[0]:
            raise RuntimeError(f'{type(self).__name__} expected the student RoI head to run its box head once per '
                               f'loss pass, on the RoIs of its first box RoI-extractor call; saw {len(heads)} box-head '
                               f'and {len(recorder.data_buffer)} extractor calls.')
        return 0, 0

    def limit_rois(self, rois: Tensor, extractor: nn.Module, levels: Optional[Sequence[int]]) -> RoIContext:
        """The consistency terms' share of a box head's sampled ``rois`` (``(N, 5)``, no gradient:
        mmdet's proposals carry none): at most ``consistency_rois`` of each image's (drawn with the
        adapter's generator), then those ``extractor`` maps to FPN ``levels`` (0 = P2; ``None``: all)."""
        context = RoIContext(rois.detach())
        if self.consistency_rois is not None:
            context = context.select(self._draw_rois(context.rois[:, 0]))
        if levels is not None:
            mapped = extractor.map_roi_levels(context.rois, extractor.num_inputs)
            wanted = torch.tensor(sorted(levels), device=mapped.device)
            context = context.select(torch.nonzero(torch.isin(mapped, wanted)).squeeze(1))
        return context

    def _draw_rois(self, batch_idx: Tensor) -> Tensor:
        """Sorted indices of at most ``consistency_rois`` RoIs of each image, drawn uniformly."""
        keep = []
        for b in torch.unique(batch_idx):
            rows = torch.nonzero(batch_idx == b).squeeze(1)
            if rows.numel() > self.consistency_rois:
                pick = torch.randperm(rows.numel(), generator=self.generator)[:self.consistency_rois]
                rows = rows[pick.to(rows.device)]
            keep.append(rows)
        return torch.sort(torch.cat(keep)).values

    def student_outputs(self, records: RecorderManager, context: RoIContext) -> HeadOutputs:
        cls_score, bbox_pred = records.get_recorder('box_head').get_record_data(self.sampled_calls(records)[1])
        outputs = self.box_outputs(cls_score, bbox_pred)
        if context.index is not None:
            outputs = {name: out[context.index] for name, out in outputs.items()}
        return outputs

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: RoIContext) -> HeadOutputs:
        out = model.roi_head._bbox_forward(tuple(feats), context.rois)
        return self.box_outputs(out['cls_score'], out['bbox_pred'])

    def predict_on_features(self, model: nn.Module, feats: Sequence[Tensor], data_samples: list) -> list:
        """``TwoStageDetector.predict`` after ``extract_feat``: the RPN of ``model`` on ``feats``,
        then its RoI head on ``feats`` and those proposals (boxes rescaled to the original image)."""
        feats = tuple(feats)
        proposals = model.rpn_head.predict(feats, data_samples, rescale=False)
        results = model.roi_head.predict(feats, proposals, data_samples, rescale=True)
        return model.add_pred_to_datasample(data_samples, results)


@HEAD_ADAPTERS.register_module()
class PISARoIBoxHeadAdapter(RoIBoxHeadAdapter):
    """PISA (``PISARoIHead``): Faster R-CNN's box head, outputs and defaults. PISA's sampler
    (``ScoreHLRSampler``) runs the box head on each image's candidate RoIs to rank them before the
    box loss, so the sampled RoIs the consistency terms use are those of the *last* box-head call of
    the student's loss pass (its box loss's)."""

    family = 'a PISA two-stage detector (TwoStageDetector + FPN + PISARoIHead; Mask R-CNN: its box head)'

    @classmethod
    def roi_head_types(cls) -> tuple:
        from mmdet.models.roi_heads import PISARoIHead
        return (PISARoIHead,)

    def sampled_calls(self, records: RecorderManager) -> Tuple[int, int]:
        recorder = records.get_recorder('roi_extractor')
        heads = records.get_recorder('box_head').data_buffer
        last_extractor, last_head = len(recorder.data_buffer) - 1, len(heads) - 1
        if last_extractor < 0 or last_head < 0 or \
                heads[last_head][0].shape[0] != recorder.get_record_data(last_extractor, 1).shape[0]:
            raise RuntimeError(f'{type(self).__name__} expected the student RoI head\'s last box-head call to run on '
                               f'the RoIs of its last box RoI-extractor call; saw {len(heads)} box-head and '
                               f'{len(recorder.data_buffer)} extractor calls.')
        return last_extractor, last_head


@HEAD_ADAPTERS.register_module()
class MultiInstanceRoIBoxHeadAdapter(RoIBoxHeadAdapter):
    """CrowdDet (``MultiInstanceRoIHead`` + ``MultiInstanceBBoxHead``): each RoI predicts
    ``num_instance`` (K) objects. Outputs per RoI: ``cls``, K groups of C + 1 softmax logits (softmax
    KL per group, ``DistributionKLLoss``), ``reg``, K x 4 box deltas (MSE); with the refinement
    module (``with_refine``) also ``cls_ref`` / ``reg_ref``, the refined ones, alike.

    Paths ``st`` and ``ts`` only (the default): CrowdDet's EMD loss matches a RoI's K predictions to
    its ground truth in whichever order fits best, so the K slots are an unordered set and slot k
    of the student need not predict the object slot k of the teacher predicts; paths ``st`` / ``ts``
    compare one network's head with itself, where the slots agree. Path ``s`` is refused.

    Args:
        consistency_rois, seed: as :class:`RoIBoxHeadAdapter`.
    """

    family = 'a CrowdDet detector (CrowdDet + MultiInstanceRoIHead: K objects per RoI, paths st / ts)'

    def __init__(self, student: nn.Module, teacher: nn.Module, consistency_rois: Optional[int] = None,
                 seed: int = 0) -> None:
        super().__init__(student, teacher, consistency_rois, seed)
        head = student.roi_head.bbox_head
        self.num_instance = int(head.num_instance)
        self.with_refine = bool(head.with_refine)
        self.num_classes = num_classes(head)

    @classmethod
    def roi_head_types(cls) -> tuple:
        from mmdet.models.roi_heads import MultiInstanceRoIHead
        return (MultiInstanceRoIHead,)

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        super().check_models(student, teacher)
        s_head, t_head = student.roi_head.bbox_head, teacher.roi_head.bbox_head
        check_same('objects per RoI (num_instance)', s_head.num_instance, t_head.num_instance,
                   'Set roi_head.bbox_head.num_instance identically in both configs.')
        check_same('refinement module (with_refine)', s_head.with_refine, t_head.with_refine,
                   'Set roi_head.bbox_head.with_refine identically in both configs.')

    def default_output_losses(self) -> Dict[str, dict]:
        kl = dict(type='DistributionKLLoss', num_bins=self.num_classes + 1, tau=1.0, loss_weight=1.0)
        mse = dict(type='WeightedMSELoss', loss_weight=1.0)
        names = ('', '_ref') if self.with_refine else ('',)
        return {f'{kind}{suffix}': dict(cfg) for suffix in names for kind, cfg in (('cls', kl), ('reg', mse))}

    def default_neck_settings(self) -> Dict[str, object]:
        return dict(paths=('st', 'ts'))

    def check_neck_paths(self, paths: Sequence[str]) -> None:
        if 's' in paths:
            raise ValueError(
                f'fcfd.neck.paths {list(paths)}: path s is not defined for CrowdDet: its EMD loss matches each '
                f'RoI\'s {self.num_instance} predictions to the ground truth in either order, so the student\'s '
                f'prediction slot k and the teacher\'s slot k need not be the same object. Set '
                f'fcfd.neck.paths=(\'st\', \'ts\') (the default): each network\'s head on the other\'s bridged '
                f'features, compared with its own outputs, where the slots agree.')

    def _named(self, outputs: Sequence[Tensor]) -> HeadOutputs:
        out = dict(cls=outputs[0], reg=outputs[1])
        if self.with_refine:
            out.update(cls_ref=outputs[2], reg_ref=outputs[3])
        return out

    def student_outputs(self, records: RecorderManager, context: RoIContext) -> HeadOutputs:
        outputs = records.get_recorder('box_head').get_record_data(self.sampled_calls(records)[1])
        if context.index is not None:
            outputs = [o[context.index] for o in outputs]
        return self._named(outputs)

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: RoIContext) -> HeadOutputs:
        out = model.roi_head._bbox_forward(tuple(feats), context.rois)
        return self._named([out['cls_score'], out['bbox_pred'], out.get('cls_score_ref'), out.get('bbox_pred_ref')])


@HEAD_ADAPTERS.register_module()
class TridentRoIBoxHeadAdapter(RoIBoxHeadAdapter):
    """TridentNet (``TridentFasterRCNN`` + ``TridentRoIHead``): Faster R-CNN's box head, outputs and
    defaults. The detector has no neck: the switch point is the trident backbone's output (C4),
    where every image appears once per branch (batch ``num_branch x B`` in training, as the
    detector's own loss replicates its samples); the RoI head's shared res5 stage is part of the
    head both networks run. Prediction replicates the samples per branch and merges the branches'
    boxes as ``TridentFasterRCNN.predict`` does."""

    family = 'a TridentNet detector (TridentFasterRCNN + TridentRoIHead: the box head on the trident C4 branches)'

    @classmethod
    def roi_head_types(cls) -> tuple:
        from mmdet.models.roi_heads import TridentRoIHead
        return (TridentRoIHead,)

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        super().check_models(student, teacher)
        check_same('trident branches (num_branch)', student.num_branch, teacher.num_branch,
                   'Set backbone.num_branch and roi_head.num_branch identically in both configs.')

    def predict_on_features(self, model: nn.Module, feats: Sequence[Tensor], data_samples: list) -> list:
        """``TridentFasterRCNN.predict`` after ``extract_feat``: each sample once per branch that
        ``feats`` carries, the RPN and the RoI head (which merges the branches' boxes)."""
        num_branch = model.num_branch if model.training or model.test_branch_idx == -1 else 1
        feats, samples = tuple(feats), data_samples * num_branch
        proposals = model.rpn_head.predict(feats, samples, rescale=False)
        results = model.roi_head.predict(feats, proposals, samples, rescale=True)
        return model.add_pred_to_datasample(data_samples, results)


@dataclass
class GridRoIContext(HeadContext):
    """Grid R-CNN's consistency RoIs: ``box``, the RoIs the student's box head sampled; ``grid``,
    the positive RoIs its grid branch ran on (jittered, as its loss draws them)."""
    box: RoIContext
    grid: RoIContext


@HEAD_ADAPTERS.register_module()
class GridRoIBoxHeadAdapter(RoIBoxHeadAdapter):
    """Grid R-CNN (``GridRoIHead``): its box head classifies only (``with_reg=False``): ``cls``, the
    (C + 1) softmax logits on the RoIs the student sampled (KL, as Faster R-CNN's); the box is
    located by the grid head, whose fused heatmaps (G grid points x M x M logits per RoI, M = 28 in
    mmdet's configs, on the
    positive RoIs the student's grid branch ran on) are ``grid``: per-pixel sigmoid KD averaged over
    the G x M x M pixels (``loss_weight = 1 / (G M^2)``). The grid branch draws at most
    ``max_num_grid`` of those RoIs at random for its own loss; FCFD runs both networks' grid heads
    on all of them (the student's again, on its recorded features), so its terms see every one.

    Args:
        consistency_rois, seed: as :class:`RoIBoxHeadAdapter`, for the box RoIs and the grid RoIs.
    """

    family = 'a Grid R-CNN detector (GridRCNN + GridRoIHead: box classification, grid-point heatmaps)'

    def __init__(self, student: nn.Module, teacher: nn.Module, consistency_rois: Optional[int] = None,
                 seed: int = 0) -> None:
        super().__init__(student, teacher, consistency_rois, seed)
        self._student = student  # the student's grid head runs again on its recorded features
        grid_head = student.roi_head.grid_head
        # GridHead's heatmaps are half its whole_map_size on a side (28 for its 14 x 14 RoI features)
        self.grid_width = int(grid_head.grid_points) * (int(grid_head.whole_map_size) // 2) ** 2

    @classmethod
    def roi_head_types(cls) -> tuple:
        from mmdet.models.roi_heads import GridRoIHead
        return (GridRoIHead,)

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        s_rh, t_rh = student.roi_head, teacher.roi_head
        check_same('number of classes', num_classes(s_rh.bbox_head), num_classes(t_rh.bbox_head),
                   'FCFD matches class logits, so both detectors must be trained on the same classes.')
        for what, s_value, t_value in (('grid points', s_rh.grid_head.grid_points, t_rh.grid_head.grid_points),
                                       ('grid heatmap size', s_rh.grid_head.whole_map_size,
                                        t_rh.grid_head.whole_map_size),
                                       ('RoI-extractor input levels', s_rh.bbox_roi_extractor.num_inputs,
                                        t_rh.bbox_roi_extractor.num_inputs),
                                       ('grid RoI-extractor input levels', s_rh.grid_roi_extractor.num_inputs,
                                        t_rh.grid_roi_extractor.num_inputs)):
            check_same(f'Grid R-CNN {what}', s_value, t_value,
                       'Use the same roi_head (grid_head, RoI extractors) settings in both configs.')

    def default_output_losses(self) -> Dict[str, dict]:
        return dict(cls=super().default_output_losses()['cls'],
                    grid=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0 / self.grid_width))

    def student_recorders(self) -> Dict[str, dict]:
        return dict(super().student_recorders(),
                    grid_roi_extractor=dict(type='ModuleInputs', source='roi_head.grid_roi_extractor'))

    def consistency_context(self, records: RecorderManager, student: nn.Module,
                            levels: Optional[Sequence[int]] = None) -> GridRoIContext:
        box = super().consistency_context(records, student, levels)
        recorder = records.get_recorder('grid_roi_extractor')
        rois = recorder.get_record_data(0, 1) if recorder.data_buffer else box.rois.new_zeros((0, 5))
        return GridRoIContext(box, self.limit_rois(rois, student.roi_head.grid_roi_extractor, levels))

    def student_outputs(self, records: RecorderManager, context: GridRoIContext) -> HeadOutputs:
        cls_score = super().student_outputs(records, context.box)['cls']
        grid = self.grid_rows(self._student, self.student_features(records), context.grid.rois)
        return dict(cls=cls_score, grid=grid)

    def run_head(self, model: nn.Module, feats: Sequence[Tensor], context: GridRoIContext) -> HeadOutputs:
        out = model.roi_head._bbox_forward(tuple(feats), context.box.rois)
        return dict(cls=out['cls_score'], grid=self.grid_rows(model, feats, context.grid.rois))

    def grid_rows(self, model: nn.Module, feats: Sequence[Tensor], rois: Tensor) -> Tensor:
        """``(N, G * M * M)``: ``model``'s grid head on ``rois`` (``GridRoIHead``'s grid branch: the
        grid RoI extractor, the shared head if any, the fused heatmaps)."""
        if rois.shape[0] == 0:  # no positive RoI this step (the grid branch did not run): no rows
            return feats[0].new_zeros((0, self.grid_width))
        roi_head = model.roi_head
        grid_feats = roi_head.grid_roi_extractor(tuple(feats)[:roi_head.grid_roi_extractor.num_inputs], rois)
        if roi_head.with_shared_head:
            grid_feats = roi_head.shared_head(grid_feats)
        return roi_head.grid_head(grid_feats)['fused'].flatten(1)
