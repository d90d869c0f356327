from .fcfd_bridge import FCFDBridge

__all__ = ['FCFDBridge']
