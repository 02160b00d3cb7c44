"""Robustness diagnostics of thesis Section 5.5.

* :func:`jacobian_norm` -- per-example spectral / Frobenius norm of the input-Jacobian of the logits (Figure 5.4).
* :func:`certified_radius`, :func:`certified_accuracy`, :func:`logit_margin` -- Lipschitz-margin l2 certificates
  (Tsuzuku et al. 2018), reported beside Table 5.3 (not in the thesis).
* :class:`NoisyInput`, :func:`sample_noise` -- noise injection on the image (Appendices C and D).
"""

from .certify import certified_accuracy, certified_radius, logit_margin
from .jacobian import jacobian_norm
from .noise import NoisyInput, sample_noise, sd_on_unit_scale, uniform_sd

__all__ = ["jacobian_norm", "certified_radius", "certified_accuracy", "logit_margin", "NoisyInput", "sample_noise", "sd_on_unit_scale",
           "uniform_sd"]
