r"""LipBound: the thesis's spectral-norm bound of a 2-D convolution (Araujo, Thm 5.5).

Mathematical summary
--------------------
For a kernel ``K`` of shape ``(cout, cin, kh, kw)`` define, for every channel pair,
the 2-D trigonometric polynomial (thesis Eq. 5.50, up to a unimodular phase that
does not change its modulus)

.. math::  f_{ij}(\omega_1, \omega_2) = \sum_{a=0}^{k_h-1}\sum_{b=0}^{k_w-1}
           K_{i,j,a,b}\, e^{-\mathrm{i}(a\omega_1 + b\omega_2)} .

Theorem 5.5 of the thesis (Araujo, Negrevergne, Chevaleyre, Atif, "On Lipschitz
regularization of convolutional layers using Toeplitz matrix theory", AAAI 2021)
states that the largest singular value of the (zero-padded, stride-1) convolution
operator satisfies

.. math::  \sigma_1 \le \sqrt{\sum_{i} \sup_{\omega} \sum_{j} |f_{ij}(\omega)|^2}

where the outer sum runs over one channel dimension and the inner one over the
other (Lemma 5.6 can be applied to block rows or block columns, so both orders are
valid; the thesis writes the outer sum over ``cout``).  This module sums, by
default, over the *smaller* channel dimension outside the supremum (fewer
suprema, hence a smaller - i.e. tighter - value in general).

Why it is an upper bound for every padding and stride
    The operator of a stride-1 zero-padded convolution with any padding is a
    finite section (a submatrix) of the multichannel Laurent operator whose symbol
    is the ``cout x cin`` matrix ``F(omega) = [f_ij(omega)]``; a strided
    convolution keeps a subset of the rows.  Hence
    ``sigma_1 <= sup_omega ||F(omega)||_2 <= sup_omega ||F(omega)||_F <= LipBound``.
    The same argument covers the circular (periodic) operator of any size ``n``,
    whose singular values are those of ``F`` sampled at ``2 pi k / n``.  Dilation
    does not change the supremum (``omega -> d * omega`` maps the torus onto itself),
    so the bound of the undilated kernel is used for dilated layers.

The supremum is approximated by **PolyGrid** (thesis Algorithm 5.1): the maximum
over the grid :math:`\Theta_S^2`, :math:`\Theta_S = \{2\pi k/S, k = 0..S-1\}`
(Eq. 5.51).  This grid value is a *lower* estimate of the supremum, so the
uncorrected LipBound is **not** a certified upper bound of sigma_1: it can fall
slightly below it (the thesis's own Table 5.1 reports mean ratios LipBound/IRAM of
0.992 and 0.984 with ``S = 10``).

Certified version (thesis Eq. 5.52)
    ``certified=True`` multiplies the grid value by ``(1 - 2d/S)^{-1}`` where
    ``d = (k - 1) / 2`` is the degree of the (phase-centred) trigonometric
    polynomial of a ``k x k`` kernel: ``d = floor(k/2)`` for odd ``k`` (as in the
    thesis), and the half-integer ``(k-1)/2`` for even ``k`` (whose centred
    spectrum is ``{-(k-1)/2, ..., (k-1)/2}``).  Requires ``S > 2d = k - 1``.  For a
    non-square kernel the factor is ``S / sqrt((S - kh + 1)(S - kw + 1))``.

    Proof sketch (our own derivation of the constant, consistent with Pfister &
    Bresler 2018 as used by the thesis).  In 1-D let ``g`` have spectrum in
    ``{0..W}`` (``W = k - 1``) and ``S > W``.  With ``D_m(t) = sum_{h<m} e^{iht}``
    the kernel ``V = D_{S-W} D_S / (S-W)`` has Fourier coefficients equal to 1 on
    ``{0..W}`` and vanishing on every other residue class hit by ``{0..W}``
    modulo ``S``, so ``g(t) = (1/S) sum_j g(t_j) V(t - t_j)`` on the grid
    ``t_j = 2 pi j / S``.  By Cauchy-Schwarz and discrete Parseval,
    ``(1/S) sum_j |V(t - t_j)| <= sqrt((S-W) S) / (S-W) = (1 - W/S)^{-1/2}``.
    The tensor-product kernel gives the 2-D constant
    ``(1-W_h/S)^{-1/2} (1-W_w/S)^{-1/2}``, which equals ``(1 - 2d/S)^{-1}`` for
    square kernels.  The interpolation identity is linear, so it also holds for
    the vector ``(f_ij(omega))_j`` and bounds ``sup_omega sum_j |f_ij|^2`` by the
    squared factor times its grid maximum.

Implementation
    The grid values of ``sum_j |f_ij(omega)|^2`` are computed *exactly* (no FFT
    needed) from the per-row tap Gram matrices ``C_i = sum_j k_ij k_ij^T``
    (``k_ij`` the flattened ``kh*kw`` taps):
    ``sum_j |f_ij(omega)|^2 = sum_{t,t'} C_i[t,t'] cos((t - t') . omega)``.
    This costs one batched ``(kh kw) x inner x (kh kw)`` matrix product per row
    (``(kh kw)^2`` multiply-adds per channel pair, fewer than an FFT to a 10x10
    grid) followed by a tiny product with a cached cosine table.  Only half of the
    grid is evaluated because ``|f(-omega)| = |f(omega)|`` for real kernels.  An
    FFT evaluator (``torch.fft.rfft2`` of the zero-padded kernel, with taps folded
    modulo ``S`` if ``k > S``) is available as ``evaluator="fft"``; both give the
    same numbers.  Everything is plain differentiable torch code, device- and
    dtype-agnostic.
"""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
import torch

