"""Fully structured multi-layer networks (DCNN, DTNN, Toeplitz, low-rank,
ACDC, LDR, dense) and the single-LDR-layer network of Thomas et al. (2018).

Architecture of :func:`structured_mlp` (thesis Section 4.5.1, ECAI Section 6)::

    flatten -> [layer_1 -> act_1] -> ... -> [layer_depth -> act_depth] -> head

* ``depth`` hidden layers of the chosen family, of width ``width``
  (default ``n_in``; the first layer is non-square when ``width != n_in``).
* ``act_i`` is the activation after hidden layer ``i`` (1-based) when
  ``i % relu_every == 0`` and the identity otherwise: ``relu_every=1`` is the
  ECAI Figure 2(a) "ReLU(DC)" setting, ``relu_every=2`` "ReLU(DCDC)", ...
* ``head`` maps ``width -> n_classes`` without activation (the thesis's
  identity last layer).  ``last_layer="structured"`` (default) uses the same
  family; for a DC network this is a DC layer whose output is sliced to the
  ``n_classes`` logits, which only needs the full circulant (``n``) plus
  ``n_classes`` diagonal and ``n_classes`` bias entries.

Parameter counts of DCNNs (``n = 3072`` flattened CIFAR-10, 10 classes)::

    L hidden DC layers (3n each) + sliced DC head (n + 2*10) = (3L + 1) n + 20
    L = 2 -> 21 524 ("21K", thesis Table 4.1), L = 5 -> 49 172 ("49K").

The same rule gives *exactly* the ECAI Table 3 MNIST count: 8 DC layers of
width 1024 on 784 inputs (the first one zero-pads 784 -> 1024) + sliced head
= 24 * 1024 + 1024 + 20 = 25 620.  ``last_layer="circulant"`` (a sliced
circulant head without diagonal or bias) gives ``(3L + 1) n`` exactly (the
INVENTORY section 8 formula: 21 504 and 49 152); ``last_layer="dense"`` uses
``nn.Linear``.
"""

from __future__ import annotations

from torch import nn

from ..layers import ACDC, LDR, Circulant, DiagonalCirculant, DiagonalToeplitz, LowRank, Toeplitz

__all__ = ["FAMILIES", "make_layer", "make_activation", "structured_mlp", "build_stack", "ldr_net"]

#: canonical family name for every accepted alias
FAMILIES = {
    "dcnn": "dcnn", "dc": "dcnn", "diagonal_circulant": "dcnn",
    "dtnn": "dtnn", "dt": "dtnn", "diagonal_toeplitz": "dtnn",
    "toeplitz": "toeplitz",
    "lowrank": "lowrank", "low_rank": "lowrank", "low-rank": "lowrank",
    "acdc": "acdc",
    "dense": "dense", "fc": "dense", "linear": "dense",
    "ldr": "ldr",
}


def make_activation(activation: str | None, slope: float = 0.3) -> nn.Module | None:
    """``None`` for the identity, else the activation module."""
    if activation is None:
        return None
    a = activation.lower()
    if a in ("identity", "linear", "none"):
        return None
    if a in ("leaky_relu", "leakyrelu", "lrelu"):
        return nn.LeakyReLU(negative_slope=slope)
    if a == "relu":
        return nn.ReLU()
    if a == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation {activation!r}")


def make_layer(family: str, n_in: int, n_out: int, *, rank: int | None = None, bias: bool = True, **kw) -> nn.Module:
    """One layer of ``family`` mapping ``n_in -> n_out``.

    Extra keyword arguments go to the layer: DC ``n_factors, order, wide,
    trim_unused, learn_diag, bias_std``; ACDC ``init, sigma, bias_std``; LDR
    ``kind`` (alias ``ldr_kind``), ``solver, trim_unused, bias_std``;
    Toeplitz / DTNN / low-rank ``bias_std``.
    """
    fam = FAMILIES.get(family.lower())
    if fam is None:
        raise ValueError(f"unknown family {family!r}; choose from {sorted(set(FAMILIES.values()))}")
    if fam == "dcnn":
        return DiagonalCirculant(n_in, n_out, bias=bias, **kw)
    if fam == "dtnn":
        return DiagonalToeplitz(n_in, n_out, bias=bias, **kw)
    if fam == "toeplitz":
        return Toeplitz(n_in, n_out, bias=bias, **kw)
    if fam == "lowrank":
        if rank is None:
            raise ValueError("family 'lowrank' needs rank")
        return LowRank(n_in, n_out, rank=rank, bias=bias, **kw)
    if fam == "acdc":
        return ACDC(n_in, n_out, bias=bias, **kw)
    if fam == "ldr":
        kind = kw.pop("kind", kw.pop("ldr_kind", "toeplitz"))
        return LDR(n_in, n_out, kind=kind, rank=1 if rank is None else rank, bias=bias, **kw)
    if kw:
        raise TypeError(f"unexpected arguments for a dense layer: {sorted(kw)}")
    return nn.Linear(n_in, n_out, bias=bias)


