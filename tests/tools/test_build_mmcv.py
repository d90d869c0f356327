"""tools/build_mmcv.py: C++ standard from torch's headers, cache key, CUDA toolkit detection, install flow.

The toolkit tests build fake toolkit trees in ``tmp_path`` with the file layout of NVIDIA's pip wheels
(``site-packages/nvidia/cu13/{bin,include,lib,nvvm}``) and of a full toolkit (``lib64``); nothing is compiled.
"""
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import build_mmcv  # noqa: E402

# The files of a CUDA 13 toolkit as NVIDIA's pip wheels lay them out (cuda-toolkit[nvcc,cccl] plus the
# cuBLAS / cuSPARSE / cuSOLVER wheels torch depends on).
PIP_LAYOUT = ('bin/nvcc', 'nvvm/bin/cicc', 'include/crt/host_config.h', 'include/cuda_runtime.h',
              'include/cccl/cub/cub.cuh', 'include/cccl/thrust/sort.h', 'include/cublas_v2.h', 'include/cusparse.h',
              'include/cusolverDn.h', 'lib/libcudart.so.13')


def make_toolkit(root: Path, cudart_version: int = 13000, files=PIP_LAYOUT, skip=()) -> Path:
    for rel in files:
        if not any(rel.startswith(s) for s in skip):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text('')
    (root / 'include').mkdir(parents=True, exist_ok=True)
    (root / 'include' / 'cuda_runtime_api.h').write_text(f'#pragma once\n#define CUDART_VERSION {cudart_version}\n')
    return root


def test_cxx_standard_matches_torch_headers():
    header = Path(torch.__file__).parent / 'include' / 'ATen' / 'ATen.h'
    wants_20 = 'C++20 or later' in header.read_text(errors='ignore')
    assert build_mmcv.cxx_standard_for_torch() == ('c++20' if wants_20 else 'c++17')


# the lines of mmcv 2.1.0's setup.py that set the standard for g++ and nvcc
SETUP_SNIPPET = """
                extra_compile_args['cxx'] = ['-std=c++17']
        if 'nvcc' in extra_compile_args and platform.system() != 'Windows':
            if parse_version(torch.__version__) <= parse_version('1.12.1'):
                extra_compile_args['nvcc'] += ['-std=c++14']
            else:
                extra_compile_args['nvcc'] += ['-std=c++17']
"""


def test_set_cxx_standard_covers_nvcc_and_is_idempotent():
    patched = build_mmcv.set_cxx_standard(SETUP_SNIPPET, 'c++20')
    assert "['-std=c++17']" not in patched and "['-std=c++14']" not in patched
    assert patched.count("-std=c++20") == 3
    assert "extra_compile_args['nvcc'] += ['-std=c++20']" in patched
    assert build_mmcv.set_cxx_standard(patched, 'c++20') == patched


def test_set_cxx_standard_fails_without_a_flag():
    with pytest.raises(build_mmcv.BuildError, match='no -std=c'):
        build_mmcv.set_cxx_standard("extra_compile_args = {'cxx': []}", 'c++20')


def test_cache_key_changes_with_torch_version(monkeypatch):
    a = build_mmcv.cache_key('2.1.0', '-O2', '0')
    monkeypatch.setattr(torch, '__version__', '9.9.9')
    assert build_mmcv.cache_key('2.1.0', '-O2', '0') != a
    assert build_mmcv.cache_key('2.1.0', '-O3', '0') != build_mmcv.cache_key('2.1.0', '-O2', '0')


def test_cache_key_names_cuda_and_arch_list(monkeypatch):
    monkeypatch.setenv('TORCH_CUDA_ARCH_LIST', '9.0')
    cpu = build_mmcv.cache_key('2.1.0', '-O2', '0')
    sm90 = build_mmcv.cache_key('2.1.0', '-O2', '1')
    monkeypatch.setenv('TORCH_CUDA_ARCH_LIST', '8.0;9.0')
    assert len({cpu, sm90, build_mmcv.cache_key('2.1.0', '-O2', '1')}) == 3
    assert build_mmcv.cache_key('2.1.0', '-O2', '0') == cpu  # the CPU key ignores the arch list


