"""Power iteration on the true (zero-padded, strided) convolution operator.

Reference: F. Farnia, J. M. Zhang, D. Tse, "Generalizable adversarial training via
spectral normalization", ICLR 2019 (thesis Algorithm 3.2); the matrix version is the
classical power method (Golub & Van der Vorst 2000) used by Yoshida & Miyato 2017 and
Miyato et al. 2018 for spectral normalisation.
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F

from ._utils import IntPair, check_kernel, conv_output_size, pair, resolve_padding, transpose_output_padding

__all__ = ["power_method", "conv_operator_shapes"]


def conv_operator_shapes(kernel_shape, input_size: IntPair, padding=None, stride: IntPair = 1, dilation: IntPair = 1, groups: int = 1):
    """Shapes and arguments of the convolution operator ``x -> conv2d(x, kernel)``.

    Returns
    -------
    dict
        ``in_shape`` ``(cin_total, H, W)``, ``out_shape`` ``(cout, Ho, Wo)``,
        ``padding``, ``stride``, ``dilation`` (pairs) and ``output_padding`` (the
        value making ``conv_transpose2d`` the exact adjoint with the right shape).
    """
    co, ci, kh, kw = kernel_shape
    h, w = pair(input_size, "input_size")
    sh, sw = pair(stride, "stride")
    dh, dw = pair(dilation, "dilation")
    ph, pw = resolve_padding(padding, (kh, kw), (dh, dw))
    ho = conv_output_size(h, kh, ph, sh, dh)
    wo = conv_output_size(w, kw, pw, sw, dw)
    oph = transpose_output_padding(h, ho, kh, ph, sh, dh)
    opw = transpose_output_padding(w, wo, kw, pw, sw, dw)
    return {
        "in_shape": (ci * groups, h, w),
        "out_shape": (co, ho, wo),
        "padding": (ph, pw),
        "stride": (sh, sw),
        "dilation": (dh, dw),
        "output_padding": (oph, opw),
        "groups": groups,
    }


def power_method(
    kernel: torch.Tensor,
    input_size: IntPair,
    n_iter: int = 10,
    padding: Union[None, int, Tuple[int, int], str] = None,
    stride: IntPair = 1,
    return_vector: bool = False,
    *,
    u0: Optional[torch.Tensor] = None,
    dilation: IntPair = 1,
    groups: int = 1,
    grad_through_iterations: bool = False,
    generator: Optional[torch.Generator] = None,
):
    """Power method of Farnia et al. (ICLR 2019) on the zero-padded strided convolution.

    Iterates ``v <- A^T A v / ||A^T A v||`` with ``A v = conv2d(v, kernel)`` and
    ``A^T u = conv_transpose2d(u, kernel)`` (the exact adjoint, including the
    ``output_padding`` needed for strides), then returns ``||A v||`` with ``||v|| = 1``.

    Parameters
    ----------
    kernel : torch.Tensor
        ``(cout, cin/groups, kh, kw)``.
    input_size : int or (int, int)
        Spatial size ``n`` (or ``(H, W)``) of the layer's input.
    n_iter : int, default 10
        Number of iterations (each = one convolution + one transposed convolution;
        the thesis compares with 10).
    padding : None, int, pair, "same" or "valid"
        Zero padding; ``None`` means ``k // 2`` ("same" for odd ``k``).
    stride : int or pair, default 1
    return_vector : bool, default False
        Also return the final unit vector ``v`` (shape ``(1, cin, H, W)``, detached)
        to be passed back as ``u0`` next time (persistent vector, as in training).
    u0 : torch.Tensor, optional, keyword-only
        Starting vector (any shape with ``cin*H*W`` elements); random normal if
        omitted.
    dilation, groups : keyword-only
        As in :func:`torch.nn.functional.conv2d`.
    grad_through_iterations : bool, keyword-only, default False
        If False (standard spectral-normalisation practice) the iterations run
        under ``torch.no_grad`` and only the final ``||A v||`` is differentiable
        with respect to ``kernel``.  If True autograd records every iteration.
    generator : torch.Generator, optional, keyword-only
        RNG for the random start.

    Returns
    -------
    torch.Tensor or (torch.Tensor, torch.Tensor)
        0-dim estimate of sigma_1 (kernel's dtype/device), and optionally ``v``.

    Notes
    -----
    **Not an upper bound**: ``||A v|| <= sigma_1`` for every unit ``v``, so the
    result is a *lower* estimate that increases towards sigma_1 (for a start
    vector not orthogonal to the top singular space) as ``n_iter`` grows.
    """
    check_kernel(kernel)
    info = conv_operator_shapes(kernel.shape, input_size, padding, stride, dilation, groups)
    in_shape = (1,) + info["in_shape"]
    conv_kw = dict(stride=info["stride"], padding=info["padding"], dilation=info["dilation"], groups=groups)
    if u0 is None:
        v = torch.randn(in_shape, dtype=kernel.dtype, device=kernel.device, generator=generator)
    else:
        v = u0.detach().reshape(in_shape).to(dtype=kernel.dtype, device=kernel.device)
    tiny = torch.finfo(v.dtype).tiny
    v = v / v.norm().clamp_min(tiny)

    def step(v, w):
        u = F.conv2d(v, w, **conv_kw)
        v = F.conv_transpose2d(u, w, output_padding=info["output_padding"], **conv_kw)
        return v / v.norm().clamp_min(tiny)

    if grad_through_iterations:
        for _ in range(n_iter):
            v = step(v, kernel)
    else:
        with torch.no_grad():
            w = kernel.detach()
            for _ in range(n_iter):
                v = step(v, w)
    sigma = F.conv2d(v, kernel, **conv_kw).norm()
    if return_vector:
        return sigma, v.detach()
    return sigma
