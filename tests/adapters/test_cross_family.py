"""Cross-family pairs (CrossFamilyHeadAdapter): neck levels matched by stride, path st only (its
terms against an independent computation through mmdet's own teacher head), the teacher's own
input normalisation, and the refusals of what is not defined for such a pair."""
import pytest
import torch

from tests.adapters.families import build_pair, flat, random_batch, sigmoid_kd_ref, small_model_cfg

FCOS = 'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'  # caffe normalisation, BGR, P3-P7
RETINA = 'retinanet/retinanet_r18_fpn_1x_coco.py'  # pytorch normalisation, RGB, P3-P7
FRCNN = 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'  # P2-P6


def test_levels_are_matched_by_stride_not_by_index():
    from fcfd_mm.adapters.heads.cross_family import stride_matched_levels
    assert stride_matched_levels([8, 16, 32, 64, 128], [8, 16, 32, 64, 128]) == {i: i for i in range(5)}
    assert stride_matched_levels([4, 8, 16, 32, 64], [8, 16, 32, 64, 128]) == {1: 0, 2: 1, 3: 2, 4: 3}
    assert stride_matched_levels([8, 16, 32], [4, 8, 16, 32, 64]) == {0: 1, 1: 2, 2: 3}
    assert stride_matched_levels([4], [8]) == {}


def test_the_teachers_own_normalisation_is_what_its_preprocessor_gives_on_the_raw_images():
    """Student-preprocessed images (pytorch style, RGB, two sizes: padding) re-normalised for a
    caffe-style teacher equal the teacher preprocessor's own output on the same raw images."""
    from mmdet.models.data_preprocessors import DetDataPreprocessor
    from mmdet.testing import demo_mm_inputs

    from fcfd_mm.algorithms.teacher_inputs import TeacherNormalization
    student = DetDataPreprocessor(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
                                  pad_size_divisor=32)
    teacher = DetDataPreprocessor(mean=[102.9801, 115.9465, 122.7717], std=[1.0, 1.0, 1.0], bgr_to_rgb=False,
                                  pad_size_divisor=32)
    packed = demo_mm_inputs(batch_size=2, image_shapes=[(3, 70, 50), (3, 64, 96)], num_items=[1, 1])
    s_data, t_data = student(dict(packed), False), teacher(dict(packed), False)
    convert = TeacherNormalization.between(student, teacher)
    assert convert is not None and convert.flip
    out = convert(s_data['inputs'], s_data['data_samples'])
    torch.testing.assert_close(out, t_data['inputs'], rtol=1e-5, atol=1e-3)
    # the same normalisation: nothing to convert, the student's tensor goes to the teacher as it is
    same = DetDataPreprocessor(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True)
    assert TeacherNormalization.between(student, same) is None
    # a teacher config without normalisation (the default preprocessor, as in MMRazor's configs that
    # preprocess at the algorithm: the classification configs) also takes the batch as it is
    assert TeacherNormalization.between(student, DetDataPreprocessor()) is None


def _hybrid_reference(alg, inputs, s_neck, context_levels):
    """Target and st outputs through mmdet's FCOS head, flattened by hand: ``(target, st)`` rows of
    the teacher head's levels ``context_levels``, the bridged student levels where they match."""
    neck = alg.fcfd_neck
    t_neck = alg.teacher.extract_feat(inputs)
    hybrid = list(t_neck)
    for lv, b in zip(neck.levels, neck.bridges_st):
        hybrid[neck.teacher_level[lv]] = b(s_neck[lv])
    head = alg.teacher.bbox_head
    strides = [s[0] for s in head.prior_generator.strides]

    def rows(feats):
        cls, reg, ctr = head(tuple(feats))
        keep = list(context_levels)
        return dict(cls=flat([cls[i] for i in keep], head.num_classes),
                    reg=flat([reg[i] / strides[i] for i in keep], 4), centerness=flat([ctr[i] for i in keep], 1))
    with torch.no_grad():
        target = rows(t_neck)
    return target, rows(hybrid)


@pytest.mark.parametrize('student_path, level_map', [(RETINA, {i: i for i in range(5)}),
                                                     (FRCNN, {1: 0, 2: 1, 3: 2, 4: 3})])
