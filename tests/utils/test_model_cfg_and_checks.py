import pytest
from mmengine.config import Config

from fcfd_mm.utils import FCFDUserError, check_data_roots, resolve_model_cfg


def test_local_config_path_resolves_to_its_scoped_model():
    model = resolve_model_cfg(dict(cfg_path='configs/demo/faster-rcnn_demo_student.py'), 'model.architecture')
    assert model.type == 'FasterRCNN' and model._scope_ == 'mmdet' and model.backbone.base_channels == 16
    assert model.train_cfg.rpn is not None  # a ConfigDict, as mmdet expects


def test_package_paths_and_built_dicts_pass_through():
    cfg = dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', pretrained=False)
    assert resolve_model_cfg(cfg, 'x') is cfg
    typed = dict(type='FasterRCNN')
    assert resolve_model_cfg(typed, 'x') is typed


def test_missing_local_config_is_named():
    with pytest.raises(FileNotFoundError, match=r'model\.teacher\.cfg_path .*nope\.py'):
        resolve_model_cfg(dict(cfg_path='configs/nope.py'), 'model.teacher')


def test_missing_annotation_file_is_named(tmp_path):
    cfg = Config.fromfile('configs/demo/faster-rcnn_demo_student.py')
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    with pytest.raises(FCFDUserError, match='ann_file .*instances_train.json'):
        check_data_roots(cfg, loaders=('train_dataloader',))
