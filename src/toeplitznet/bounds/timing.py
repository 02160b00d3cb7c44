"""Timing of whole-network bound computations (thesis Table 5.2 protocol).

The work is split into a *prepare* phase (not timed: probe the model once to collect
every convolution kernel with its input size, stride and padding, allocate the
power-method vectors) and a *compute* phase (timed: the bound computation of all
layers from the current kernels).  This mirrors training, where layer geometry is
static and only the kernel values change between steps:

* LipBound evaluates all layers with :func:`~toeplitznet.bounds.lipbound_batched`
  (one batched Gram product per layer, one global reduction);
* the power method (Farnia et al. 2019) runs ``n_iter`` iterations per layer
  starting from that layer's persistent vector, which is updated in place, as in
  spectral-normalisation training;
* Gram iteration (Delattre et al. 2023) runs per layer on the circular operator
  of the layer's input size.

Nothing that depends on kernel values is precomputed, and every method runs
without autograd (``torch.no_grad``).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._utils import transpose_output_padding
from .circular import gram_iteration, gram_iteration_zero_padding
from .lipbound import lipbound_batched
from .network import ConvLayerInfo, collect_conv_layers

__all__ = ["PreparedNetwork", "prepare_network", "make_bound_fn", "time_fn", "time_network_bounds", "TIMED_METHODS"]

TIMED_METHODS = ("lipbound", "lipbound_smaller", "power_method", "gram_iteration", "gram_iteration_zero_padding")


@dataclass
class PreparedNetwork:
    """Result of the (untimed) prepare phase: kernels and geometry of all conv layers."""

    infos: List[ConvLayerInfo]
    kernels: List[torch.Tensor]
    groups: List[int]
    device: torch.device
    dtype: torch.dtype

    @property
    def n_layers(self) -> int:
        return len(self.kernels)


def prepare_network(model: nn.Module, input_shape: Sequence[int], device="cpu", dtype=torch.float32) -> PreparedNetwork:
    """Move ``model`` to ``device``/``dtype`` and collect its convolutions (see :func:`collect_conv_layers`)."""
    device = torch.device(device)
    model = model.to(device=device, dtype=dtype)
    infos = collect_conv_layers(model, input_shape, device=device, dtype=dtype)
    kernels = [i.module.weight.detach() for i in infos]
    return PreparedNetwork(infos, kernels, [i.groups for i in infos], device, dtype)


def _make_power_fn(prep: PreparedNetwork, n_iter: int = 10, seed: int = 0) -> Callable[[], torch.Tensor]:
    gen = torch.Generator(device="cpu").manual_seed(seed)
    layers = []
    for info, w in zip(prep.infos, prep.kernels):
        cin = w.shape[1] * info.groups
        h, wd = info.input_size
        v = torch.randn((1, cin, h, wd), generator=gen, dtype=prep.dtype).to(prep.device)
        v /= v.norm()
        out_pad = tuple(
            transpose_output_padding(info.input_size[a], info.output_size[a], w.shape[2 + a], info.padding[a],
                                     info.stride[a], info.dilation[a])
            for a in range(2)
        )
        conv_kw = dict(stride=info.stride, padding=info.padding, dilation=info.dilation, groups=info.groups)
        layers.append((w, v, conv_kw, out_pad))

    def run() -> torch.Tensor:
        sig = []
        for w, v, conv_kw, out_pad in layers:
            x = v
            for _ in range(n_iter):
                u = F.conv2d(x, w, **conv_kw)
                x = F.conv_transpose2d(u, w, output_padding=out_pad, **conv_kw)
                x = x / x.norm()
            v.copy_(x)  # persistent vector, as in training
            sig.append(F.conv2d(v, w, **conv_kw).norm())
        return torch.stack(sig)

    return run


def make_bound_fn(prep: PreparedNetwork, method: str, **kw) -> Callable[[], torch.Tensor]:
    """Closure computing ``method`` for all layers of ``prep`` (the part that is timed).

    Parameters
    ----------
    prep : PreparedNetwork
    method : {"lipbound", "lipbound_smaller", "power_method", "gram_iteration", "gram_iteration_zero_padding"}
        ``lipbound_smaller`` is LipBound with the outer sum over the smaller channel dimension whatever
        ``outer`` says (the cheaper, tighter variant; Table 5.2's column "not in thesis").
    **kw
        ``n_samples``/``certified``/``outer`` (LipBound, default ``S = 10``, uncorrected as in the thesis;
        ``outer`` as in :func:`~toeplitznet.bounds.lipbound`, ``"cout"`` is Eq. 5.38), ``n_iter`` (power
        method: 10; Gram: 6), ``seed``.

    Returns
    -------
    callable
        ``fn() -> Tensor`` of per-layer values, run under ``torch.no_grad``.
    """
    if method in ("lipbound", "lipbound_smaller"):
        n_samples = kw.pop("n_samples", 10)
        certified = kw.pop("certified", False)
        if method == "lipbound_smaller":
            kw["outer"] = "smaller"
        kernels, groups = prep.kernels, prep.groups

        def fn():
            return lipbound_batched(kernels, n_samples, certified, groups=groups, **kw)

    elif method == "power_method":
        fn = _make_power_fn(prep, **kw)
    elif method in ("gram_iteration", "gram_iteration_zero_padding"):
        n_iter = kw.pop("n_iter", 6)
        zero = method == "gram_iteration_zero_padding"

        def fn():
            out = []
            for info, w in zip(prep.infos, prep.kernels):
                if zero:
                    out.append(gram_iteration_zero_padding(w, info.input_size, n_iter, info.padding,
                                                           dilation=info.dilation, groups=info.groups))
                else:
                    out.append(gram_iteration(w, info.input_size, n_iter, dilation=info.dilation, groups=info.groups))
            return torch.stack(out)

    else:
        raise ValueError(f"unknown timed method {method!r}; choose from {TIMED_METHODS}")

    def wrapped():
        with torch.no_grad():
            return fn()

    return wrapped


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_fn(fn: Callable[[], object], device="cpu") -> float:
    """Wall-clock milliseconds of one call of ``fn`` (synchronising CUDA before and after)."""
    device = torch.device(device)
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return (time.perf_counter() - t0) * 1e3


def _summary(times: List[float]) -> Dict[str, object]:
    return {
        "mean_ms": statistics.fmean(times),
        "std_ms": statistics.stdev(times) if len(times) > 1 else 0.0,
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "times_ms": list(times),
    }


def time_network_bounds(
    model: nn.Module,
    input_shape: Sequence[int],
    methods: Iterable[str] = ("lipbound", "power_method"),
    repeats: int = 10,
    warmup: int = 3,
    device="cpu",
    *,
    dtype: torch.dtype = torch.float32,
    method_kwargs: Optional[Dict[str, dict]] = None,
) -> Dict[str, object]:
    """Time the computation of several bounds over all convolution layers of ``model``.

    The methods are measured side by side: after ``warmup`` untimed calls of each,
    the ``repeats`` timed calls are interleaved (round robin), so that slow drifts
    of the machine affect all methods alike.

    Parameters
    ----------
    model : nn.Module
        Moved to ``device``/``dtype``.
    input_shape : sequence of int
        E.g. ``(1, 3, 224, 224)``.
    methods : iterable of str
        Subset of :data:`TIMED_METHODS`.
    repeats, warmup : int
    device : str or torch.device
    dtype : torch.dtype, keyword-only
    method_kwargs : dict, keyword-only
        Per-method keyword arguments for :func:`make_bound_fn`, e.g.
        ``{"power_method": {"n_iter": 10}, "lipbound": {"n_samples": 10}}``.

    Returns
    -------
    dict
        ``{method: {"mean_ms", "std_ms", "median_ms", "min_ms", "times_ms",
        "values"}, "n_layers": int, "device": str}``; ``values`` holds the
        per-layer results of the last call.
    """
    methods = list(methods)
    method_kwargs = dict(method_kwargs or {})
    device = torch.device(device)
    prep = prepare_network(model, input_shape, device=device, dtype=dtype)
    fns = {m: make_bound_fn(prep, m, **dict(method_kwargs.get(m, {}))) for m in methods}
    for m in methods:
        for _ in range(warmup):
            fns[m]()
    _sync(device)
    times: Dict[str, List[float]] = {m: [] for m in methods}
    last: Dict[str, torch.Tensor] = {}
    for _ in range(repeats):
        for m in methods:
            _sync(device)
            t0 = time.perf_counter()
            last[m] = fns[m]()
            _sync(device)
            times[m].append((time.perf_counter() - t0) * 1e3)
    result: Dict[str, object] = {"n_layers": prep.n_layers, "device": str(device)}
    for m in methods:
        summ = _summary(times[m])
        summ["values"] = last[m].detach().cpu().tolist() if m in last else []
        result[m] = summ
    return result


#: The 17 torchvision networks of thesis Table 5.2: constructor name -> the thesis's row label.
TABLE_5_2_NETWORKS = {
    "alexnet": "AlexNet",
    "resnet18": "ResNet 18",
    "resnet34": "ResNet 34",
    "resnet50": "ResNet 50",
    "resnet101": "ResNet 101",
    "resnet152": "ResNet 152",
    "densenet121": "DenseNet 121",
    "densenet161": "DenseNet 161",
    "densenet169": "DenseNet 169",
    "densenet201": "DenseNet 201",
    "vgg11": "VGG 11",
    "vgg13": "VGG 13",
    "vgg16": "VGG 16",
    "vgg19": "VGG 19",
    "wide_resnet50_2": "WideResNet 50-2",
    "squeezenet1_0": "SqueezeNet 1-0",
    "squeezenet1_1": "SqueezeNet 1-1",
}
