"""Expectation over Transformation (Athalye et al., ICML 2018) for randomised models (thesis Appendix C).

Two forms, for two kinds of consumers:

* :func:`eot_loss` - the expectation of the *loss*, ``mean_s loss(model_s(x), y)`` over ``samples`` forward
  passes (each pass draws the model's own noise). Its gradient is the EoT gradient; :func:`~toeplitznet.attacks.pgd`
  uses it through ``eot_samples``.
* :class:`EoT` - a module whose output is ``log(mean_s softmax(model_s(x)))``: log-probabilities of the
  averaged predictive distribution, returned as logits. It makes a randomised model look deterministic-ish to
  libraries that only take a model (torchattacks, foolbox); its argmax is the EoT prediction.

The two are not the same objective (mean of the losses vs loss of the mean prediction). On a deterministic
model ``eot_loss`` is the plain loss and ``EoT(model, k)(x)`` is ``log_softmax(model(x))``: the same predictions
and cross-entropy as the model (logit *differences* are unchanged too, so margin losses agree).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ._common import ce_loss

__all__ = ["EoT", "eot_loss"]


def eot_loss(model: nn.Module, x: Tensor, y: Tensor, samples: int,
             loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None) -> Tensor:
    """Per-example expected loss ``(1/samples) * sum_s loss_fn(model(x), y)`` over ``samples`` forward passes.

    ``loss_fn(logits, y)`` must return one value per example (default: cross-entropy on the true labels).
    Differentiable in ``x`` (and the parameters); every pass draws the model's own randomness, so the result is
    reproducible under a fixed global seed (``torch.manual_seed``). Memory grows with ``samples`` (one graph per
    pass); :func:`~toeplitznet.attacks.pgd` instead backpropagates pass by pass.
    """
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    loss_fn = ce_loss if loss_fn is None else loss_fn
    total = None
    for _ in range(int(samples)):
        lv = loss_fn(model(x), y)
        total = lv if total is None else total + lv
    return total / samples


class EoT(nn.Module):
    """``EoT(model, samples)``: a randomised model averaged over ``samples`` draws.

    ``forward(x) = log(mean_s softmax(model(x)))`` (computed as a log-sum-exp of log-softmaxes), i.e. the
    log-probabilities of the averaged predictive distribution, returned in the place of logits so that any
    attack or evaluation that takes logits can use it. Gradients flow through all ``samples`` passes. The
    wrapped model's ``train``/``eval`` mode is the wrapper's (it is a submodule).
    """

    def __init__(self, model: nn.Module, samples: int):
        super().__init__()
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        self.model = model
        self.samples = int(samples)

    def forward(self, x: Tensor) -> Tensor:
        logp = torch.stack([torch.log_softmax(self.model(x), dim=1) for _ in range(self.samples)])
        return torch.logsumexp(logp, dim=0) - math.log(self.samples)

    def extra_repr(self) -> str:
        return f"samples={self.samples}"