from ._utils import check_kernel, fold_kernel, split_groups

__all__ = [
    "lipbound",
    "lipbound_batched",
    "lipbound_certification_factor",
    "polygrid",
]

_OUTER_CHOICES = ("smaller", "cout", "cin")
_EVALUATORS = ("auto", "autocorr", "fft")

KernelList = Union[torch.Tensor, Sequence[torch.Tensor]]


# --------------------------------------------------------------------------- #
# constants
# --------------------------------------------------------------------------- #
def lipbound_certification_factor(kernel_size, n_samples: int) -> float:
    """Multiplicative factor turning the PolyGrid value into a certified upper bound.

    Parameters
    ----------
    kernel_size : int or (int, int)
        Spatial kernel size ``k`` or ``(kh, kw)``.
    n_samples : int
        Number ``S`` of grid points per axis.

    Returns
    -------
    float
        ``S / sqrt((S - kh + 1) * (S - kw + 1))``; for a square ``k x k`` kernel this
        is the thesis's ``(1 - 2d/S)^{-1}`` (Eq. 5.52) with ``d = (k - 1)/2``
        (``= floor(k/2)`` for odd ``k``).  ``1.0`` for ``1 x 1`` kernels.

    Raises
    ------
    ValueError
        If ``S <= 2d`` i.e. ``S <= k - 1`` on some axis (the grid is too coarse for
        any certificate).
    """
    if isinstance(kernel_size, int):
        kh = kw = kernel_size
    else:
        kh, kw = kernel_size
    s = int(n_samples)
    if s <= kh - 1 or s <= kw - 1:
        raise ValueError(
            f"certified LipBound needs n_samples S > 2d = k - 1 on each axis; got S={s} for "
            f"a {kh}x{kw} kernel (use S >= {max(kh, kw)}, e.g. S = 10 for 3x3, S >= 12 for 11x11)"
        )
    return s / math.sqrt((s - kh + 1) * (s - kw + 1))


_COS_CACHE: Dict[Tuple, torch.Tensor] = {}