def test_an_fcos_teacher_distils_a_student_of_another_family_on_path_st(student_path, level_map):
    """FCOS teacher, RetinaNet / Faster R-CNN student: the adapter is picked by itself, levels are
    paired by stride, only path st runs, its terms equal the FCOS head's rows computed by hand
    (locations weighted by the teacher's score), gradients reach the bridges and never the teacher."""
    from fcfd_mm.adapters import CrossFamilyHeadAdapter
    alg = build_pair(small_model_cfg(student_path), small_model_cfg(FCOS))
    neck = alg.fcfd_neck
    assert isinstance(alg.head_adapter, CrossFamilyHeadAdapter)
    assert neck.teacher_level == level_map and neck.paths == ('st',) and len(neck.bridges_ts) == 0
    assert alg.teacher_normalization is not None  # caffe-style teacher, pytorch-style student
    assert alg.hybrid_names() == ['st']
    data = random_batch(alg, size=128)
    inputs, samples = data['inputs'], data['data_samples']
    losses = alg.loss(inputs, samples)
    terms = {k for k in losses if 'loss_fcfd' in k}
    assert terms == {'distill.loss_fcfd_app', 'distill.loss_fcfd_cls_st', 'distill.loss_fcfd_reg_st',
                     'distill.loss_fcfd_centerness_st'}
    # the reference, in float64 after the step that started the bridges (their statistics are set)
    alg.double()
    x = inputs.double()
    raw = x * alg.student.data_preprocessor.std.double() + alg.student.data_preprocessor.mean.double()
    t_in = (raw.flip(1) - alg.teacher.data_preprocessor.mean.double()) / alg.teacher.data_preprocessor.std.double()
    s_neck = alg.student.extract_feat(x)
    context = sorted(level_map.values())
    target, st = _hybrid_reference(alg, t_in, s_neck, context)
    w = torch.sigmoid(target['cls']).max(1).values * torch.sigmoid(target['centerness'][:, 0])
    alg.float()
    losses = {k: v for k, v in alg.loss(inputs, samples).items() if k in terms}
    torch.testing.assert_close(losses['distill.loss_fcfd_cls_st'].double(), sigmoid_kd_ref(st['cls'], target['cls'], w),
                               rtol=2e-4, atol=1e-6)
    torch.testing.assert_close(losses['distill.loss_fcfd_centerness_st'].double(),
                               sigmoid_kd_ref(st['centerness'], target['centerness'], w), rtol=2e-4, atol=1e-6)
    mse = (((st['reg'] - target['reg']) ** 2).mean(1) * w).sum() / w.sum()
    torch.testing.assert_close(losses['distill.loss_fcfd_reg_st'].double(), mse, rtol=2e-4, atol=1e-6)
    total, _ = alg.parse_losses(losses)
    alg.zero_grad()
    total.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for b in neck.bridges_st for p in b.parameters()
               if p.requires_grad)
    assert all(p.grad is None for p in alg.teacher.parameters())
    alg.eval()
    with torch.no_grad():
        predicted = alg.predict_hybrid('st', inputs, samples)
    assert all('pred_instances' in s for s in predicted)


@pytest.mark.parametrize('paths', [('s', 'st'), ('st', 'ts'), ('s', 'st', 'ts')])
def test_paths_s_and_ts_are_refused_for_a_cross_family_pair_with_the_reason(paths):
    with pytest.raises(ValueError, match=r"not defined for a cross-family pair .*row by row.*paths=\('st',\)"):
        build_pair(small_model_cfg(RETINA), small_model_cfg(FCOS), fcfd=dict(neck=dict(paths=paths)))


def test_a_roi_teacher_and_stage_switch_points_are_refused_for_a_cross_family_pair():
    from fcfd_mm.adapters import UnsupportedModelError
    with pytest.raises(UnsupportedModelError, match='has a RoI head.*RoIs that the student of another family'):
        build_pair(small_model_cfg(RETINA), small_model_cfg(FRCNN))
    with pytest.raises(ValueError, match='CrossFamilyHeadAdapter has no backbone-stage switch point'):
        build_pair(small_model_cfg(RETINA), small_model_cfg(FCOS), fcfd=dict(stages=dict()))


def test_levels_of_a_cross_family_pair_must_have_a_teacher_level_of_their_stride():
    with pytest.raises(ValueError, match=r'student level\(s\) \[0\] have no teacher level of the same stride'):
        build_pair(small_model_cfg(FRCNN), small_model_cfg(FCOS), fcfd=dict(neck=dict(levels=(0, 1))))
