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
