r"""Methods based on the circular (periodic) convolution operator.

For an ``N_h x N_w`` torus, the circular convolution with kernel ``K`` is
block-diagonalised by the 2-D DFT: its singular values are the union over the
``N_h N_w`` frequencies ``omega = (2 pi u / N_h, 2 pi v / N_w)`` of the singular
values of the ``cout x cin`` matrices ``F(omega) = sum_{a,b} K[:, :, a, b]
exp(-i (a omega_1 + b omega_2))`` (Sedghi, Gupta & Long, ICLR 2019).  Since
``F(-omega) = conj(F(omega))`` for a real kernel, only the half spectrum returned
by ``torch.fft.rfft2`` is needed for the largest singular value.

Zero padding via circular embedding (used by :func:`gram_iteration_zero_padding`)
-------------------------------------------------------------------------------
Claim: for one axis, let a zero-padded convolution read an input of size ``n``
with padding ``p``, effective kernel size ``k_e = d (k - 1) + 1``, stride ``s``,
and let ``m1 = n + 2p - k_e + 1`` be its stride-1 output size.  With
``N = max(n + p, m1)`` the operator is a submatrix of the circular convolution on
a torus of size ``N`` (same kernel).

Proof: output ``o`` (``0 <= o < m1``) of the stride-1 zero-padded operator is
``sum_t K[t] x[o + t - p]`` with ``x`` extended by zeros, and the indices
``o + t - p`` range over ``[-p, n + p - 1]``.  Embed ``x`` into a length-``N``
signal ``x_c`` (``x_c[i] = x[i]`` for ``i < n``, zero elsewhere) and consider
``y_c[o] = sum_t K[t] x_c[(o + t - p) mod N]``.  Indices in ``[-p, -1]`` wrap to
``[N - p, N - 1]``, which lie in the zero region because ``N - p >= n``; indices in
``[n, n + p - 1]`` do not wrap because ``n + p - 1 < N`` and also hit zeros.  Hence
``y_c[o] = y[o]`` for all ``o < m1``, and the outputs are distinct rows because
``m1 <= N``.  The strided operator keeps a subset of these rows.  So
``A_zero = P A_circ(N) E`` with ``P`` a row selection and ``E`` an isometric
embedding, giving ``sigma_1(A_zero) <= sigma_1(A_circ(N))``.  In 2-D the argument
applies per axis (``N_h``, ``N_w``).  (The shift by ``p`` is a unitary circular
shift and does not change singular values.)  This is our own elementary
derivation; Delattre, Barthelemy & Allauzen (2024) study tighter relations
between the circular and zero-padded spectral norms.
"""

from __future__ import annotations

from typing import Tuple

import torch

from ._utils import IntPair, check_kernel, dilate_kernel, fold_kernel, pair, resolve_padding, split_groups

__all__ = [
    "sedghi2019",
    "gram_iteration",
    "gram_iteration_zero_padding",
    "circular_embedding_size",
    "circular_frequency_matrices",
]


def circular_frequency_matrices(kernel: torch.Tensor, size: Tuple[int, int], half: bool = True) -> torch.Tensor:
    """Per-frequency ``cout x cin`` matrices of the circular convolution on a ``size`` torus.

    Parameters
    ----------
    kernel : torch.Tensor
        ``(..., cout, cin, kh, kw)``; taps beyond the torus size are folded.
    size : (int, int)
        Torus size ``(N_h, N_w)``.
    half : bool
        If True return only the ``N_h x (N_w // 2 + 1)`` frequencies of ``rfft2``
        (enough for the spectral norm of a real kernel); otherwise all of them.

    Returns
    -------
    torch.Tensor
        Complex tensor ``(..., n_freq, cout, cin)``.
    """
    k = fold_kernel(kernel, size)
    spec = torch.fft.rfft2(k, s=size) if half else torch.fft.fft2(k, s=size)
    spec = spec.flatten(-2)  # (..., cout, cin, n_freq)
    return spec.movedim(-1, -3)


def _prep(kernel, dilation, groups):
    check_kernel(kernel)
    k = dilate_kernel(kernel, dilation)
    if groups != 1:
        return split_groups(k, groups)  # (g, cout/g, cin/g, kh, kw)
    return k.unsqueeze(0)


