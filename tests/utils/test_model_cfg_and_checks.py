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


# ------------------------------------------------------------------ config-not-found hints
def _named_configs(message):
    import re
    return re.findall(r'[\w./-]*configs/[\w./-]+\.py', message)


@pytest.mark.parametrize('path, expected', [
    ('configs/demo/frcnn_r18_demo.py', None),                                  # the old hint's own path
    ('configs/demo/fcfd_frcnn_dmo.py', 'configs/demo/fcfd_frcnn_demo.py'),     # a typo
    ('fcfd_retina_demo.py', 'configs/demo/fcfd_retina_demo.py'),               # the folder left out
    ('configs/classification/fcfd_cifar100_resnet32x4_shufflev1', None)])      # no .py
def test_config_not_found_names_existing_configs(path, expected):
    import os

    from fcfd_mm.utils import check_config_file
    with pytest.raises(FCFDUserError) as exc:
        check_config_file(path)
    named = _named_configs(str(exc.value).split('e.g.')[-1])
    assert named and all(os.path.isfile(p) for p in named), named
    if expected:
        assert expected in named


def test_every_config_path_named_in_code_exists():
    """Hints and tool tables name configs by path: each must be a shipped file."""
    import os
    from pathlib import Path
    repo = Path(__file__).resolve().parents[2]
    named = set()
    for folder in ('fcfd_mm', 'tools', 'benchmarks'):
        for src in (repo / folder).rglob('*.py'):
            named |= {p for p in _named_configs(src.read_text()) if '<' not in p and '{' not in p}
    assert 'configs/demo/fcfd_frcnn_demo.py' in named
    missing = sorted(p for p in named if not os.path.isfile(repo / p))
    assert not missing, missing


@pytest.mark.parametrize('path', ['open-mmlab://resnet50_v1c', 'openmmlab://resnet50_v1c', 'torchvision://resnet50',
                                  'modelzoo://resnet50', 'mmcls://resnet50', 'pavi://model.pth', 's3://bucket/t.pth',
                                  'petrel:s3://bucket/t.pth', 'http://host/t.pth', 'https://host/t.pth'])
def test_every_scheme_of_mmengines_checkpoint_loader_is_remote(path):
    from fcfd_mm.utils import check_checkpoint_file, is_remote_checkpoint
    assert is_remote_checkpoint(path) and check_checkpoint_file(path) == path


def test_a_scheme_registered_later_is_remote_and_a_missing_local_file_is_named(tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import CheckpointLoader

    from fcfd_mm.utils import CheckpointNotFoundError, check_checkpoint_file, is_remote_checkpoint
    assert not is_remote_checkpoint('myzoo://teacher') and not is_remote_checkpoint(str(tmp_path / 'a.pth'))
    monkeypatch.setattr(CheckpointLoader, '_schemes', dict(CheckpointLoader._schemes, **{'myzoo://': None}))
    assert is_remote_checkpoint('myzoo://teacher')
    with pytest.raises(CheckpointNotFoundError, match=r"teacher_ckpt file not found: '.*a\.pth' does not exist\. X"):
        check_checkpoint_file(str(tmp_path / 'a.pth'), 'teacher_ckpt', 'X')
    assert issubclass(CheckpointNotFoundError, (FileNotFoundError, FCFDUserError))
