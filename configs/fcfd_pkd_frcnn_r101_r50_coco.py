# FCFD + PKD: the FCFD terms of fcfd_frcnn_r101_r50_coco.py plus MMRazor's PKD loss on the FPN
# levels P2-P5, configured exactly as MMRazor's own PKD detection configs (weight 6). The extra
# MMRazor losses go in `distiller`; their teacher recorders see the teacher's backbone and neck.
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']

model = dict(
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=6) for i in range(4)},
        loss_forward_mappings={
            f'loss_pkd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(4)}))
