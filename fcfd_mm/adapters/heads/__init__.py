"""Head adapters, one module per head family, registered in ``HEAD_ADAPTERS``."""
from .anchor_free import FCOSHeadAdapter, RTMDetHeadAdapter, YOLOXHeadAdapter
from .base import HeadAdapter
from .box_encodings import GuidedAnchorHeadAdapter, RepPointsHeadAdapter, SABLRetinaHeadAdapter
from .cascade import CascadeRoIHeadAdapter, HTCRoIHeadAdapter, SCNetRoIHeadAdapter
from .classifier import ClassifierHeadAdapter
from .cross_family import CrossFamilyHeadAdapter
from .dense_base import DenseHeadBase
from .dense_head import ATSSHeadAdapter, DenseHeadAdapter
from .gfl import GFLHeadAdapter
from .instance_seg import CondInstHeadAdapter, InstanceSegmentorHead, SOLOHeadAdapter, YOLACTHeadAdapter
from .quality_dense import (
    AutoAssignHeadAdapter,
    CenterNetHeadAdapter,
    CenterNetUpdateHeadAdapter,
    CentripetalHeadAdapter,
    CornerHeadAdapter,
    DDODHeadAdapter,
    FoveaHeadAdapter,
    NamedDenseHead,
    PAAHeadAdapter,
    RPNHeadAdapter,
    SoftmaxClassesHead,
    SSDHeadAdapter,
    TOODHeadAdapter,
    VFNetHeadAdapter,
    YOLOV3HeadAdapter,
)
from .roi_box_head import (
    GridRoIBoxHeadAdapter,
    MultiInstanceRoIBoxHeadAdapter,
    PISARoIBoxHeadAdapter,
    RoIBoxHeadAdapter,
    TridentRoIBoxHeadAdapter,
)

__all__ = ['HeadAdapter', 'DenseHeadBase', 'RoIBoxHeadAdapter', 'PISARoIBoxHeadAdapter', 'CascadeRoIHeadAdapter',
           'HTCRoIHeadAdapter', 'SCNetRoIHeadAdapter', 'MultiInstanceRoIBoxHeadAdapter',
           'TridentRoIBoxHeadAdapter', 'GridRoIBoxHeadAdapter',
           'DenseHeadAdapter', 'ATSSHeadAdapter', 'FCOSHeadAdapter', 'YOLOXHeadAdapter', 'RTMDetHeadAdapter',
           'GFLHeadAdapter', 'NamedDenseHead', 'DDODHeadAdapter', 'PAAHeadAdapter', 'TOODHeadAdapter',
           'VFNetHeadAdapter', 'AutoAssignHeadAdapter', 'FoveaHeadAdapter', 'CenterNetHeadAdapter',
           'CenterNetUpdateHeadAdapter', 'CornerHeadAdapter', 'CentripetalHeadAdapter',
           'YOLOV3HeadAdapter', 'SSDHeadAdapter', 'RPNHeadAdapter', 'SoftmaxClassesHead',
           'RepPointsHeadAdapter', 'SABLRetinaHeadAdapter', 'GuidedAnchorHeadAdapter', 'InstanceSegmentorHead',
           'CondInstHeadAdapter',
           'YOLACTHeadAdapter', 'SOLOHeadAdapter', 'ClassifierHeadAdapter', 'CrossFamilyHeadAdapter']
