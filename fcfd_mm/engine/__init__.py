"""MMEngine components: optimizer wrappers for FCFD's training dynamics."""
from .optim_wrappers import FCFDAmpOptimWrapper, FCFDOptimWrapper

__all__ = ['FCFDOptimWrapper', 'FCFDAmpOptimWrapper']
