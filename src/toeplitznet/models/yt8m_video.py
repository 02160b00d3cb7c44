"""Video-level YouTube-8M models of thesis Chapter 4, Table 4.3 (L4896-4927) = ECAI 2020 Table 4.

Input: float32 ``[B, 1152]`` (``mean_rgb`` 1024 then ``mean_audio`` 128, no normalisation: the author's Chapter 4
framework feeds the raw averages, research note); output: probabilities ``[B, n_classes]`` (sigmoid of the
logits, which :meth:`YT8MVideoModel.logits` returns).

Variants (the author's ``neuralnet_v1`` models, research note; built with
:func:`~toeplitznet.models.mlp.structured_mlp`):

* ``"baseline"`` -- dense ``1152 -> 1152`` (ReLU) ``-> n_classes``: 5,781,142 weights at 3862 classes
  (thesis "5.7M", truncated).
* ``"4dc"`` / ``"32dc"`` -- 4 / 32 hidden DC layers ``1152 -> 1152`` (``y = D C x + b``, Leaky ReLU 0.5) and a DC
  classifier ``1152 -> 3862`` that zero-pads its input to 3862 (``wide="pad"``): ``3 * 1152`` per hidden layer
  + ``3 * 3862`` = 25,410 and 122,178 (ECAI's exact counts; thesis "25K", "122K").
* ``"4dc_1fc"`` -- 4 DC layers + a dense ``1152 x 3862`` classifier: 4,466,710 ("4.46M").
* ``"dcnn"`` -- any ``depth`` and ``classifier`` (``"dc"`` or ``"dense"``).

ECAI's percentages of the baseline (0.44, 2.11, 77) are these exact counts over 5,781,142, rounded (0.4395 ->
0.44; truncation would print 0.43).

Initialisation: ``init="thesis"`` (default) keeps the layers' defaults (DC: thesis Section 4.4.1; dense: torch's);
``init="author"`` uses the author's code: DC circulant ``N(0, (alpha / sqrt(n_in + n_out))^2)`` with ``alpha =
1.5``, dense ``N(0, 1/n_in)`` hidden and ``N(0, 1/n_classes)`` classifier, biases ``N(0, 0.01^2)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..layers import DiagonalCirculant
from .mlp import structured_mlp

__all__ = ["YT8MVideoModel", "VIDEO_VARIANTS", "yt8m_video_model"]

#: variant -> (family, depth, classifier)
VIDEO_VARIANTS = {
    "baseline": ("dense", 1, "dense"),
    "4dc": ("dcnn", 4, "dc"),
    "32dc": ("dcnn", 32, "dc"),
    "4dc_1fc": ("dcnn", 4, "dense"),
    "dcnn": ("dcnn", None, "dc"),
}


class YT8MVideoModel(nn.Module):
    """Wraps a logit network: ``forward(x) = sigmoid(net(x))`` for ``x`` float ``[B, n_in]``."""

    def __init__(self, net: nn.Module, n_in: int, n_classes: int, variant: str):
        super().__init__()
        self.net, self.n_in, self.n_classes, self.variant = net, int(n_in), int(n_classes), variant

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != self.n_in:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"video-level models take float [B, {self.n_in}] inputs, got {shape}")
        if not x.is_floating_point():
            raise TypeError(f"video-level inputs must be floating point, got {x.dtype}")
        return self.net(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


@torch.no_grad()
def _author_init(net: nn.Module, n_classes: int, alpha: float) -> None:
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    for m in net.modules():
        if isinstance(m, DiagonalCirculant):
            m.circ.normal_(0.0, alpha / math.sqrt(m.n_in + m.n_out))
            if m.bias is not None:
                m.bias.normal_(0.0, 0.01)
    for i, m in enumerate(linears):
        last = i == len(linears) - 1 and m.out_features == n_classes
        m.weight.normal_(0.0, 1.0 / math.sqrt(n_classes if last else m.in_features))
        if m.bias is not None:
            m.bias.normal_(0.0, 0.01)


def yt8m_video_model(
    variant: str = "baseline",
    *,
    n_classes: int = 3862,
    n_in: int = 1152,
    hidden: int | None = None,
    depth: int | None = None,
    classifier: str | None = None,
    slope: float = 0.5,
    init: str = "thesis",
    alpha: float = 1.5,
) -> YT8MVideoModel:
    """A Table 4.3 model (see the module docstring).  ``hidden``: width of the baseline's hidden layer (default
    ``n_in``); ``depth``/``classifier``: only for ``variant="dcnn"``; ``slope``: Leaky-ReLU slope of the DCNNs."""
    if variant not in VIDEO_VARIANTS:
        raise ValueError(f"unknown YouTube-8M video variant {variant!r}; choose from {sorted(VIDEO_VARIANTS)}")
    if init not in ("thesis", "author"):
        raise ValueError(f"init must be 'thesis' or 'author', got {init!r}")
    family, d, clf = VIDEO_VARIANTS[variant]
    if variant == "dcnn":
        if depth is None:
            raise TypeError("variant 'dcnn' needs depth")
        d, clf = int(depth), clf if classifier is None else classifier
    elif depth is not None or classifier is not None:
        raise TypeError(f"depth/classifier only apply to variant 'dcnn', not the preset {variant!r}")
    if clf not in ("dc", "dense"):
        raise ValueError(f"classifier must be 'dc' or 'dense', got {clf!r}")
    if family == "dense":
        net = structured_mlp("dense", n_in=n_in, n_classes=n_classes, depth=1,
                             width=n_in if hidden is None else int(hidden), activation="relu")
    else:
        if hidden is not None:
            raise TypeError("hidden only applies to the baseline (DC layers keep the input width)")
        net = structured_mlp("dcnn", n_in=n_in, n_classes=n_classes, depth=d, activation="leaky_relu", slope=slope,
                             last_layer="structured" if clf == "dc" else "dense", order="dc", wide="pad")
    if init == "author":
        _author_init(net, n_classes, alpha)
    return YT8MVideoModel(net, n_in, n_classes, variant)