def build_stack(
    family: str,
    n_in: int,
    n_out: int,
    depth: int,
    width: int | None = None,
    activation: str | None = "leaky_relu",
    slope: float = 0.3,
    relu_every: int = 1,
    rank: int | None = None,
    last_layer: str = "structured",
    bias: bool = True,
    **layer_kwargs,
) -> list[nn.Module]:
    """The list of modules of :func:`structured_mlp` (without the flatten)."""
    if depth < 0:
        raise ValueError("depth must be >= 0")
    if relu_every < 1:
        raise ValueError("relu_every must be >= 1")
    width = n_in if width is None else int(width)
    mods: list[nn.Module] = []
    d_in = n_in
    for i in range(depth):
        mods.append(make_layer(family, d_in, width, rank=rank, bias=bias, **dict(layer_kwargs)))
        if (i + 1) % relu_every == 0:
            act = make_activation(activation, slope)
            if act is not None:
                mods.append(act)
        d_in = width
    ll = last_layer.lower()
    if ll == "structured":
        mods.append(make_layer(family, d_in, n_out, rank=rank, bias=bias, **dict(layer_kwargs)))
    elif ll == "dense":
        mods.append(nn.Linear(d_in, n_out, bias=bias))
    elif ll == "circulant":
        mods.append(Circulant(d_in, bias=False, n_out=n_out))
    elif ll in ("none", "identity"):
        if d_in != n_out:
            raise ValueError("last_layer='none' needs width == n_classes")
    else:
        raise ValueError("last_layer must be 'structured', 'dense', 'circulant' or 'none'")
    return mods


class StructuredMLP(nn.Sequential):
    """``nn.Sequential`` (flatten first) with a few descriptive attributes."""

    def __init__(self, mods, *, family: str, depth: int, n_in: int, n_classes: int):
        super().__init__(nn.Flatten(), *mods)
        self.family, self.depth, self.n_in, self.n_classes = family, depth, n_in, n_classes


def structured_mlp(
    family: str,
    n_in: int,
    n_classes: int,
    depth: int,
    width: int | None = None,
    activation: str | None = "leaky_relu",
    slope: float = 0.3,
    relu_every: int = 1,
    rank: int | None = None,
    last_layer: str = "structured",
    bias: bool = True,
    **layer_kwargs,
) -> StructuredMLP:
    """Deep fully-structured network; see the module docstring.

    Args:
        family: ``"dcnn"``, ``"dtnn"``, ``"toeplitz"``, ``"lowrank"``,
            ``"acdc"``, ``"ldr"`` or ``"dense"`` (aliases in :data:`FAMILIES`).
        n_in: input size (inputs are flattened, e.g. 3072 for CIFAR-10).
        n_classes: number of logits.
        depth: number of hidden structured layers (before the head).
        width: hidden width (default ``n_in``).
        activation: ``"leaky_relu"`` (default, negative slope ``slope``),
            ``"relu"``, ``"tanh"`` or ``"identity"``.
        relu_every: put the activation after every ``relu_every``-th hidden
            layer (identity elsewhere).
        rank: rank for ``"lowrank"`` / ``"ldr"`` layers.
        last_layer: ``"structured"``, ``"dense"``, ``"circulant"`` or
            ``"none"`` (no head; needs ``width == n_classes``).
        bias: use biases in every layer.
        **layer_kwargs: forwarded to every structured layer (see
            :func:`make_layer`).
    """
    mods = build_stack(family, n_in, n_classes, depth, width, activation, slope, relu_every, rank, last_layer, bias,
                       **layer_kwargs)
    return StructuredMLP(mods, family=FAMILIES[family.lower()], depth=depth, n_in=n_in, n_classes=n_classes)


def ldr_net(
    kind: str,
    rank: int,
    n_in: int,
    n_classes: int,
    hidden: int | None = None,
    activation: str | None = "relu",
    slope: float = 0.3,
    bias: bool = True,
    **ldr_kwargs,
) -> StructuredMLP:
    """Thomas et al. (2018) configuration used for thesis Table 4.1: one LDR
    layer ``n_in -> hidden`` (default ``hidden = n_in``), an activation
    (ReLU by default) and one dense layer ``hidden -> n_classes``.

    Counts on 3072 inputs / 10 classes (LDR bias included, dense head
    ``30 730``): Toeplitz-like ``r=2``: 46 090, ``r=3``: 52 234; LDR-TD
    ``r=2``: 64 522, ``r=3``: 70 666 (thesis: 46K, 52K, 64K, 70K).
    ``ldr_kwargs`` go to :class:`~toeplitznet.layers.LDR` (``solver``,
    ``trim_unused``, ``bias_std``).
    """
    hidden = n_in if hidden is None else int(hidden)
    mods: list[nn.Module] = [LDR(n_in, hidden, kind=kind, rank=rank, bias=bias, **ldr_kwargs)]
    act = make_activation(activation, slope)
    if act is not None:
        mods.append(act)
    mods.append(nn.Linear(hidden, n_classes, bias=bias))
    return StructuredMLP(mods, family="ldr", depth=1, n_in=n_in, n_classes=n_classes)
