from .checks import FCFDUserError, check_checkpoint_file, check_config_file, check_data_roots
from .metrics import read_test_metric
from .model_cfg import resolve_model_cfg

__all__ = ['FCFDUserError', 'check_checkpoint_file', 'check_config_file', 'check_data_roots', 'read_test_metric',
           'resolve_model_cfg']
