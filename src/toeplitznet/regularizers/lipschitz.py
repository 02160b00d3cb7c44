r"""Lipschitz regularisation of thesis Section 5.5 (Eq. 5.56, L6140-6160) and whole-network bounds.

Eq. 5.56 (thesis L6142):

.. math::  r(\Omega) = C_1 \sum_{(W, b) \in \Omega} (\|W\|_F + \|b\|_2)
                       + C_2 \sum_{i=1}^{p-1} \log \mathrm{LipBound}(K_{W^{(i)}})

"In practice, we also include the upper bound on the Lipschitz of the batch normalization [...] (Appendix C.4.1
of Tsuzuku et al. 2018) but we omit the last fully connected layer" (L6152-6156).

:class:`LipschitzRegularizer` implements it as the author's June 2020 code does
(``neuralnet_v1:neuralnet/pytorch/lipschitz.py@8501c6f``, see ``/work/shared/research/robustness.md``):

* the log-sum runs over **every** ``nn.Conv2d`` (3x3, strided, 1x1 shortcuts) and every batch norm; no
  ``nn.Linear`` enters it, wherever it sits (the thesis omits the last FC layer; Wide ResNet and ResNet have no
  other one, so for them this is exactly the thesis's ``p - 1`` layers);
* the BN bound is ``max_c |gamma_c / sqrt(running_var_c + eps)|``, the spectral norm of the eval-mode affine map
  (Tsuzuku et al. 2018, App. C.4.1); the gradient flows into ``gamma`` only;
* LipBound is the PolyGrid value with ``S = samples`` (thesis L6169: ``S = 10``) and, by default, **without** the
  ``(1 - alpha)^{-1}`` certification factor of Eq. 5.52 (``certified=False``, also the default of
  :func:`toeplitznet.bounds.lipbound`; the factor entered the author's code only in Aug 2021);
* ``grid="thesis"`` is Eq. 5.51's ``{2 pi k / S, k = 0..S-1}`` per axis (what :func:`~toeplitznet.bounds.lipbound`
  evaluates); ``grid="linspace"`` is the 2020 code's ``numpy.linspace(0, 2 pi, S)`` per axis, whose ``S`` points
  contain both ``0`` and ``2 pi``: as the polynomials are ``2 pi``-periodic it is exactly the thesis grid with
  ``S - 1`` points, and it is evaluated as such;
* ``method="power_method"`` is the AT+PM baseline (Farnia et al. 2019, thesis L6170): ``power_iters`` power
  iterations on the zero-padded strided operator of each convolution at its real input size, from a fixed random
  start (one per input shape, never warm-started), with gradients through the iterations;
* ``c1_form="norms"`` is Eq. 5.56's first term, over every ``Conv2d`` and ``Linear`` layer (the head included: it
  is the l2 part of the thesis's objective, which the thesis does not restrict); ``c1_form="weight_decay"`` is the
  author's code, where the C1 term is SGD weight decay: the regulariser returns only the C2 terms and exposes
  :attr:`LipschitzRegularizer.weight_decay` ``= c1`` for the optimizer.

:func:`layer_bounds` lists the per-layer values, and :func:`product_of_bounds` composes them into an upper bound of
the network's l2 Lipschitz constant (residual blocks: see its docstring and ``docs/lipreg.md``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..bounds import collect_conv_layers, exact_spectral_norm, lipbound_batched, power_method
from ..bounds._utils import transpose_output_padding

__all__ = ["LipschitzRegularizer", "bn_lipschitz", "layer_bounds", "product_of_bounds"]

_METHODS = ("lipbound", "power_method")
_GRIDS = ("thesis", "linspace")
_C1_FORMS = ("norms", "weight_decay")


# --------------------------------------------------------------------------- #
# per-layer values
# --------------------------------------------------------------------------- #
def bn_lipschitz(bn: _BatchNorm) -> torch.Tensor:
    """``max_c |gamma_c / sqrt(running_var_c + eps)|``: the l2 Lipschitz constant of a batch norm in eval mode
    (a diagonal affine map; Tsuzuku et al. 2018, App. C.4.1; thesis L6152). Differentiable in ``gamma`` only
    (``gamma = 1`` without affine parameters); raises ``ValueError`` without running statistics."""
    if bn.running_var is None:
        raise ValueError(f"{type(bn).__name__} without running statistics has no fixed Lipschitz constant "
                         "(track_running_stats=False): its eval map depends on the batch")
    scale = torch.rsqrt(bn.running_var.detach() + bn.eps)
    if bn.weight is not None:
        scale = bn.weight * scale
    return scale.abs().amax()


def _grid_samples(samples: int, grid: str) -> int:
    """Number of points of the equivalent thesis grid ``{2 pi k / S'}`` (``S' = S - 1`` for ``linspace``)."""
    if grid not in _GRIDS:
        raise ValueError(f"grid must be one of {_GRIDS}, got {grid!r}")
    s = int(samples) - (1 if grid == "linspace" else 0)
    if s < 1:
        raise ValueError(f"samples={samples} is too small for grid={grid!r}")
    return s


def _conv_lipbounds(convs: Sequence[nn.Conv2d], samples: int, grid: str, certified: bool, outer: str) -> torch.Tensor:
    """LipBound of each convolution (one batched call per dtype/device; differentiable)."""
    return lipbound_batched([m.weight for m in convs], _grid_samples(samples, grid), certified, outer=outer,
                            groups=[int(m.groups) for m in convs])


class _StackedPowerMethod:
    """Power method (Farnia et al. 2019) on several convolutions of identical geometry at once.

    ``B`` kernels ``(cout, cin, kh, kw)`` are stacked into one grouped convolution (``groups = B``) acting on
    ``(1, B cin, H, W)``; each block is normalised separately, so block ``b`` runs exactly
    :func:`toeplitznet.bounds.power_method` on kernel ``b`` (checked in the tests). The start vector is fixed.
    """

    def __init__(self, modules: List[nn.Conv2d], input_size: Tuple[int, int], output_size: Tuple[int, int],
                 start: torch.Tensor, n_iter: int):
        m0 = modules[0]
        self.modules = modules
        self.n_iter = int(n_iter)
        kh, kw = m0.kernel_size
        self.conv_kw = dict(stride=tuple(m0.stride), padding=tuple(m0.padding), dilation=tuple(m0.dilation))
        self.output_padding = tuple(
            transpose_output_padding(input_size[a], output_size[a], (kh, kw)[a], m0.padding[a], m0.stride[a],
                                     m0.dilation[a]) for a in range(2))
        self.start = start  # (cin, H, W), unit norm, float64 on the CPU
        self._v0: Dict[Tuple, torch.Tensor] = {}

    def _start(self, dtype, device) -> torch.Tensor:
        key = (dtype, str(device))
        if key not in self._v0:  # the (B cin, H, W) start, cached per dtype/device
            b = len(self.modules)
            s = self.start.to(dtype=dtype, device=device)
            self._v0[key] = s.expand(b, *s.shape).reshape(1, b * s.shape[0], *s.shape[1:]).contiguous()
        return self._v0[key]

    def __call__(self) -> torch.Tensor:
        b = len(self.modules)
        w = torch.stack([m.weight for m in self.modules])  # (B, cout, cin, kh, kw)
        co, ci = w.shape[1], w.shape[2]
        wg = w.reshape(b * co, ci, *w.shape[3:])
        v = self._start(w.dtype, w.device)
        tiny = torch.finfo(w.dtype).tiny
        for _ in range(self.n_iter):
            u = F.conv2d(v, wg, groups=b, **self.conv_kw)
            v = F.conv_transpose2d(u, wg, groups=b, output_padding=self.output_padding, **self.conv_kw)
            vb = v.reshape(b, -1)
            v = (vb / vb.norm(dim=1, keepdim=True).clamp_min(tiny)).reshape(v.shape)
        return F.conv2d(v, wg, groups=b, **self.conv_kw).reshape(b, -1).norm(dim=1)


# --------------------------------------------------------------------------- #
# the regulariser
# --------------------------------------------------------------------------- #
class _Plan:
    """The layers of one model the regulariser reads (built once; weights are read at every call)."""

    def __init__(self, reg: "LipschitzRegularizer", model: nn.Module):
        self.convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
        self.bns = [m for m in model.modules() if isinstance(m, _BatchNorm)] if reg.bn else []
        for m in self.bns:
            if m.running_var is None:
                raise ValueError("LipschitzRegularizer(bn=True) needs batch norms with running statistics")
        self.l2 = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        self.pm_groups: List[Tuple[List[int], _StackedPowerMethod]] = []
        self.pm_single: List[Tuple[int, Any]] = []
        if reg.method == "power_method":
            self._build_power(reg, model)

    def _build_power(self, reg: "LipschitzRegularizer", model: nn.Module) -> None:
        infos = collect_conv_layers(model, (1,) + tuple(reg.input_shape))
        by_module = {i.module: i for i in infos}
        missing = [m for m in self.convs if m not in by_module]
        if missing:
            raise ValueError(f"{len(missing)} Conv2d layers are not called by a forward pass of input_shape "
                             f"{tuple(reg.input_shape)}; the power method needs their input sizes")
        gen = torch.Generator().manual_seed(int(reg.seed))
        starts: Dict[Tuple[int, ...], torch.Tensor] = {}

        def start_for(shape):
            if shape not in starts:  # one fixed start per input shape, as in the author's code
                v = 0.05 * torch.randn(shape, generator=gen, dtype=torch.float64)
                starts[shape] = v / v.norm()
            return starts[shape]

        groups: Dict[Tuple, List[int]] = {}
        for idx, m in enumerate(self.convs):
            info = by_module[m]
            cin = m.weight.shape[1] * m.groups
            shape = (cin,) + tuple(info.input_size)
            if m.groups != 1 or info.padding_mode != "zeros":
                s = start_for(shape)
                self.pm_single.append((idx, (info, s)))
                continue
            key = (tuple(m.weight.shape), info.input_size, info.output_size, info.stride, info.padding, info.dilation)
            groups.setdefault(key, []).append(idx)
        for key, idxs in groups.items():
            info = by_module[self.convs[idxs[0]]]
            cin = self.convs[idxs[0]].weight.shape[1]
            start = start_for((cin,) + tuple(info.input_size))
            self.pm_groups.append((idxs, _StackedPowerMethod([self.convs[i] for i in idxs], info.input_size,
                                                             info.output_size, start, reg.power_iters)))


class LipschitzRegularizer:
    r"""Eq. 5.56 of the thesis (L6142) with the BN bounds (L6152): a differentiable scalar, recomputed at every call.

    ``reg()`` (or ``reg(model)``) returns

    ``C1 * sum_{Conv2d, Linear} (||W||_F + ||b||_2) + C2 * (sum_{Conv2d} log bound_i + sum_{BN} log bn_i)``

    (without the C1 term when ``c1_form="weight_decay"``; then put :attr:`weight_decay` into the optimizer).
    See the module docstring for every choice and ``docs/lipreg.md``.

    Parameters
    ----------
    model : nn.Module
        The network (its layers are collected once; their current weights are read at every call).
    c1, c2 : float, keyword-only
        Eq. 5.56's ``C1`` and ``C2`` (author's CIFAR config: ``c2 = 0.008``, weight decay ``3e-4``).
    method : {"lipbound", "power_method"}
        LipBound with PolyGrid (AT+LipReg) or the conv power method (AT+PM, Farnia et al. 2019).
    samples : int
        LipBound grid size ``S`` (thesis: 10).
    grid : {"thesis", "linspace"}
        Eq. 5.51's ``2 pi k / S`` grid, or the 2020 code's ``linspace(0, 2 pi, S)`` (= the thesis grid of ``S - 1``).
    c1_form : {"norms", "weight_decay"}
    input_shape : (C, H, W)
        Input of the probing forward pass that records each convolution's input size (power method only).
    power_iters : int
        Power iterations per step (thesis: 10).
    bn : bool
        Include the batch-norm bounds.
    certified : bool, keyword-only, default False
        Multiply LipBound by the ``(1 - alpha)^{-1}`` factor of Eq. 5.52 (not done in the 2020 code).
    outer : {"smaller", "cout", "cin"}, keyword-only
        Channel dimension summed outside the supremum (:func:`~toeplitznet.bounds.lipbound`); the 2020 code
        transposes kernels so that ``cout <= cin`` and sums over ``cout``, i.e. ``"smaller"``.
    seed : int, keyword-only
        Seed of the power method's fixed start vectors.
    """

    def __init__(self, model: nn.Module, *, c1: float, c2: float, method: str = "lipbound", samples: int = 10,
                 grid: str = "thesis", c1_form: str = "norms", input_shape: Sequence[int] = (3, 32, 32),
                 power_iters: int = 10, bn: bool = True, certified: bool = False, outer: str = "smaller",
                 seed: int = 0):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        if c1_form not in _C1_FORMS:
            raise ValueError(f"c1_form must be one of {_C1_FORMS}, got {c1_form!r}")
        _grid_samples(samples, grid)
        self.model = model
        self.c1, self.c2 = float(c1), float(c2)
        self.method, self.samples, self.grid, self.c1_form = method, int(samples), grid, c1_form
        self.input_shape = tuple(int(s) for s in input_shape)
        self.power_iters, self.bn, self.certified, self.outer, self.seed = int(power_iters), bool(bn), bool(certified), outer, int(seed)
        self._plans: Dict[int, Tuple[nn.Module, _Plan]] = {}
        self._plan(model)

    @property
    def weight_decay(self) -> float:
        """SGD weight decay the trainer must use: ``c1`` for ``c1_form="weight_decay"``, else ``0.0``."""
        return self.c1 if self.c1_form == "weight_decay" else 0.0

    def _plan(self, model: Optional[nn.Module]) -> _Plan:
        model = self.model if model is None else model
        model = getattr(model, "module", model) if isinstance(model, nn.parallel.DistributedDataParallel) else model
        hit = self._plans.get(id(model))
        if hit is None or hit[0] is not model:
            hit = (model, _Plan(self, model))
            self._plans[id(model)] = hit
        return hit[1]

    def conv_bounds(self, model: Optional[nn.Module] = None) -> torch.Tensor:
        """Differentiable bound (``method``) of every ``Conv2d`` of the model, in ``model.modules()`` order."""
        plan = self._plan(model)
        if not plan.convs:
            p = next((self.model if model is None else model).parameters())
            return p.new_zeros(0)
        if self.method == "lipbound":
            return _conv_lipbounds(plan.convs, self.samples, self.grid, self.certified, self.outer)
        w0 = plan.convs[0].weight
        out: List[Optional[torch.Tensor]] = [None] * len(plan.convs)
        for idxs, runner in plan.pm_groups:
            vals = runner()
            for j, i in enumerate(idxs):
                out[i] = vals[j]
        for i, (info, start) in plan.pm_single:
            m = plan.convs[i]
            out[i] = power_method(m.weight, info.input_size, self.power_iters, padding=info.padding,
                                  stride=info.stride, u0=start.to(w0.dtype), dilation=info.dilation,
                                  groups=info.groups, grad_through_iterations=True)
        return torch.stack(out)  # type: ignore[arg-type]

    def bn_bounds(self, model: Optional[nn.Module] = None) -> torch.Tensor:
        """:func:`bn_lipschitz` of every batch norm (empty when ``bn=False``)."""
        plan = self._plan(model)
        if not plan.bns:
            return next((self.model if model is None else model).parameters()).new_zeros(0)
        return torch.stack([bn_lipschitz(m) for m in plan.bns])

    def l2_term(self, model: Optional[nn.Module] = None) -> torch.Tensor:
        """``sum (||W||_F + ||b||_2)`` over every ``Conv2d`` and ``Linear`` (Eq. 5.56's first sum, unweighted)."""
        plan = self._plan(model)
        tensors = [t for m in plan.l2 for t in (m.weight, m.bias) if t is not None]
        if not tensors:
            return next((self.model if model is None else model).parameters()).new_zeros(())
        return torch.stack([t.norm() for t in tensors]).sum()

    def terms(self, model: Optional[nn.Module] = None) -> Dict[str, torch.Tensor]:
        """Unweighted parts ``l2`` (Eq. 5.56's first sum), ``log_conv``, ``log_bn`` and the weighted ``total``."""
        conv = self.conv_bounds(model)
        bns = self.bn_bounds(model)
        tiny = torch.finfo(conv.dtype if conv.numel() else torch.float32).tiny
        log_conv = conv.clamp_min(tiny).log().sum()
        log_bn = bns.clamp_min(tiny).log().sum() if bns.numel() else log_conv.new_zeros(())
        total = self.c2 * (log_conv + log_bn)
        out = {"log_conv": log_conv, "log_bn": log_bn}
        if self.c1_form == "norms":
            l2 = self.l2_term(model)
            out["l2"] = l2
            total = total + self.c1 * l2
        out["total"] = total
        return out

    def __call__(self, model: Optional[nn.Module] = None) -> torch.Tensor:
        """The regularisation term ``r(Omega)`` of the current weights (0-dim, differentiable)."""
        return self.terms(model)["total"]

    def __repr__(self) -> str:
        return (f"LipschitzRegularizer(c1={self.c1}, c2={self.c2}, method={self.method!r}, samples={self.samples}, "
                f"grid={self.grid!r}, c1_form={self.c1_form!r}, bn={self.bn}, certified={self.certified})")


# --------------------------------------------------------------------------- #
# whole-network bounds
# --------------------------------------------------------------------------- #
def _batched_shape(input_shape: Sequence[int]) -> Tuple[int, ...]:
    shape = tuple(int(s) for s in input_shape)
    return (1,) + shape if len(shape) == 3 else shape


def _module_bounds(model: nn.Module, input_shape, method: str, samples: int, grid: str, certified: bool,
                   power_iters: int, outer: str) -> Dict[nn.Module, Dict[str, Any]]:
    """``{module: {name, kind, bound}}`` for every Standardize, Conv2d, batch norm and Linear of ``model``."""
    from ..models.normalize import Standardize

    conv_methods = ("lipbound", "power_method", "exact")
    if method not in conv_methods:
        raise ValueError(f"method must be one of {conv_methods}, got {method!r}")
    named = list(model.named_modules())
    convs = [m for _, m in named if isinstance(m, nn.Conv2d)]
    infos = {}
    if method != "lipbound" and convs:
        infos = {i.module: i for i in collect_conv_layers(model, _batched_shape(input_shape))}
    conv_vals: Dict[nn.Module, float] = {}
    with torch.no_grad():
        if method == "lipbound" and convs:
            vals = _conv_lipbounds(convs, samples, grid, certified, outer)
            conv_vals = {m: float(v) for m, v in zip(convs, vals)}
        for m in convs if method != "lipbound" else []:
            if m not in infos:
                raise ValueError(f"Conv2d {m} is not called by a forward pass of input_shape {tuple(input_shape)}")
            i = infos[m]
            if method == "exact":
                conv_vals[m] = exact_spectral_norm(m.weight, i.input_size, padding=i.padding, stride=i.stride,
                                                   dilation=i.dilation, groups=i.groups)
            else:
                conv_vals[m] = float(power_method(m.weight, i.input_size, power_iters, padding=i.padding,
                                                  stride=i.stride, dilation=i.dilation, groups=i.groups,
                                                  generator=torch.Generator(device=m.weight.device).manual_seed(0)))
    out: Dict[nn.Module, Dict[str, Any]] = {}
    with torch.no_grad():
        for name, m in named:
            if isinstance(m, Standardize):
                out[m] = {"name": name, "kind": "normalize", "bound": float(1.0 / m.std.min())}
            elif isinstance(m, nn.Conv2d):
                out[m] = {"name": name, "kind": "conv", "bound": conv_vals[m]}
            elif isinstance(m, _BatchNorm):
                out[m] = {"name": name, "kind": "batchnorm", "bound": float(bn_lipschitz(m))}
            elif isinstance(m, nn.Linear):
                out[m] = {"name": name, "kind": "linear",
                          "bound": float(torch.linalg.matrix_norm(m.weight.double(), ord=2))}
    return out


def layer_bounds(model: nn.Module, input_shape: Sequence[int], method: str = "lipbound", *, samples: int = 10,
                 grid: str = "thesis", certified: bool = False, power_iters: int = 10,
                 outer: str = "smaller") -> List[Dict[str, Any]]:
    """Per-layer l2 Lipschitz values, in ``model.named_modules()`` order: ``[{name, kind, bound}]``.

    ``kind`` is ``"conv"`` (``method``: ``"lipbound"`` (PolyGrid, ``certified`` as asked), ``"power_method"``
    (a lower estimate) or ``"exact"`` (ARPACK, the thesis's IRAM), at each layer's input size for an input of
    ``input_shape`` (``(C, H, W)`` or ``(1, C, H, W)``)), ``"batchnorm"`` (:func:`bn_lipschitz`), ``"linear"``
    (exact spectral norm, ``torch.linalg.matrix_norm(ord=2)``) or ``"normalize"`` (input standardisation:
    ``1 / min(std)``).
    """
    vals = _module_bounds(model, input_shape, method, samples, grid, certified, power_iters, outer)
    return [dict(v) for v in vals.values()]


_UNIT = (nn.ReLU, nn.ReLU6, nn.Identity, nn.Dropout, nn.Dropout2d, nn.Flatten, nn.Tanh, nn.Sigmoid, nn.ELU,
         nn.AvgPool2d, nn.AdaptiveAvgPool2d)


def _pool_factor(m: nn.MaxPool2d) -> float:
    """sqrt of the number of windows covering one pixel: the l2 Lipschitz constant bound of a max pooling."""
    kh, kw = (m.kernel_size, m.kernel_size) if isinstance(m.kernel_size, int) else m.kernel_size
    st = m.stride if m.stride is not None else m.kernel_size
    sh, sw = (st, st) if isinstance(st, int) else st
    dil = m.dilation if isinstance(m.dilation, int) else m.dilation[0]
    if dil != 1:
        raise ValueError("dilated max pooling is not supported")
    return math.sqrt(math.ceil(kh / sh) * math.ceil(kw / sw))


class _Composer:
    """Recursive l2 Lipschitz bound of a module from per-layer bounds (see :func:`product_of_bounds`)."""

    def __init__(self, bounds: Dict[nn.Module, Dict[str, Any]]):
        self.bounds = bounds
        self.unknown: List[str] = []

    def __call__(self, m: nn.Module) -> float:
        from ..models.normalize import InputNormalized, Standardize
        from ..models.wide_resnet import WideBasic, WideResNet
        from ..robust.noise import NoisyInput

        if isinstance(m, (nn.Conv2d, nn.Linear, _BatchNorm, Standardize)):
            return self.bounds[m]["bound"]
        if isinstance(m, _UNIT):
            return 1.0
        if isinstance(m, nn.LeakyReLU):
            return max(1.0, abs(m.negative_slope))
        if isinstance(m, nn.MaxPool2d):
            return _pool_factor(m)
        if isinstance(m, nn.Sequential):
            return math.prod(self(c) for c in m)
        if isinstance(m, InputNormalized):
            return self(m.normalize) * self(m.net)
        if isinstance(m, NoisyInput):  # x -> f(x + n): a translation keeps the constant of f
            return self(m.model)
        act = max(1.0, abs(getattr(m, "leaky_slope", 0.0)))
        if isinstance(m, WideBasic):
            branch = self(m.bn1) * act * self(m.conv1) * self(m.bn2) * act * self(m.conv2)
            return branch + self(m.shortcut)
        if isinstance(m, WideResNet):  # conv1, stages, BN, act, global average pooling (<= 1), linear
            return math.prod(self(c) for c in (m.conv1, m.layer1, m.layer2, m.layer3, m.bn, m.linear)) * act
        tv = _torchvision_blocks() if type(m).__module__.startswith("torchvision") else None
        if tv is not None:
            resnet_cls, basic_cls, bottleneck_cls = tv
            if isinstance(m, (basic_cls, bottleneck_cls)):
                names = ("conv1", "bn1", "conv2", "bn2") + (("conv3", "bn3") if isinstance(m, bottleneck_cls) else ())
                branch = math.prod(self(getattr(m, n)) for n in names)
                return branch + (1.0 if m.downsample is None else self(m.downsample))
            if isinstance(m, resnet_cls):
                order = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc")
                return math.prod(self(getattr(m, n)) for n in order)
        children = list(m.children())
        if not children:
            if any(True for _ in m.parameters(recurse=False)):
                raise ValueError(f"no Lipschitz bound for layer type {type(m).__name__}")
            self.unknown.append(type(m).__name__)
            return 1.0
        self.unknown.append(type(m).__name__)
        return math.prod(self(c) for c in children)


def _torchvision_blocks():
    try:
        from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
    except ImportError:  # pragma: no cover - torchvision is a dependency
        return None
    return ResNet, BasicBlock, Bottleneck


def product_of_bounds(model: nn.Module, input_shape: Sequence[int], *, method: str = "lipbound",
                      samples: int = 10, certified: bool = True, grid: str = "thesis", power_iters: int = 10,
                      strict: bool = False) -> float:
    """Upper bound of the l2 Lipschitz constant of ``model`` in eval mode, composed from :func:`layer_bounds`.

    Sequential parts multiply their layers' bounds (conv LipBounds, :func:`bn_lipschitz`, the exact spectral norm
    of every linear layer, ``1 / min(std)`` for input standardisation; ReLU, dropout (eval), average pooling
    (``<= 1``: each output averages its window, Jensen) count 1, LeakyReLU ``max(1, |slope|)``, max pooling
    ``sqrt(windows covering a pixel)``). Residual blocks add branch and shortcut: ``Lip(x -> branch(x) + s(x)) <=
    Lip(branch) + Lip(s)``, with ``Lip(s) = 1`` for identity shortcuts; this is applied to
    :class:`~toeplitznet.models.WideBasic` (``bn1 conv1 bn2 conv2`` + shortcut), :class:`~toeplitznet.models.WideResNet`
    and torchvision ``BasicBlock`` / ``Bottleneck`` / ``ResNet`` (a ReLU after the sum counts 1).

    A module of unknown structure falls back to the product of its children in registration order, which is a
    bound only when they are applied in sequence, and only with every operation as a child module (a warning names
    those modules; ``strict=True`` raises instead).

    ``certified=True`` (default) applies LipBound's Eq. 5.52 factor: without it the grid value may fall below a
    layer's sigma_1 and the product is no longer guaranteed. ``method="exact"`` uses the ARPACK sigma_1 of each
    conv at its real input size (a tighter, still valid bound); ``"power_method"`` gives lower estimates (not a
    bound).
    """
    was_training = model.training
    try:
        bounds = _module_bounds(model, input_shape, method, samples, grid, certified, power_iters, "smaller")
        comp = _Composer(bounds)
        value = comp(model)
    finally:
        model.train(was_training)
    if comp.unknown:
        msg = ("product_of_bounds: no known composition for " + ", ".join(sorted(set(comp.unknown)))
               + "; used the product of their children (a bound only for sequential networks)")
        if strict:
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=2)
    return float(value)
