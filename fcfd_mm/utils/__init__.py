from .checks import (
    CheckpointNotFoundError,
    FCFDUserError,
    check_checkpoint_file,
    check_config_file,
    check_data_roots,
    is_remote_checkpoint,
)
from .metrics import read_test_metric
from .model_cfg import resolve_model_cfg

__all__ = ['CheckpointNotFoundError', 'FCFDUserError', 'check_checkpoint_file', 'check_config_file', 'check_data_roots',
           'is_remote_checkpoint', 'read_test_metric', 'resolve_model_cfg']
