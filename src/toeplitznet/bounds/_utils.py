"""Small shared helpers for :mod:`toeplitznet.bounds` (shapes, paddings, kernels).

Conventions used throughout the subpackage
------------------------------------------
* A kernel is a tensor of shape ``(cout, cin, kh, kw)`` exactly as stored by
  :class:`torch.nn.Conv2d` (``cin`` is the number of input channels *per group*).
* The operator of a layer is the linear map ``x -> conv2d(x, kernel)`` applied to
  inputs of shape ``(cin, H, W)``, i.e. PyTorch's cross-correlation.  Singular
  values do not depend on correlation-vs-convolution (the two operators differ by a
  permutation of rows/columns), nor on a circular shift of the output.
* ``input_size``/``padding``/``stride``/``dilation`` accept an int or a pair
  ``(h, w)``; they are normalised with :func:`pair`.
"""

from __future__ import annotations

from typing import Sequence, Tuple, Union

import torch

IntPair = Union[int, Sequence[int]]


def pair(value: IntPair, name: str = "value") -> Tuple[int, int]:
    """Return ``(a, b)`` from an int or a length-2 sequence of ints."""
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return int(value), int(value)
    try:
        a, b = value  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    return int(a), int(b)


def check_kernel(kernel: torch.Tensor) -> None:
    """Raise a ``ValueError`` unless ``kernel`` is a 4-D floating tensor."""
    if not isinstance(kernel, torch.Tensor):
        raise TypeError(f"kernel must be a torch.Tensor, got {type(kernel).__name__}")
    if kernel.dim() != 4:
        raise ValueError(
            f"kernel must have shape (cout, cin, kh, kw), got {tuple(kernel.shape)}"
        )
    if not kernel.is_floating_point():
        raise TypeError(f"kernel must be a floating tensor, got dtype {kernel.dtype}")


def default_padding(kernel_size: Tuple[int, int], dilation: Tuple[int, int] = (1, 1)) -> Tuple[int, int]:
    """The "same"-style default padding ``dilation * (k - 1) // 2`` per axis (= ``k // 2`` for odd ``k``)."""
    return tuple(d * (k - 1) // 2 for k, d in zip(kernel_size, dilation))  # type: ignore[return-value]


def resolve_padding(padding, kernel_size, dilation=(1, 1)) -> Tuple[int, int]:
    """Resolve ``None`` (default "same"-style), ``"valid"``, ``"same"``, int or pair into a pair.

    ``"same"`` is only exact for stride 1 and odd effective kernel sizes; for an even
    effective size PyTorch pads asymmetrically, which we do not model (ValueError).
    """
    if padding is None:
        return default_padding(kernel_size, dilation)
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding == "same":
            out = []
            for k, d in zip(kernel_size, dilation):
                total = d * (k - 1)
                if total % 2:
                    raise ValueError(
                        "padding='same' with an even effective kernel size is asymmetric; "
                        "pass explicit integer padding instead"
                    )
                out.append(total // 2)
            return tuple(out)  # type: ignore[return-value]
        raise ValueError(f"unknown padding string {padding!r}")
    return pair(padding, "padding")


def conv_output_size(n: int, k: int, p: int, s: int, d: int = 1) -> int:
    """Spatial output size of a zero-padded convolution along one axis."""
    eff = d * (k - 1) + 1
    out = (n + 2 * p - eff) // s + 1
    if out < 1:
        raise ValueError(
            f"empty convolution output: input {n}, kernel {k} (dilation {d}), padding {p}, stride {s}"
        )
    return out


def transpose_output_padding(n: int, m: int, k: int, p: int, s: int, d: int = 1) -> int:
    """``output_padding`` that makes ``conv_transpose2d`` map size ``m`` back to exactly ``n``."""
    eff = d * (k - 1) + 1
    return n - ((m - 1) * s - 2 * p + eff)


def dilate_kernel(kernel: torch.Tensor, dilation: IntPair) -> torch.Tensor:
    """Insert ``dilation - 1`` zeros between taps (explicit dilated kernel; differentiable)."""
    dh, dw = pair(dilation, "dilation")
    if dh == 1 and dw == 1:
        return kernel
    co, ci, kh, kw = kernel.shape
    out = kernel.new_zeros(co, ci, dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    out[:, :, ::dh, ::dw] = kernel
    return out


def fold_kernel(kernel: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Fold the spatial taps modulo ``size`` (circular aliasing), for kernels larger than the torus.

    A circular convolution on an ``N x N`` torus only sees tap offsets modulo ``N``,
    so taps ``a`` and ``a + N`` act identically and can be summed.  This is needed
    because ``torch.fft.fft2(x, s=...)`` *crops* (rather than folds) when ``s`` is
    smaller than the input.
    """
    nh, nw = size
    kh, kw = kernel.shape[-2:]
    if kh <= nh and kw <= nw:
        return kernel
    ph = -(-kh // nh) * nh
    pw = -(-kw // nw) * nw
    padded = torch.nn.functional.pad(kernel, (0, pw - kw, 0, ph - kh))
    lead = padded.shape[:-2]
    padded = padded.reshape(*lead, ph // nh, nh, pw // nw, nw)
    return padded.sum(dim=(-4, -2))


def split_groups(kernel: torch.Tensor, groups: int) -> torch.Tensor:
    """View a grouped kernel ``(cout, cin/g, kh, kw)`` as ``(g, cout/g, cin/g, kh, kw)``.

    The operator of a grouped convolution is block-diagonal (one block per group, up
    to a permutation of rows and columns), hence its largest singular value is the
    maximum over the groups of the per-group largest singular values.
    """
    co = kernel.shape[0]
    if groups < 1 or co % groups:
        raise ValueError(f"cout={co} is not divisible by groups={groups}")
    return kernel.reshape(groups, co // groups, *kernel.shape[1:])
