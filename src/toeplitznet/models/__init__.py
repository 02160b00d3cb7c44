"""Networks built from :mod:`toeplitznet.layers`.

* :func:`structured_mlp` -- deep DCNN / DTNN / Toeplitz / low-rank / ACDC /
  LDR / dense networks (thesis Section 4.5.1, ECAI Figures 2 and 4).
* :func:`ldr_net` -- one LDR layer + one dense layer (Thomas et al. 2018;
  thesis Table 4.1).
* :class:`ScatteringNet` -- scattering + batch norm + DC / LDR head (thesis
  Table 4.5).
* :class:`Standardize`, :class:`InputNormalized` -- per-channel input
  standardisation inside the model (inputs stay in pixel space).
* :func:`wide_resnet` (:class:`WideResNet`, :class:`WideBasic`) -- Wide ResNet, and :func:`resnet101`
  (torchvision) -- the networks of thesis Section 5.5 (Lipschitz regularisation).
* :func:`count_parameters`, :func:`build_model` (config-dict registry).
"""

from .mlp import FAMILIES, StructuredMLP, build_stack, ldr_net, make_activation, make_layer, structured_mlp
from .normalize import InputNormalized, Standardize
from .registry import MODEL_FAMILIES, build_model
from .resnet import resnet101
from .scattering import ScatteringNet, scattering_feature_count
from .utils import count_parameters
from .wide_resnet import WideBasic, WideResNet, wide_resnet

__all__ = [
    "FAMILIES",
    "InputNormalized",
    "MODEL_FAMILIES",
    "ScatteringNet",
    "Standardize",
    "StructuredMLP",
    "WideBasic",
    "WideResNet",
    "build_model",
    "build_stack",
    "count_parameters",
    "ldr_net",
    "make_activation",
    "make_layer",
    "resnet101",
    "scattering_feature_count",
    "structured_mlp",
    "wide_resnet",
]
