# FCFD + CWD, Faster R-CNN R101-FPN (teacher) -> R50-FPN (student), COCO 2017, 1x: the recommended
# Faster R-CNN setting of this plugin (ours; the official setting is fcfd_frcnn_r101_r50_coco.py).
# The FCFD terms of fcfd_frcnn_r101_r50_coco.py with two changes:
# - the FPN switch point made scale-free, as for the dense families: bridges start from the receiver's
#   per-channel feature statistics, and the appearance term is the MSE relative to the teacher's mean
#   square (RelativeMSELoss), so the appearance term no longer outweighs the detection and consistency
#   terms;
# - MMRazor's channel-wise distillation (CWD) on P2-P6 beside FCFD, configured exactly as MMRazor's
#   cwd_fpn_frcnn_r101_frcnn_r50_1x_coco.py (tau 1, weight 10 per level).
# Chosen on the benchmark set by a stated rule (benchmarks/README.md, "Efficacy on the benchmark set").
#   bash tools/dist_train.sh configs/fcfd_cwd_frcnn_r101_r50_coco.py 8 [--amp]
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']

model = dict(
    fcfd=dict(neck=dict(bridge_init='receiver_statistics',
                        appearance_loss=dict(type='RelativeMSELoss', loss_weight=1.0))),
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={f'loss_cwd_fpn{i}': dict(type='ChannelWiseDivergence', tau=1, loss_weight=10)
                        for i in range(5)},
        loss_forward_mappings={
            f'loss_cwd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(5)}))