def test_missing_toolkit_parts(tmp_path):
    assert build_mmcv.missing_toolkit_parts(make_toolkit(tmp_path / 'full')) == []
    assert build_mmcv.missing_toolkit_parts(make_toolkit(tmp_path / 'a', skip=('include/cccl', ))) == [
        'nvidia-cuda-cccl']
    assert build_mmcv.missing_toolkit_parts(make_toolkit(tmp_path / 'b', skip=('lib/', 'nvvm/'))) == [
        'nvidia-nvvm', 'nvidia-cuda-runtime']
    # a full toolkit: lib64, cub outside cccl/
    full = ('bin/nvcc', 'nvvm/bin/cicc', 'include/crt/host_config.h', 'include/cuda_runtime.h', 'include/cub/cub.cuh',
            'include/cublas_v2.h', 'include/cusparse.h', 'include/cusolverDn.h', 'lib64/libcudart.so')
    assert build_mmcv.missing_toolkit_parts(make_toolkit(tmp_path / 'c', files=full)) == []


@pytest.mark.parametrize('define,version', [(13000, '13.0'), (12080, '12.8'), (11070, '11.7')])
def test_toolkit_version(tmp_path, define, version):
    assert build_mmcv.toolkit_version(make_toolkit(tmp_path, cudart_version=define)) == version


def test_toolkit_version_unknown(tmp_path):
    assert build_mmcv.toolkit_version(tmp_path) is None


def test_find_toolkit_in_pip_packages(tmp_path):
    site = tmp_path / 'site-packages'
    home = make_toolkit(site / 'nvidia' / 'cu13')
    (site / 'nvidia' / 'cu12').mkdir()  # another major's folder without nvcc is ignored
    tk = build_mmcv.find_cuda_toolkit({}, [tmp_path / 'other', site], None, '13.0',
                                      default_home=tmp_path / 'usr-local-cuda')
    assert (tk.home, tk.version, tk.source) == (home, '13.0', 'NVIDIA pip packages')


def test_pip_packages_come_before_path_nvcc_and_cuda_home_before_both(tmp_path):
    site = tmp_path / 'site'
    pip_home = make_toolkit(site / 'nvidia' / 'cu13')
    system = make_toolkit(tmp_path / 'opt' / 'cuda-13.1', cudart_version=13010)
    nvcc = str(system / 'bin' / 'nvcc')
    assert build_mmcv.find_cuda_toolkit({}, [site], nvcc, '13.0').home == pip_home
    assert build_mmcv.find_cuda_toolkit({'CUDA_HOME': str(system)}, [site], None, '13.0').home == system
    tk = build_mmcv.find_cuda_toolkit({'CUDA_PATH': str(system)}, [site], None, '13.0')
    assert (tk.home, tk.version, tk.source) == (system, '13.1', 'CUDA_PATH')


def test_path_nvcc_through_a_symlink(tmp_path):
    system = make_toolkit(tmp_path / 'opt' / 'cuda')
    (tmp_path / 'usr' / 'bin').mkdir(parents=True)
    os.symlink(system / 'bin' / 'nvcc', tmp_path / 'usr' / 'bin' / 'nvcc')
    tk = build_mmcv.find_cuda_toolkit({}, [], str(tmp_path / 'usr' / 'bin' / 'nvcc'), '13.0',
                                      default_home=tmp_path / 'none')
    assert tk.home == system and tk.source.startswith('nvcc on PATH')


