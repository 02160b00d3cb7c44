"""Spectral-norm bounds and estimates of 2-D convolution layers.

Every function takes a kernel of shape ``(cout, cin, kh, kw)`` (the layout of
:class:`torch.nn.Conv2d`) and concerns the linear operator ``x -> conv2d(x, kernel)``.

* :func:`lipbound` - thesis Theorem 5.5 evaluated by PolyGrid (Araujo et al.,
  AAAI 2021); a certified upper bound only with ``certified=True``.
* :func:`lipbound_batched` - the same for many kernels at once.
* :func:`power_method` - power iteration on the zero-padded strided operator
  (Farnia et al., ICLR 2019); a lower estimate.
* :func:`sedghi2019` - exact singular values of the circular operator (Sedghi,
  Gupta & Long, ICLR 2019); exact for circular padding only.
* :func:`singla2019` - reshape bound (Singla & Feizi 2019 / ICLR 2021); upper bound.
* :func:`gram_iteration` - Gram iteration on the circular operator (Delattre et
  al., ICML 2023); upper bound of the circular sigma_1.
* :func:`gram_iteration_zero_padding` - Gram iteration on a circular embedding of
  the zero-padded operator; upper bound of the zero-padded sigma_1.
* :func:`exact_spectral_norm` - ARPACK (IRAM) value for the zero-padded strided
  operator; the reference ("ground truth") of the thesis.

:func:`network_bounds` applies any of them to every convolution of a model, and
:mod:`toeplitznet.bounds.timing` times them over whole networks (thesis Table 5.2).
"""

from .circular import (
    circular_embedding_size,
    circular_frequency_matrices,
    gram_iteration,
    gram_iteration_zero_padding,
    sedghi2019,
)
from .exact import conv_linear_operator, exact_spectral_norm
from .lipbound import lipbound, lipbound_batched, lipbound_certification_factor, polygrid
from .network import BOUND_METHODS, ConvLayerInfo, collect_conv_layers, layer_bound, network_bounds
from .power_method import conv_operator_shapes, power_method
from .singla import singla2019, singla_reshapes
from .timing import PreparedNetwork, make_bound_fn, prepare_network, time_fn, time_network_bounds

__all__ = [
    "lipbound",
    "lipbound_batched",
    "lipbound_certification_factor",
    "polygrid",
    "power_method",
    "conv_operator_shapes",
    "sedghi2019",
    "gram_iteration",
    "gram_iteration_zero_padding",
    "circular_embedding_size",
    "circular_frequency_matrices",
    "singla2019",
    "singla_reshapes",
    "exact_spectral_norm",
    "conv_linear_operator",
    "network_bounds",
    "collect_conv_layers",
    "layer_bound",
    "ConvLayerInfo",
    "BOUND_METHODS",
    "PreparedNetwork",
    "prepare_network",
    "make_bound_fn",
    "time_fn",
    "time_network_bounds",
]
