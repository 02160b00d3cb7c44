"""Networks built from :mod:`toeplitznet.layers`.

* :func:`structured_mlp` -- deep DCNN / DTNN / Toeplitz / low-rank / ACDC /
  LDR / dense networks (thesis Section 4.5.1, ECAI Figures 2 and 4).
* :func:`ldr_net` -- one LDR layer + one dense layer (Thomas et al. 2018;
  thesis Table 4.1).
* :class:`ScatteringNet` -- scattering + batch norm + DC / LDR head (thesis
  Table 4.5).
* :class:`Standardize`, :class:`InputNormalized` -- per-channel input
  standardisation inside the model (inputs stay in pixel space).
* :func:`count_parameters`, :func:`build_model` (config-dict registry).
"""

from .mlp import FAMILIES, StructuredMLP, build_stack, ldr_net, make_activation, make_layer, structured_mlp
from .normalize import InputNormalized, Standardize
from .registry import MODEL_FAMILIES, build_model
from .scattering import ScatteringNet, scattering_feature_count
from .utils import count_parameters

__all__ = [
    "FAMILIES",
    "InputNormalized",
    "MODEL_FAMILIES",
    "ScatteringNet",
    "Standardize",
    "StructuredMLP",
    "build_model",
    "build_stack",
    "count_parameters",
    "ldr_net",
    "make_activation",
    "make_layer",
    "scattering_feature_count",
    "structured_mlp",
]
