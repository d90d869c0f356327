"""A detection-only environment: without mmpretrain, ``import fcfd_mm`` works and the detection
configs build; the classification parts say what to install."""
import subprocess
import sys

from tests.conftest import REPO

BLOCK_MMPRETRAIN = '''
import sys
class _NoMMPretrain:
    def find_spec(self, name, path=None, target=None):
        if name == 'mmpretrain' or name.startswith('mmpretrain.'):
            raise ImportError(f'No module named {name!r} (blocked by the test)')
sys.meta_path.insert(0, _NoMMPretrain())
'''


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', BLOCK_MMPRETRAIN + code], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={'PYTHONPATH': str(REPO), 'OMP_NUM_THREADS': '1',
                                                       'PATH': '/usr/bin:/bin'})


def test_import_and_detection_configs_work_without_mmpretrain():
    res = _run('''
import fcfd_mm
assert not fcfd_mm.HAS_MMPRETRAIN and 'mmpretrain' not in sys.modules
from mmengine.config import Config
from mmrazor.registry import MODELS
for name in ('configs/demo/fcfd_frcnn_demo.py', 'configs/fcfd_retina_r101_r50_coco.py'):
    cfg = Config.fromfile(name)
    cfg.model.teacher_ckpt = None
    alg = MODELS.build(cfg.model)
    print(name, type(alg).__name__, type(alg.head_adapter).__name__)
''')
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'fcfd_frcnn_demo.py FCFDDistill RoIBoxHeadAdapter' in res.stdout
    assert 'fcfd_retina_r101_r50_coco.py FCFDDistill DenseHeadAdapter' in res.stdout


def test_classification_parts_name_the_missing_package():
    res = _run('import fcfd_mm.models')
    assert res.returncode != 0 and 'requirements/classification.txt' in res.stderr
