r"""Lipschitz-margin certificates (Tsuzuku, Sato & Sugiyama, NeurIPS 2018), reported beside thesis Table 5.3.

Not in the thesis. If the logits ``f`` are ``L``-Lipschitz in l2 (``||f(x) - f(x')||_2 <= L ||x - x'||_2``, e.g.
:func:`toeplitznet.regularizers.product_of_bounds`), every logit difference ``f_y - f_j`` is ``sqrt(2) L``-Lipschitz,
because ``|a_y - a_j| <= sqrt(2) sqrt(a_y^2 + a_j^2) <= sqrt(2) ||a||_2``. Hence the margin
``M(x) = f_y(x) - max_{j != y} f_j(x)`` decreases by at most ``sqrt(2) L ||delta||`` and the prediction cannot change
within the l2 radius ``M(x) / (sqrt(2) L)``. The ``sqrt(2)`` is tight: for a 2-class linear model with rows
``w`` and ``-w`` the radius equals the exact distance to the decision boundary.
"""

from __future__ import annotations

import math
from typing import Dict, Sequence, Union

import torch

__all__ = ["certified_radius", "certified_accuracy", "logit_margin"]

Number = Union[float, torch.Tensor]


def logit_margin(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``f_y - max_{j != y} f_j`` per example (negative when misclassified, 0 on a tie)."""
    if logits.dim() != 2 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape (N, n_classes >= 2), got {tuple(logits.shape)}")
    labels = labels.long().view(-1, 1)
    true = logits.gather(1, labels).squeeze(1)
    others = logits.scatter(1, labels, float("-inf"))
    return true - others.amax(dim=1)


def certified_radius(logits: torch.Tensor, labels: torch.Tensor, lipschitz: Number) -> torch.Tensor:
    """l2 radius ``max(M, 0) / (sqrt(2) L)`` within which the prediction is certified (Tsuzuku et al. 2018).

    ``M`` is :func:`logit_margin`; a misclassified (or tied) example gets radius 0 and is not certified.
    ``lipschitz`` is an l2 Lipschitz constant of the logit map (scalar or one per example).
    """
    lip = torch.as_tensor(lipschitz, dtype=logits.dtype, device=logits.device)
    if bool((lip <= 0).any()):
        raise ValueError("lipschitz must be positive")
    margin = logit_margin(logits.detach(), labels)
    return margin.clamp_min(0) / (math.sqrt(2.0) * lip)


def certified_accuracy(logits: torch.Tensor, labels: torch.Tensor, lipschitz: Number,
                       radii: Sequence[float] = (0.1, 0.25, 0.5)) -> Dict[float, float]:
    """``{r: fraction of examples correctly classified with certified radius >= r}`` (``r = 0``: accuracy
    without ties)."""
    rad = certified_radius(logits, labels, lipschitz)
    ok = logit_margin(logits.detach(), labels) > 0
    n = max(int(rad.numel()), 1)
    return {float(r): float((ok & (rad >= float(r))).sum()) / n for r in radii}
