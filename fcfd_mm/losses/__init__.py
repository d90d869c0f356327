from .distribution_kl import DistributionKLLoss
from .row_loss import RowLoss
from .sigmoid_kd import SigmoidKDLoss
from .weighted_mse import WeightedMSELoss

__all__ = ['RowLoss', 'SigmoidKDLoss', 'WeightedMSELoss', 'DistributionKLLoss']
from .experimental import QualityFocalKDLoss, RelativeMSELoss, SoftPositiveNorm  # noqa: E402

__all__ += ['QualityFocalKDLoss', 'SoftPositiveNorm', 'RelativeMSELoss']
