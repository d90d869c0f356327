from .fcfd_core import PATHS, FCFDNeckSwitch, FCFDStageSwitch
from .fcfd_distill import FCFDDistill
from .ghost_bn import GhostBNStatistics

__all__ = ['PATHS', 'FCFDNeckSwitch', 'FCFDStageSwitch', 'FCFDDistill', 'GhostBNStatistics']
