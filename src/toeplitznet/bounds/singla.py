r"""Reshape bounds of Singla & Feizi.

References: S. Singla and S. Feizi, "Bounding singular values of convolution layers",
arXiv:1911.10258 (2019), published as "Fantastic Four: Differentiable and efficient
bounds on singular values of convolution layers", ICLR 2021.  Thesis Theorem 3.8
restates the two-matrix version.

Derivation (why each reshape gives an upper bound)
    Let ``F(omega) = sum_{a,b} K[:, :, a, b] x_a y_b`` with ``x_a = e^{-i a w1}``
    and ``y_b = e^{-i b w2}``, so ``||x|| = sqrt(kh)`` and ``||y|| = sqrt(kw)``.
    For the four reshapes of the kernel into

    * ``T``: ``cout x (kh kw cin)``, block column ``(a, b)`` equal to ``K[:, :, a, b]``,
      so ``F = T (x kron y kron I_cin)``;
    * ``U``: ``(kh kw cout) x cin``, block row ``(a, b)`` equal to ``K[:, :, a, b]``,
      so ``F = (x kron y kron I_cout)^T U``;
    * ``R``: ``(kh cout) x (kw cin)``, block ``(a, b)`` equal to ``K[:, :, a, b]``,
      so ``F = (x kron I_cout)^T R (y kron I_cin)``;
    * ``S``: ``(kw cout) x (kh cin)``, block ``(b, a)`` equal to ``K[:, :, a, b]``,

    we get ``||F(omega)||_2 <= sqrt(kh kw) ||M||_2`` for every ``omega`` and each
    ``M in {R, S, T, U}``.  Hence ``sqrt(kh kw) ||M||_2`` bounds
    ``sup_omega ||F(omega)||_2``, which bounds sigma_1 of the circular convolution
    of every size, of the zero-padded convolution of every size and padding
    (a finite section of the Laurent operator with symbol ``F``), and of strided
    versions (row subsets).  The bounds are independent of the input size.
"""

from __future__ import annotations

import math

import torch

from ._utils import IntPair, check_kernel, split_groups

__all__ = ["singla2019", "singla_reshapes"]

_VARIANTS = ("single", "min2", "min4", "R", "S", "T", "U")


def singla_reshapes(kernel: torch.Tensor) -> dict:
    """The four reshaped matrices ``R, S, T, U`` of a kernel ``(..., cout, cin, kh, kw)``.

    Returns
    -------
    dict of torch.Tensor
        ``R``: ``(..., kh*cout, kw*cin)``, ``S``: ``(..., kw*cout, kh*cin)``,
        ``T``: ``(..., cout, kh*kw*cin)``, ``U``: ``(..., kh*kw*cout, cin)``.
    """
    *lead, co, ci, kh, kw = kernel.shape
    # R[(a, c), (b, d)] = K[c, d, a, b]
    r = kernel.permute(*range(len(lead)), -2, -4, -1, -3).reshape(*lead, kh * co, kw * ci)
    # S[(b, c), (a, d)] = K[c, d, a, b]
    s = kernel.permute(*range(len(lead)), -1, -4, -2, -3).reshape(*lead, kw * co, kh * ci)
    # T[c, (a, b, d)] = K[c, d, a, b]
    t = kernel.permute(*range(len(lead)), -4, -2, -1, -3).reshape(*lead, co, kh * kw * ci)
    # U[(a, b, c), d] = K[c, d, a, b]
    u = kernel.permute(*range(len(lead)), -2, -1, -4, -3).reshape(*lead, kh * kw * co, ci)
    return {"R": r, "S": s, "T": t, "U": u}


def singla2019(
    kernel: torch.Tensor,
    variant: str = "single",
    *,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Singla & Feizi (2019 / ICLR 2021) reshape bound ``sqrt(kh kw) * ||reshape(K)||_2``.

    Parameters
    ----------
    kernel : torch.Tensor
        ``(cout, cin/groups, kh, kw)``.
    variant : {"single", "min2", "min4", "R", "S", "T", "U"}
        ``"single"``: the ``cout x (cin kh kw)`` reshape ``T`` (the usual
        ``weight.reshape(cout, -1)`` matrix); ``"min2"``: ``min(R, S)`` as in
        thesis Theorem 3.8 (Singla & Feizi 2019); ``"min4"``: the minimum over the
        four reshapes ``R, S, T, U`` (Fantastic Four, ICLR 2021); or a single
        named reshape.
    dilation, groups : keyword-only
        Dilation is accepted and ignored: the bound controls
        ``sup_omega ||F(omega)||_2``, which is invariant under dilation
        (``omega -> d omega`` maps the torus onto itself).  Grouped kernels return
        the maximum over groups (block-diagonal operator).

    Returns
    -------
    torch.Tensor
        0-dim **certified upper bound** of sigma_1 for the circular and the
        zero-padded operators of every input size, padding and stride
        (derivation in the module docstring); differentiable.
    """
    check_kernel(kernel)
    if variant not in _VARIANTS:
        raise ValueError(f"variant must be one of {_VARIANTS}, got {variant!r}")
    k5 = split_groups(kernel, groups) if groups != 1 else kernel.unsqueeze(0)
    kh, kw = k5.shape[-2:]
    mats = singla_reshapes(k5)
    names = {"single": ["T"], "min2": ["R", "S"], "min4": ["R", "S", "T", "U"]}.get(variant, [variant])
    norms = torch.stack([torch.linalg.matrix_norm(mats[n], ord=2) for n in names])  # (len, groups)
    return math.sqrt(kh * kw) * norms.amin(dim=0).amax()
