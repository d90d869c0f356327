from .checks import FCFDUserError, check_checkpoint_file, check_config_file, check_data_roots

__all__ = ['FCFDUserError', 'check_checkpoint_file', 'check_config_file', 'check_data_roots']
