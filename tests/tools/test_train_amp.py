"""tools/train.py --amp: which optimiser wrapper the config gets, with and without a GPU (the FCFD demo
config's unused-bridge skip is a hook, FCFDUnusedBridgesHook, so it stays under either)."""
from tests.conftest import demo_data_options


def _cfg(tiny_demo_data, tmp_path, *extra):
    from tools.train import build_cfg, parse_args
    return build_cfg(parse_args(['configs/demo/fcfd_frcnn_demo.py', '--work-dir', str(tmp_path), *extra,
                                 '--cfg-options', 'model.teacher_ckpt=None', *demo_data_options(tiny_demo_data)]))


def test_amp_on_a_cpu_only_machine_is_bf16_autocast(tiny_demo_data, tmp_path, monkeypatch):
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    wrapper = _cfg(tiny_demo_data, tmp_path, '--amp').optim_wrapper
    assert wrapper.type == 'CPUAmpOptimWrapper' and wrapper.dtype == 'bfloat16' and 'loss_scale' not in wrapper
    assert wrapper.clip_grad == dict(max_norm=10, norm_type=2)  # the rest of the config's wrapper is kept


def test_amp_with_a_gpu_is_mmdets_fp16_with_dynamic_loss_scaling(tiny_demo_data, tmp_path, monkeypatch):
    monkeypatch.setattr('torch.cuda.is_available', lambda: True)
    wrapper = _cfg(tiny_demo_data, tmp_path, '--amp').optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper' and wrapper.loss_scale == 'dynamic' and 'dtype' not in wrapper


def test_without_amp_the_config_wrapper_is_unchanged(tiny_demo_data, tmp_path):
    assert _cfg(tiny_demo_data, tmp_path).optim_wrapper.type == 'OptimWrapper'


def test_an_fcfd_config_without_the_runtime_hooks_is_warned_about(tiny_demo_data, tmp_path, capsys):
    """The FCFD runtime hooks are what keeps a run checked (teacher), drawing its stage paths per
    iteration and SGD off the unused bridges; tools/train.py names the ones a config lacks."""
    from tools.train import build_cfg, parse_args
    _cfg(tiny_demo_data, tmp_path)
    assert 'warning' not in capsys.readouterr().err
    build_cfg(parse_args(['configs/demo/fcfd_frcnn_demo.py', '--work-dir', str(tmp_path), '--cfg-options',
                          'model.teacher_ckpt=None', 'custom_hooks=[]', *demo_data_options(tiny_demo_data)]))
    err = capsys.readouterr().err
    assert 'FCFDTeacherCheckHook, FCFDProgressHook, FCFDUnusedBridgesHook' in err and 'fcfd_runtime.py' in err
    _cfg(tiny_demo_data, tmp_path, '--no-teacher-check')
    assert 'warning' not in capsys.readouterr().err  # switched off on purpose
