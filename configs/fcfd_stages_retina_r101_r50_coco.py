# FCFD-style distillation at the backbone stages of RetinaNet R101 -> R50 (our extension), with the
# RetinaNet head setting of the FPN configs (configs/_base_/fcfd_retina_settings.py): anchors
# weighted by the teacher's max class score, sigmoid KD (T=1, weight 5) on scores and MSE on deltas,
# and the plain KD of the student's own output (student_kd, the 's' term). The FPN reads stages 2-4
# (start_level=1), so a hybrid path at stage k bridges the stages <= k the FPN reads, plus stage k;
# the R50's frozen stage 1 gets no appearance term and no S->T path (docs/method.md).
# Its demo accuracy beside FitNet-style L2 and FCFD at the FPN, with one path per step too, and its
# step cost: benchmarks/README.md.
_base_ = ['./fcfd_retina_r101_r50_coco.py']
model = dict(fcfd=dict(neck=None, stages={{_base_.fcfd_retina_stage}}))
