"""Robustness diagnostics of thesis Section 5.5.

* :func:`jacobian_norm` -- per-example spectral / Frobenius norm of the input-Jacobian of the logits (Figure 5.4).
* :func:`certified_radius`, :func:`certified_accuracy`, :func:`logit_margin` -- Lipschitz-margin l2 certificates
  (Tsuzuku et al. 2018), reported beside Table 5.3 (not in the thesis).
* :class:`NoisyInput`, :func:`sample_noise` -- noise injection on the image (Appendices C and D).

Names are imported on first use (PEP 562), so that torch-free submodules (:mod:`.guarantee`'s Theorem C.2
arithmetic, read by the claims check) do not import torch.
"""

from importlib import import_module

#: exported name -> its submodule (the order is that of ``__all__``)
_WHERE = {"jacobian_norm": "jacobian", "certified_radius": "certify", "certified_accuracy": "certify",
          "logit_margin": "certify", "NoisyInput": "noise", "sample_noise": "noise", "sd_on_unit_scale": "noise",
          "uniform_sd": "noise"}

__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