def test_incomplete_or_wrong_major_toolkits_are_skipped(tmp_path):
    site = tmp_path / 'site'
    make_toolkit(site / 'nvidia' / 'cu13', skip=('include/cccl', ))  # nvcc without CCCL
    old = make_toolkit(tmp_path / 'cuda-12.8', cudart_version=12080)
    good = make_toolkit(tmp_path / 'cuda-13.0')
    tk = build_mmcv.find_cuda_toolkit({}, [site], str(old / 'bin' / 'nvcc'), '13.0', default_home=good)
    assert tk.home == good
    assert len(tk.skipped) == 2
    assert 'lacks nvidia-cuda-cccl' in tk.skipped[0] and 'is CUDA 12.8' in tk.skipped[1]


def test_no_toolkit_names_the_pip_command(tmp_path):
    with pytest.raises(build_mmcv.BuildError) as err:
        build_mmcv.find_cuda_toolkit({}, [tmp_path], None, '13.0', '13.0.3', default_home=tmp_path / 'none')
    assert 'pip install "cuda-toolkit[nvcc,cccl]==13.0.3"' in str(err.value)
    assert 'does not exist' in str(err.value)
    assert build_mmcv.toolkit_pip_spec('13.0', None) == 'cuda-toolkit[nvcc,cccl]==13.0.*'


def test_incomplete_cuda_home_is_an_error(tmp_path):
    site = tmp_path / 'site'
    make_toolkit(site / 'nvidia' / 'cu13')
    partial = make_toolkit(tmp_path / 'partial', skip=('include/cublas', 'include/cusparse', 'include/cusolver'))
    with pytest.raises(build_mmcv.BuildError, match='CUDA_HOME: .* lacks nvidia-cublas, nvidia-cusparse, '
                                                    'nvidia-cusolver') as err:
        build_mmcv.find_cuda_toolkit({'CUDA_HOME': str(partial)}, [site], None, '13.0')
    assert 'point CUDA_HOME at a full CUDA 13.0 toolkit, or unset it and pip install' in str(err.value)


def test_cudart_alias_for_pip_layout(tmp_path):
    pip_home = make_toolkit(tmp_path / 'cu13')
    (pip_home / 'lib' / 'libcudart.so.13.0.96').write_text('')
    assert build_mmcv.cudart_link_target(pip_home) == pip_home / 'lib' / 'libcudart.so.13'
    full = make_toolkit(tmp_path / 'full', files=('bin/nvcc', 'lib64/libcudart.so', 'lib64/libcudart.so.13'))
    assert build_mmcv.cudart_link_target(full) is None


def test_cuda_build_env(tmp_path):
    home = make_toolkit(tmp_path / 'cu13')
    tk = build_mmcv.CudaToolkit(home, '13.0', 'test')
    link = tmp_path / 'link'
    for _ in range(2):  # a second call replaces the alias
        env = build_mmcv.cuda_build_env(tk, link, {'PATH': '/usr/bin', 'LDFLAGS': '-Wl,-O1'})
    assert env['CUDA_HOME'] == str(home)
    assert env['PATH'].split(os.pathsep) == [str(home / 'bin'), '/usr/bin']
    assert env['LDFLAGS'] == f'-Wl,-O1 -L{link}'
    assert os.path.realpath(link / 'libcudart.so') == str(home / 'lib' / 'libcudart.so.13')
    full = make_toolkit(tmp_path / 'full', files=('bin/nvcc', 'lib64/libcudart.so'))
    assert 'LDFLAGS' not in build_mmcv.cuda_build_env(build_mmcv.CudaToolkit(full, '13.0', 'test'), link, {})


def test_cuda_arch_list():
    assert build_mmcv.cuda_arch_list({'TORCH_CUDA_ARCH_LIST': '9.0'}, [(8, 0)]) == '9.0'
    assert build_mmcv.cuda_arch_list({}, [(9, 0), (8, 0), (9, 0)]) == '8.0;9.0+PTX'
    assert build_mmcv.cuda_arch_list({'TORCH_CUDA_ARCH_LIST': 'native'}, [(12, 0)]) == '12.0+PTX'
    with pytest.raises(build_mmcv.BuildError, match='TORCH_CUDA_ARCH_LIST'):
        build_mmcv.cuda_arch_list({}, [])