def sedghi2019(
    kernel: torch.Tensor,
    input_size: IntPair,
    return_all: bool = False,
    *,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Exact singular values of the circular convolution (Sedghi, Gupta & Long, ICLR 2019).

    Parameters
    ----------
    kernel : torch.Tensor
        ``(cout, cin/groups, kh, kw)``.
    input_size : int or (int, int)
        Size ``n`` (or ``(N_h, N_w)``) of the periodic input.
    return_all : bool, default False
        If True return all ``N_h N_w min(cout, cin)`` singular values (per group,
        concatenated), sorted in decreasing order; otherwise only the largest.
    dilation, groups : keyword-only

    Returns
    -------
    torch.Tensor
        The largest singular value (0-dim) or the sorted 1-D vector of all of them.

    Notes
    -----
    Exact for the **circular** operator (stride 1); for stride > 1 this is the
    value of the stride-1 circular operator, an upper bound of the strided
    circular one.  It is **neither** an upper **nor** a lower bound of the
    zero-padded operator on the same ``n`` in general (thesis Table 5.1 reports
    a mean ratio of 0.43 to the IRAM value).  Cost: an SVD of ``N_h N_w`` small
    matrices.
    """
    k5 = _prep(kernel, dilation, groups)
    size = pair(input_size, "input_size")
    mats = circular_frequency_matrices(k5, size, half=not return_all)
    sv = torch.linalg.svdvals(mats)  # (g, n_freq, min(co, ci)), real
    if return_all:
        return torch.sort(sv.reshape(-1), descending=True).values
    return sv.amax()


def gram_iteration(
    kernel: torch.Tensor,
    input_size: IntPair,
    n_iter: int = 6,
    *,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Gram-iteration upper bound of the circular convolution's largest singular value.

    Reference: B. Delattre, Q. Barthelemy, A. Araujo, A. Allauzen, "Efficient
    bound of Lipschitz constant for convolutional layers by Gram iteration",
    ICML 2023.

    For each frequency matrix ``F`` (see :func:`circular_frequency_matrices`) set
    ``G_0 = F`` (or ``F^H``, whichever gives the smaller Gram matrix) and iterate
    ``G_{t+1} = G_t^H G_t``.  Since the singular values of ``G_t`` are those of
    ``F`` raised to the power ``2^t``,
    ``sigma_1(F) <= ||G_t||_F^{1 / 2^t} = (sum_i sigma_i^{2^{t+1}})^{1/2^{t+1}}``,
    which decreases to ``sigma_1(F)`` (at rate ``rank^{1/2^{t+1}}``).  To avoid
    overflow each ``G_t`` is divided by its Frobenius norm before squaring and the
    scale is tracked in log space.  The bound is the maximum over frequencies.

    Parameters
    ----------
    kernel : torch.Tensor
        ``(cout, cin/groups, kh, kw)``.
    input_size : int or (int, int)
        Torus size ``n`` or ``(N_h, N_w)``.
    n_iter : int, default 6
        Number of Gram iterations (``0`` gives the per-frequency Frobenius norm).
    dilation, groups : keyword-only

    Returns
    -------
    torch.Tensor
        0-dim **certified upper bound** (up to floating-point rounding) of sigma_1
        of the circular operator; differentiable.  For stride > 1 it bounds the
        stride-1 operator and hence the strided one.  For the zero-padded
        operator use :func:`gram_iteration_zero_padding`.
    """
    k5 = _prep(kernel, dilation, groups)
    size = pair(input_size, "input_size")
    g = circular_frequency_matrices(k5, size, half=True)  # (groups, n_freq, co, ci)
    if g.shape[-1] > g.shape[-2]:  # more columns than rows: use the conjugate transpose
        g = g.mH
    real_dtype = g.real.dtype
    log_scale = torch.zeros(g.shape[:-2], dtype=real_dtype, device=g.device)
    tiny = torch.finfo(real_dtype).tiny
    for _ in range(n_iter):
        nrm = torch.linalg.matrix_norm(g, ord="fro").clamp_min(tiny)
        g = g / nrm[..., None, None].to(g.dtype)
        log_scale = 2.0 * (log_scale + nrm.log())
        g = g.mH @ g
    nrm = torch.linalg.matrix_norm(g, ord="fro").clamp_min(tiny)
    log_bound = (log_scale + nrm.log()) / (2.0**n_iter)
    return log_bound.amax().exp()


def circular_embedding_size(input_size: IntPair, kernel_size: IntPair, padding=None, dilation: IntPair = 1) -> Tuple[int, int]:
    """Torus size ``N = max(n + p, n + 2p - k_e + 1)`` per axis embedding the zero-padded operator.

    See the module docstring for the proof that the zero-padded convolution
    (any stride) is a submatrix of the circular convolution on this torus.
    """
    n = pair(input_size, "input_size")
    k = pair(kernel_size, "kernel_size")
    d = pair(dilation, "dilation")
    p = resolve_padding(padding, k, d)
    out = []
    for ni, ki, pi, di in zip(n, k, p, d):
        ke = di * (ki - 1) + 1
        out.append(max(ni + pi, ni + 2 * pi - ke + 1, 1))
    return tuple(out)  # type: ignore[return-value]


def gram_iteration_zero_padding(
    kernel: torch.Tensor,
    input_size: IntPair,
    n_iter: int = 6,
    padding=None,
    stride: IntPair = 1,
    *,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Certified upper bound of sigma_1 of the **zero-padded** convolution by Gram iteration.

    Applies :func:`gram_iteration` to the circular convolution on the torus of
    size :func:`circular_embedding_size` (``n + p`` per axis when ``p <= k - 1``),
    which contains the zero-padded operator as a submatrix (proof in the module
    docstring).  Motivated by Delattre, Barthelemy & Allauzen, "Spectral norm of
    convolutional layers with circular and zero paddings" (2024); the embedding
    argument used here is our own, simpler, derivation and not necessarily the
    paper's exact construction.

    Parameters
    ----------
    kernel : torch.Tensor
        ``(cout, cin/groups, kh, kw)``.
    input_size : int or (int, int)
        Input size ``n`` of the layer.
    n_iter : int, default 6
    padding : None, int, pair, "same" or "valid"
        Zero padding (``None``: ``k // 2``).
    stride : int or pair
        Accepted for API symmetry; the bound of the stride-1 operator is returned
        (a valid upper bound for any stride).
    dilation, groups : keyword-only

    Returns
    -------
    torch.Tensor
        0-dim upper bound (up to rounding) of the zero-padded operator's sigma_1.
    """
    check_kernel(kernel)
    pair(stride, "stride")
    size = circular_embedding_size(input_size, tuple(kernel.shape[-2:]), padding, dilation)
    return gram_iteration(kernel, size, n_iter, dilation=dilation, groups=groups)
