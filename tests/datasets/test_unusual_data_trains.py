"""Data that is merely unusual trains: a batch of images without boxes (what filter_empty_gt=False
feeds) gives finite losses and gradients, and zero-width boxes finite FCFD terms, for Faster R-CNN
(RoI box head) and RetinaNet (dense head). The end-to-end run through tools/train.py is in
tests/tools/test_check_data.py.

A zero-width box never reaches the model through mmdet's CocoDataset (it drops boxes under one
pixel); if one does (another dataset, a transform without FilterAnnotations), mmdet's own Faster
R-CNN ``loss_bbox`` is NaN (log of a zero width in the box coder), which NonFiniteLossHook stops
with that term's name; the FCFD terms stay finite, as checked here."""
import pytest
import torch

from tests.tiny_models import batch, build_fcfd


def _finite_step(alg, data, only_fcfd=False):
    """One loss pass and backward; every loss term (or only the FCFD terms) and every gradient finite."""
    losses = alg.loss(data['inputs'], data['data_samples'])
    fcfd = {k: v for k, v in losses.items() if 'loss_fcfd' in k}
    assert fcfd, sorted(losses)
    checked = fcfd if only_fcfd else losses
    total, _ = alg.parse_losses(checked)
    total.backward()
    bad = {k: v for k, v in checked.items() if torch.is_tensor(v) and not torch.isfinite(v).all()}
    assert not bad and torch.isfinite(total)
    grads = [p.grad for p in alg.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    return fcfd


@pytest.mark.parametrize('family', ['frcnn', 'retina'])
def test_a_batch_without_any_box_gives_finite_fcfd_terms(family):
    alg = build_fcfd(family)
    fcfd = _finite_step(alg, batch(alg, num_items=(0, 0)))
    assert any(v.item() > 0 for v in fcfd.values())  # the terms are computed, not skipped


@pytest.mark.parametrize('family', ['frcnn', 'retina'])
def test_zero_width_boxes_give_finite_fcfd_terms(family):
    alg = build_fcfd(family)
    data = batch(alg, num_items=(3, 2))
    for sample in data['data_samples']:
        boxes = sample.gt_instances.bboxes
        boxes[0, 2] = boxes[0, 0]  # zero width
        boxes[-1, 3] = boxes[-1, 1]  # zero height
    _finite_step(alg, data, only_fcfd=True)