def fake_torch(cuda='13.0'):
    """A CUDA build of torch on a machine without a GPU, as far as ``build_mmcv.install`` looks."""
    return SimpleNamespace(__version__=torch.__version__, version=SimpleNamespace(cuda=cuda),
                           cuda=SimpleNamespace(is_available=lambda: False, device_count=lambda: 0))


@pytest.fixture
def cuda_install(monkeypatch, tmp_path):
    """``install()`` with FORCE_CUDA=1 for sm_90 into an empty wheel cache, with pip and the ops check faked."""
    monkeypatch.setenv('FCFD_MMCV_CACHE', str(tmp_path / 'cache'))
    monkeypatch.setenv('FORCE_CUDA', '1')
    monkeypatch.setenv('TORCH_CUDA_ARCH_LIST', '9.0')
    installed = []
    monkeypatch.setattr(build_mmcv, 'installed_mmcv_version', lambda: None)
    monkeypatch.setattr(build_mmcv, 'install_wheel', installed.append)
    monkeypatch.setattr(build_mmcv, 'ops_work', lambda cuda=False: cuda)
    return installed


def test_cached_cuda_wheel_needs_no_toolkit(cuda_install, monkeypatch, tmp_path):
    key_dir = tmp_path / 'cache' / build_mmcv.cache_key('2.1.0', build_mmcv.DEFAULT_FLAGS, '1')
    key_dir.mkdir(parents=True)
    wheel = key_dir / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'
    wheel.write_text('')

    def no_toolkit(*args, **kwargs):
        raise AssertionError('a cached wheel must not look for a CUDA toolkit')
    monkeypatch.setattr(build_mmcv, 'find_cuda_toolkit', no_toolkit)
    assert build_mmcv.install('2.1.0', False, fake_torch()) == 0
    assert cuda_install == [wheel]


def test_cuda_build_without_toolkit_stops_before_download(cuda_install, monkeypatch, tmp_path):
    monkeypatch.setattr(build_mmcv, 'site_dirs', lambda: [tmp_path])
    monkeypatch.setattr(build_mmcv.shutil, 'which', lambda name: None)
    monkeypatch.delenv('CUDA_HOME', raising=False)
    monkeypatch.delenv('CUDA_PATH', raising=False)
    monkeypatch.setattr(build_mmcv, 'DEFAULT_CUDA_HOME', tmp_path / 'no-cuda')
    monkeypatch.setattr(build_mmcv, 'build_wheel', lambda *a, **k: pytest.fail('build started without a toolkit'))
    with pytest.raises(build_mmcv.BuildError, match=r'pip install "cuda-toolkit\[nvcc,cccl\]=='):
        build_mmcv.install('2.1.0', False, fake_torch())


def test_cuda_build_needs_a_cuda_torch_and_an_arch_list(cuda_install, monkeypatch):
    with pytest.raises(build_mmcv.BuildError, match='CPU-only build'):
        build_mmcv.install('2.1.0', False, fake_torch(cuda=None))
    monkeypatch.delenv('TORCH_CUDA_ARCH_LIST')
    with pytest.raises(build_mmcv.BuildError, match='set TORCH_CUDA_ARCH_LIST'):
        build_mmcv.install('2.1.0', False, fake_torch())


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

    def build(version, std, flags, force_cuda, out_dir, toolkit=None):
        built.append(out_dir)
        return out_dir / 'new.whl'

    checks = iter([False, True])  # the carried wheel fails, the fresh build works
    monkeypatch.setattr(build_mmcv, 'ops_work', lambda cuda=False: next(checks))
    monkeypatch.setattr(build_mmcv, 'build_wheel', build)
    assert build_mmcv.main() == 0 and len(built) == 1 and carried.is_file()
