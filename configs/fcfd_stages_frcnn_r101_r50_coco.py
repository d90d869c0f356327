# FCFD at the backbone stages of Faster R-CNN R101 -> R50 (the plugin's generalisation of the
# classification form to detectors, docs/method.md): bridges at the outputs of layer1..layer4 in both
# directions; appearance MSE at every stage; per step 2 hybrid paths drawn from
# {stage 1..4} x {S->T, T->S} (same draw on every rank). An S->T path runs the frozen teacher's
# later stages, FPN and RoI box head on the bridged student features (MSE on every later stage and
# FPN level + KL/MSE on the box head outputs); a T->S path runs the student's. Plain RoI-level
# KD of the student's own output ('_s' terms) is included. Bridges into ResNet stages end with
# LeakyReLU(0.1) (post-ReLU receivers, docs/method.md "Bridges").
# The R50's frozen stage 1 gets no appearance term and no S->T path (docs/method.md). Its demo
# accuracy beside FitNet-style L2 and FCFD at the FPN, and its step cost: benchmarks/README.md.
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']
model = dict(fcfd={{_base_.fcfd_frcnn_stages}})
