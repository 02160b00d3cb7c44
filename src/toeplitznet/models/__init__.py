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
* :func:`yt8m_video_model` (:class:`YT8MVideoModel`) -- the video-level YouTube-8M models of thesis Table 4.3;
  :func:`yt8m_frame_model` (:class:`YT8MFrameModel`) -- the frame-level models of Tables 4.4, B.1-B.3 and
  Figures B.3-B.9 (building blocks in ``yt8m_pooling``, ``yt8m_heads``, ``yt8m_compact``).
* :func:`count_parameters`, :func:`build_model` (config-dict registry).
"""

from .mlp import FAMILIES, StructuredMLP, build_stack, ldr_net, make_activation, make_layer, structured_mlp
from .normalize import InputNormalized, Standardize
from .registry import MODEL_FAMILIES, build_model
from .resnet import resnet101
from .scattering import ScatteringNet, scattering_feature_count
from .utils import count_parameters
from .wide_resnet import WideBasic, WideResNet, wide_resnet
from .yt8m_frame import FRAME_VARIANTS, YT8MFrameModel, yt8m_frame_model
from .yt8m_video import VIDEO_VARIANTS, YT8MVideoModel, yt8m_video_model

__all__ = [
    "FAMILIES",
    "FRAME_VARIANTS",
    "InputNormalized",
    "MODEL_FAMILIES",
    "ScatteringNet",
    "Standardize",
    "StructuredMLP",
    "VIDEO_VARIANTS",
    "WideBasic",
    "WideResNet",
    "YT8MFrameModel",
    "YT8MVideoModel",
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
    "yt8m_frame_model",
    "yt8m_video_model",
]
