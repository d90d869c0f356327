from .fcfd_core import PATHS, FCFDNeckSwitch, FCFDStageSwitch
from .fcfd_distill import FCFDDistill
from .ghost_bn import GhostBNStatistics
from .pair import FCFDPair
from .step import FCFDStep

__all__ = ['PATHS', 'FCFDNeckSwitch', 'FCFDStageSwitch', 'FCFDDistill', 'FCFDPair', 'FCFDStep', 'GhostBNStatistics']