def _half_grid(n_samples: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Frequencies (w1, w2) of the half grid ``{0..S-1} x {0..S//2}`` (float64)."""
    s = n_samples
    a = torch.arange(s, dtype=torch.float64)
    b = torch.arange(s // 2 + 1, dtype=torch.float64)
    w1, w2 = torch.meshgrid(2 * math.pi * a / s, 2 * math.pi * b / s, indexing="ij")
    return w1.reshape(-1), w2.reshape(-1)


def _cos_table(kh: int, kw: int, n_samples: int, dtype, device) -> torch.Tensor:
    """Cached table ``M[(t, t'), g] = cos((t - t') . omega_g)`` of shape ``((kh kw)^2, G)``."""
    key = (kh, kw, n_samples, dtype, str(device))
    table = _COS_CACHE.get(key)
    if table is None:
        w1, w2 = _half_grid(n_samples)
        ta = torch.arange(kh, dtype=torch.float64).repeat_interleave(kw)  # row offset of tap t
        tb = torch.arange(kw, dtype=torch.float64).repeat(kh)  # column offset of tap t
        da = (ta[:, None] - ta[None, :]).reshape(-1)  # (k2*k2,)
        db = (tb[:, None] - tb[None, :]).reshape(-1)
        table = torch.cos(da[:, None] * w1[None, :] + db[:, None] * w2[None, :])
        table = table.to(dtype=dtype, device=device).contiguous()
        _COS_CACHE[key] = table
    return table


# --------------------------------------------------------------------------- #
# core: max over the grid of sum_inner |f(omega)|^2, one value per outer row
# --------------------------------------------------------------------------- #
def _choose_evaluator(evaluator: str, kh: int, kw: int) -> str:
    if evaluator not in _EVALUATORS:
        raise ValueError(f"evaluator must be one of {_EVALUATORS}, got {evaluator!r}")
    if evaluator == "auto":
        return "autocorr" if kh * kw <= 49 else "fft"
    return evaluator


def _row_grid_max(k3: torch.Tensor, kh: int, kw: int, n_samples: int, evaluator: str) -> torch.Tensor:
    """``max_{omega in grid} sum_j |f_rj(omega)|^2`` for each row ``r``.

    ``k3`` has shape ``(rows, inner, kh * kw)`` (any strides).
    """
    rows, inner, k2 = k3.shape
    if k2 == 1:  # 1x1 kernel: the polynomials are constants
        return k3.square().sum(dim=(1, 2))
    if evaluator == "autocorr":
        gram = torch.bmm(k3.transpose(1, 2), k3)  # (rows, k2, k2)
        table = _cos_table(kh, kw, n_samples, k3.dtype, k3.device)
        vals = gram.reshape(rows, k2 * k2) @ table  # (rows, G)
        return vals.amax(dim=1)
    # FFT evaluator
    k4 = k3.reshape(rows, inner, kh, kw)
    k4 = fold_kernel(k4, (n_samples, n_samples))
    spec = torch.fft.rfft2(k4, s=(n_samples, n_samples))
    power = spec.real.square() + spec.imag.square()
    return power.sum(dim=1).reshape(rows, -1).amax(dim=1)


def _rows_view(kernel: torch.Tensor, groups: int, outer: str) -> Tuple[torch.Tensor, int]:
    """``(groups * n_outer, n_inner, kh * kw)`` tensor of a kernel, and ``n_outer``.

    Without groups this is a view (no copy, also when the outer dimension is
    ``cin``: ``bmm`` accepts the permuted strides).
    """
    co, ci, kh, kw = kernel.shape
    co_g = co // groups
    use_cout = outer == "cout" or (outer == "smaller" and co_g <= ci)
    if groups == 1:
        k3 = kernel.reshape(co, ci, kh * kw)
        return (k3, co) if use_cout else (k3.transpose(0, 1), ci)
    k5 = split_groups(kernel, groups)
    if use_cout:
        return k5.reshape(groups * co_g, ci, kh * kw), co_g
    return k5.transpose(1, 2).reshape(groups * ci, co_g, kh * kw), ci


def _lipbound_stacked(k5: torch.Tensor, n_samples: int, certified: bool, outer: str, evaluator: str) -> torch.Tensor:
    """LipBound of each kernel of a stacked tensor ``(B, cout, cin, kh, kw)`` -> ``(B,)``."""
    b, co, ci, kh, kw = k5.shape
    if outer == "cout" or (outer == "smaller" and co <= ci):
        k3 = k5.reshape(b * co, ci, kh * kw)
        n_out = co
    elif outer in ("cin", "smaller"):
        k3 = k5.transpose(1, 2).reshape(b * ci, co, kh * kw)
        n_out = ci
    else:
        raise ValueError(f"outer must be one of {_OUTER_CHOICES}, got {outer!r}")
    ev = _choose_evaluator(evaluator, kh, kw)
    row_max = _row_grid_max(k3, kh, kw, n_samples, ev)
    value = row_max.reshape(b, n_out).sum(dim=1).sqrt()
    if certified:
        value = value * lipbound_certification_factor((kh, kw), n_samples)
    return value


# --------------------------------------------------------------------------- #
# public API
# --------------------------------------------------------------------------- #
def lipbound(
    kernel: KernelList,
    n_samples: int = 10,
    certified: bool = False,
    *,
    outer: str = "smaller",
    groups: int = 1,
    evaluator: str = "auto",
) -> torch.Tensor:
    """LipBound of Araujo et al. (thesis Thm 5.5 / AAAI 2021) with the PolyGrid grid search.

    Computes ``sqrt( sum_i max_{omega in Theta_S^2} sum_j |f_ij(omega)|^2 )`` where
    ``f_ij`` is the 2-D trigonometric polynomial of kernel entry ``(i, j)`` (thesis
    Eq. 5.50), ``i`` runs over the *outer* channel dimension (default: the smaller
    of ``cout``/``cin``), ``j`` over the other one, and ``Theta_S = {2 pi k / S}``.

    Parameters
    ----------
    kernel : torch.Tensor or sequence of torch.Tensor
        Kernel ``(cout, cin, kh, kw)``.  A list/tuple of kernels (or a stacked
        5-D tensor ``(B, cout, cin, kh, kw)``) is dispatched to
        :func:`lipbound_batched` and returns one value per kernel.
    n_samples : int, default 10
        Number ``S`` of grid points per axis (thesis: ``S = 10`` for ``3 x 3``).
    certified : bool, default False
        If True multiply by :func:`lipbound_certification_factor`
        (``(1 - 2d/S)^{-1}``, thesis Eq. 5.52), which turns the grid value into a
        **certified upper bound** of sigma_1.  Requires ``S > k - 1``.
    outer : {"smaller", "cout", "cin"}, keyword-only
        Channel dimension summed outside the supremum ("cout" is the literal
        Eq. 5.38).  All three choices are valid upper bounds once certified.
    groups : int, keyword-only, default 1
        For a grouped convolution (kernel ``(cout, cin/groups, kh, kw)``) the
        operator is block-diagonal, and the result is the maximum of the
        per-group LipBounds.
    evaluator : {"auto", "autocorr", "fft"}, keyword-only
        How the grid values are computed (identical results; see module doc).

    Returns
    -------
    torch.Tensor
        0-dim tensor (1-D for list input) with the kernel's dtype and device;
        differentiable with respect to ``kernel``.

    Notes
    -----
    *Certified* (``certified=True``): an upper bound of the largest singular value
    of the zero-padded convolution for **every** input size, padding, stride and
    dilation, and of the circular convolution of every size.  Strided operators
    get the (larger) stride-1 bound.

    *Uncorrected* (``certified=False``, the thesis's reported numbers): a grid
    estimate of the supremum; it may be **below** sigma_1 (thesis Table 5.1: mean
    ratio to the IRAM value 0.992 for 1x3x3 and 0.984 for 32x3x3 kernels).

    For ``1 x 1`` kernels the polynomials are constant and LipBound equals the
    Frobenius norm of the ``cout x cin`` matrix (exact for any ``S``).
    """
    if isinstance(kernel, (list, tuple)) or (isinstance(kernel, torch.Tensor) and kernel.dim() == 5):
        if isinstance(kernel, torch.Tensor) and groups != 1:
            raise ValueError("groups is not supported for a stacked 5-D kernel tensor; pass a list")
        return lipbound_batched(kernel, n_samples, certified, outer=outer, evaluator=evaluator, groups=groups)
    check_kernel(kernel)
    if outer not in _OUTER_CHOICES:
        raise ValueError(f"outer must be one of {_OUTER_CHOICES}, got {outer!r}")
    kh, kw = kernel.shape[-2:]
    factor = lipbound_certification_factor((kh, kw), n_samples) if certified else 1.0
    k3, n_out = _rows_view(kernel, groups, outer)
    row_max = _row_grid_max(k3, kh, kw, n_samples, _choose_evaluator(evaluator, kh, kw))
    per_group = row_max.reshape(groups, n_out).sum(dim=1).sqrt()
    if certified:
        per_group = per_group * factor
    return per_group.amax() if groups != 1 else per_group[0]


def lipbound_batched(
    kernels: KernelList,
    n_samples: int = 10,
    certified: bool = False,
    *,
    outer: str = "smaller",
    evaluator: str = "auto",
    groups: Union[int, Sequence[int]] = 1,
) -> torch.Tensor:
    """LipBound of many kernels at once (one value per kernel, same semantics as :func:`lipbound`).

    Each kernel costs one batched matrix product (its per-row tap Gram matrices,
    see the module docstring) or one FFT; all the per-row grid maxima are then
    concatenated and reduced to per-kernel bounds with a single segment sum, a
    single square root and a single scaling, so no kernel is copied and the
    Python overhead is a few operations per layer.  A stacked 5-D tensor of
    same-shaped kernels is evaluated with one product for the whole stack.

    Parameters
    ----------
    kernels : sequence of torch.Tensor or torch.Tensor
        Kernels of shape ``(cout, cin/groups, kh, kw)`` (shapes may differ; all
        on the same device and with the same dtype), or a stacked
        ``(B, cout, cin, kh, kw)`` tensor.
    n_samples, certified, outer, evaluator
        As in :func:`lipbound`.
    groups : int or sequence of int, keyword-only
        Number of groups of each kernel (the value of a grouped kernel is the
        maximum over its groups).

    Returns
    -------
    torch.Tensor
        1-D tensor of length ``len(kernels)`` (dtype/device of the kernels),
        differentiable with respect to every kernel.
    """
    if outer not in _OUTER_CHOICES:
        raise ValueError(f"outer must be one of {_OUTER_CHOICES}, got {outer!r}")
    if isinstance(kernels, torch.Tensor):
        if kernels.dim() != 5:
            raise ValueError("a stacked kernel tensor must have shape (B, cout, cin, kh, kw)")
        if certified:
            lipbound_certification_factor(tuple(kernels.shape[-2:]), n_samples)
        return _lipbound_stacked(kernels, n_samples, certified, outer, evaluator)
    kernels = list(kernels)
    n = len(kernels)
    if n == 0:
        return torch.zeros(0)
    group_list = [int(groups)] * n if isinstance(groups, int) else [int(g) for g in groups]
    if len(group_list) != n:
        raise ValueError("groups must be an int or have one entry per kernel")
    dtype, device = kernels[0].dtype, kernels[0].device
    for k in kernels:
        check_kernel(k)
        if k.dtype != dtype or k.device != device:
            raise ValueError("all kernels must share dtype and device (call once per dtype/device)")

    # Every kernel contributes "row values" (max over the grid of sum_inner |f|^2, one
    # per outer channel and group) to one of three pools, evaluated with few ops:
    #   * 1x1 kernels without groups: a single value, the squared Frobenius norm;
    #   * autocorrelation evaluator: per-layer tap Gram matrices, concatenated per
    #     (kh, kw) and multiplied by the cosine table in one product;
    #   * FFT evaluator: per-layer row maxima.
    # Segments (one per kernel and group) then sum their rows.
    scalars: List[torch.Tensor] = []
    scalar_meta: List[Tuple[int, int, float]] = []  # (n_rows, kernel index, factor) per segment
    buckets: Dict[Tuple[int, int], List[torch.Tensor]] = {}
    bucket_meta: Dict[Tuple[int, int], List[Tuple[int, int, float]]] = {}
    direct: List[torch.Tensor] = []
    direct_meta: List[Tuple[int, int, float]] = []
    any_groups = False
    for idx, (k, g) in enumerate(zip(kernels, group_list)):
        kh, kw = k.shape[-2:]
        factor = lipbound_certification_factor((kh, kw), n_samples) if certified else 1.0
        if g == 1 and kh * kw == 1:
            scalars.append(k)
            scalar_meta.append((1, idx, factor))
            continue
        k3, n_out = _rows_view(k, g, outer)
        any_groups = any_groups or g != 1
        meta = [(n_out, idx, factor)] * g
        ev = _choose_evaluator(evaluator, kh, kw)
        if kh * kw == 1:
            direct.append(_row_grid_max(k3, kh, kw, n_samples, ev))
            direct_meta.extend(meta)
        elif ev == "autocorr":
            buckets.setdefault((kh, kw), []).append(torch.bmm(k3.transpose(1, 2), k3))
            bucket_meta.setdefault((kh, kw), []).extend(meta)
        else:
            direct.append(_row_grid_max(k3, kh, kw, n_samples, ev))
            direct_meta.extend(meta)

    parts: List[torch.Tensor] = []
    meta_all: List[Tuple[int, int, float]] = []
    if scalars:
        norms = torch._foreach_norm(scalars) if hasattr(torch, "_foreach_norm") else [torch.linalg.vector_norm(t) for t in scalars]
        parts.append(torch.stack(list(norms)).square())
        meta_all.extend(scalar_meta)
    for (kh, kw), grams in buckets.items():
        gram = torch.cat(grams) if len(grams) > 1 else grams[0]
        table = _cos_table(kh, kw, n_samples, gram.dtype, gram.device)
        parts.append((gram.reshape(gram.shape[0], -1) @ table).amax(dim=1))
        meta_all.extend(bucket_meta[(kh, kw)])
    if direct:
        parts.extend(direct)
        meta_all.extend(direct_meta)

    rows = torch.cat(parts) if len(parts) > 1 else parts[0]
    n_seg = len(meta_all)
    seg_rows = np.fromiter((m[0] for m in meta_all), dtype=np.int64, count=n_seg)
    seg_layer = torch.from_numpy(np.fromiter((m[1] for m in meta_all), dtype=np.int64, count=n_seg)).to(device)
    if int(seg_rows.sum()) == n_seg:  # every segment is a single row
        seg = rows.sqrt()
    else:
        seg_ids = torch.from_numpy(np.repeat(np.arange(n_seg), seg_rows)).to(device)
        seg = torch.zeros(n_seg, dtype=rows.dtype, device=device).index_add(0, seg_ids, rows).sqrt()
    if certified:
        factors = np.fromiter((m[2] for m in meta_all), dtype=np.float64, count=n_seg)
        seg = seg * torch.from_numpy(factors).to(dtype=rows.dtype, device=device)
    out = torch.zeros(n, dtype=rows.dtype, device=device)
    if not any_groups:
        return out.index_copy(0, seg_layer, seg)
    return out.scatter_reduce(0, seg_layer, seg, reduce="amax", include_self=False)


def polygrid(coefficients: torch.Tensor, n_samples: int = 10) -> torch.Tensor:
    """PolyGrid (thesis Algorithm 5.1): max modulus of 2-D trigonometric polynomials on a grid.

    Parameters
    ----------
    coefficients : torch.Tensor
        Real or complex coefficients ``(..., kh, kw)`` of
        ``f(w1, w2) = sum_{a,b} c[a, b] exp(i (a w1 + b w2))`` (a shift of the
        exponent range only multiplies ``f`` by a unimodular factor).
    n_samples : int
        Grid size ``S``; the grid is ``Theta_S^2`` with ``Theta_S = {2 pi k / S}``.

    Returns
    -------
    torch.Tensor
        ``max_{omega in Theta_S^2} |f(omega)|`` for every leading index.  A lower
        estimate of ``sup |f|``; multiply by :func:`lipbound_certification_factor`
        for a certified upper bound.
    """
    c = fold_kernel(coefficients, (n_samples, n_samples))
    spec = torch.fft.fft2(c, s=(n_samples, n_samples))
    return spec.abs().flatten(-2).amax(dim=-1)
