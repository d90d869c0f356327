"""FCFD's losses, registered into MMRazor's ``MODELS``: the output distances in mmdet's convention
(``RowLoss`` and its subclasses), the scale-free appearance distance (``RelativeMSELoss``) and the
loss forms under study (``experimental``)."""
from .distribution_kl import DistributionKLLoss
from .experimental import QualityFocalKDLoss, SoftPositiveNorm
from .relative_mse import RelativeMSELoss
from .row_loss import RowLoss
from .sigmoid_kd import SigmoidKDLoss
from .weighted_mse import WeightedMSELoss

__all__ = ['RowLoss', 'SigmoidKDLoss', 'WeightedMSELoss', 'DistributionKLLoss', 'RelativeMSELoss',
           'QualityFocalKDLoss', 'SoftPositiveNorm']
