from .fcfd_core import PATHS, FCFDNeckSwitch
from .fcfd_distill import FCFDDistill

__all__ = ['PATHS', 'FCFDNeckSwitch', 'FCFDDistill']
