"""Per-layer bounds of every ``nn.Conv2d`` of a model, with each layer's real input size."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from ._utils import conv_output_size, resolve_padding

__all__ = ["ConvLayerInfo", "collect_conv_layers", "network_bounds", "BOUND_METHODS", "layer_bound"]


@dataclass
class ConvLayerInfo:
    """Static description of one convolution layer as it is used in a forward pass.

    Attributes
    ----------
    name : str
        Qualified module name (``model.named_modules()``).
    module : nn.Conv2d
        The layer itself (its ``weight`` is the kernel).
    input_size, output_size : (int, int)
        Spatial sizes ``(H, W)`` seen during the probing forward pass.
    stride, padding, dilation : (int, int)
    groups : int
    padding_mode : str
        ``"zeros"`` for ordinary layers.  The zero-padded operators used by
        :func:`~toeplitznet.bounds.power_method` and
        :func:`~toeplitznet.bounds.exact_spectral_norm` only model ``"zeros"``;
        LipBound (certified) and Singla-Feizi bounds are valid for any size and
        also for circular padding.
    n_calls : int
        How many times the module was called in the probing pass (the first
        call's sizes are recorded).
    """

    name: str
    module: nn.Conv2d
    input_size: Tuple[int, int]
    output_size: Tuple[int, int]
    stride: Tuple[int, int]
    padding: Tuple[int, int]
    dilation: Tuple[int, int]
    groups: int
    padding_mode: str = "zeros"
    n_calls: int = 1
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def kernel(self) -> torch.Tensor:
        return self.module.weight

    def as_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "kernel_shape": tuple(self.module.weight.shape),
            "input_size": self.input_size,
            "output_size": self.output_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "padding_mode": self.padding_mode,
        }


def collect_conv_layers(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    device: Optional[torch.device] = None,
    dtype: Optional[torch.dtype] = None,
) -> List[ConvLayerInfo]:
    """Find every :class:`torch.nn.Conv2d` with its real input size by one probing forward pass.

    Parameters
    ----------
    model : nn.Module
    input_shape : sequence of int
        Shape of the dummy input, e.g. ``(1, 3, 224, 224)``.
    device, dtype : optional
        Device/dtype of the dummy input (default: those of the first parameter).

    Returns
    -------
    list of ConvLayerInfo
        In the order in which the layers are first called.  Layers that are never
        called are omitted.  The model is run in eval mode under ``no_grad`` and
        its training flag is restored afterwards.
    """
    first = next(model.parameters(), None)
    device = device if device is not None else (first.device if first is not None else torch.device("cpu"))
    dtype = dtype if dtype is not None else (first.dtype if first is not None else torch.float32)
    names = {m: n for n, m in model.named_modules()}
    found: Dict[nn.Module, ConvLayerInfo] = {}
    order: List[nn.Module] = []

    def hook(module, inputs, output):
        if module in found:
            found[module].n_calls += 1
            return
        x = inputs[0]
        h, w = int(x.shape[-2]), int(x.shape[-1])
        kh, kw = module.kernel_size
        dil = tuple(module.dilation)
        if isinstance(module.padding, str):
            pad = resolve_padding(module.padding, (kh, kw), dil)
        else:
            pad = tuple(module.padding)
        stride = tuple(module.stride)
        found[module] = ConvLayerInfo(
            name=names.get(module, ""),
            module=module,
            input_size=(h, w),
            output_size=(int(output.shape[-2]), int(output.shape[-1])),
            stride=stride,
            padding=pad,
            dilation=dil,
            groups=int(module.groups),
            padding_mode=str(module.padding_mode),
        )
        order.append(module)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(tuple(input_shape), device=device, dtype=dtype))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    infos = [found[m] for m in order]
    for info in infos:  # consistency check of the recorded geometry
        k = info.module.kernel_size
        for ax in range(2):
            expect = conv_output_size(info.input_size[ax], k[ax], info.padding[ax], info.stride[ax], info.dilation[ax])
            if info.padding_mode == "zeros" and expect != info.output_size[ax]:
                raise RuntimeError(f"unexpected output size for layer {info.name}")
    return infos


def _lipbound(info: ConvLayerInfo, w, **kw):
    from .lipbound import lipbound

    return lipbound(w, groups=info.groups, **kw)


def _power(info: ConvLayerInfo, w, **kw):
    from .power_method import power_method

    return power_method(w, info.input_size, padding=info.padding, stride=info.stride,
                        dilation=info.dilation, groups=info.groups, **kw)


def _sedghi(info: ConvLayerInfo, w, **kw):
    from .circular import sedghi2019

    return sedghi2019(w, info.input_size, dilation=info.dilation, groups=info.groups, **kw)


def _singla(info: ConvLayerInfo, w, **kw):
    from .singla import singla2019

    return singla2019(w, dilation=info.dilation, groups=info.groups, **kw)


def _gram(info: ConvLayerInfo, w, **kw):
    from .circular import gram_iteration

    return gram_iteration(w, info.input_size, dilation=info.dilation, groups=info.groups, **kw)


def _gram_zero(info: ConvLayerInfo, w, **kw):
    from .circular import gram_iteration_zero_padding

    return gram_iteration_zero_padding(w, info.input_size, padding=info.padding, stride=info.stride,
                                       dilation=info.dilation, groups=info.groups, **kw)


def _exact(info: ConvLayerInfo, w, **kw):
    from .exact import exact_spectral_norm

    return exact_spectral_norm(w, info.input_size, padding=info.padding, stride=info.stride,
                               dilation=info.dilation, groups=info.groups, **kw)


#: name -> function(info, kernel, **kw) computing one layer's value.
BOUND_METHODS = {
    "lipbound": _lipbound,
    "power_method": _power,
    "sedghi2019": _sedghi,
    "singla2019": _singla,
    "gram_iteration": _gram,
    "gram_iteration_zero_padding": _gram_zero,
    "exact": _exact,
}


def layer_bound(info: ConvLayerInfo, method: str = "lipbound", **kw) -> float:
    """Value of ``method`` (a key of :data:`BOUND_METHODS`) for one collected layer."""
    if method not in BOUND_METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {sorted(BOUND_METHODS)}")
    with torch.no_grad():
        val = BOUND_METHODS[method](info, info.module.weight.detach(), **kw)
    return float(val)


def network_bounds(model: nn.Module, input_shape: Sequence[int], method: str = "lipbound", **kw) -> List[Dict[str, Any]]:
    """Spectral-norm bound (or estimate) of every convolution of ``model``.

    Parameters
    ----------
    model : nn.Module
    input_shape : sequence of int
        Dummy input shape, e.g. ``(1, 3, 224, 224)``; one forward pass with hooks
        records each ``nn.Conv2d``'s real input size.
    method : str
        One of ``"lipbound"``, ``"power_method"``, ``"sedghi2019"``,
        ``"singla2019"``, ``"gram_iteration"``, ``"gram_iteration_zero_padding"``,
        ``"exact"``.
    **kw
        Extra keyword arguments of the method (e.g. ``n_samples``, ``certified``,
        ``n_iter``, ``variant``).

    Returns
    -------
    list of dict
        One dict per layer: ``name``, ``kernel_shape``, ``input_size``,
        ``output_size``, ``stride``, ``padding``, ``dilation``, ``groups``,
        ``padding_mode``, ``method`` and ``bound`` (float).

    Notes
    -----
    Grouped convolutions (e.g. depthwise) are handled exactly: the operator is
    block-diagonal over the groups, so sigma_1 is the maximum over groups; each
    method either convolves with ``groups`` directly (power method, exact) or takes
    the maximum of per-group values.  Bounds that ignore the stride (LipBound,
    Sedghi, Gram, Singla) return the stride-1 value, which upper-bounds the strided
    operator.
    """
    infos = collect_conv_layers(model, input_shape)
    out = []
    for info in infos:
        d = info.as_dict()
        d["method"] = method
        d["bound"] = layer_bound(info, method, **kw)
        out.append(d)
    return out
