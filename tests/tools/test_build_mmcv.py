"""tools/build_mmcv.py: the C++ standard comes from torch's headers; the cache key tracks torch."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import build_mmcv  # noqa: E402


def test_cxx_standard_matches_torch_headers():
    header = Path(torch.__file__).parent / 'include' / 'ATen' / 'ATen.h'
    wants_20 = 'C++20 or later' in header.read_text(errors='ignore')
    assert build_mmcv.cxx_standard_for_torch() == ('c++20' if wants_20 else 'c++17')


def test_cache_key_changes_with_torch_version(monkeypatch):
    a = build_mmcv.cache_key('2.1.0', '-O2', '0')
    monkeypatch.setattr(torch, '__version__', '9.9.9')
    assert build_mmcv.cache_key('2.1.0', '-O2', '0') != a
    assert build_mmcv.cache_key('2.1.0', '-O3', '0') != build_mmcv.cache_key('2.1.0', '-O2', '0')


def test_installed_mmcv_ops_work():
    assert build_mmcv.ops_work()


def test_gpu_ops_check_passes_only_where_the_ops_run_on_a_gpu():
    compile(build_mmcv.CHECK_OPS + build_mmcv.CHECK_CUDA_OPS, 'check', 'exec')
    assert build_mmcv.ops_work(cuda=True) == torch.cuda.is_available()  # this repo's install builds CUDA ops there


def test_a_carried_wheel_at_the_top_of_the_cache_is_used_and_kept_when_it_fails(tmp_path, monkeypatch):
    carried = tmp_path / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'
    carried.write_bytes(b'')
    installed, built = [], []
    monkeypatch.setenv('FCFD_MMCV_CACHE', str(tmp_path))
    monkeypatch.setattr(sys, 'argv', ['build_mmcv.py'])
    monkeypatch.setattr(build_mmcv, 'installed_mmcv_version', lambda: None)
    monkeypatch.setattr(build_mmcv, 'install_wheel', installed.append)
    monkeypatch.setattr(build_mmcv, 'ops_work', lambda cuda=False: True)
    assert build_mmcv.main() == 0 and installed == [carried]

    def build(version, std, flags, force_cuda, out_dir):
        built.append(out_dir)
        return out_dir / 'new.whl'

    checks = iter([False, True])  # the carried wheel fails, the fresh build works
    monkeypatch.setattr(build_mmcv, 'ops_work', lambda cuda=False: next(checks))
    monkeypatch.setattr(build_mmcv, 'build_wheel', build)
    assert build_mmcv.main() == 0 and len(built) == 1 and carried.is_file()
