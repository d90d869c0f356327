"""Head adapters, one module per head family, registered in ``HEAD_ADAPTERS``."""
from .base import HeadAdapter
from .classifier import ClassifierHeadAdapter
from .dense_head import DenseHeadAdapter
from .roi_box_head import RoIBoxHeadAdapter

__all__ = ['HeadAdapter', 'RoIBoxHeadAdapter', 'DenseHeadAdapter', 'ClassifierHeadAdapter']
