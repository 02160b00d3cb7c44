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
the network's l2 Lipschitz constant (residual blocks: see its docstring and ``docs/lipreg.md``); with
``fold_bn=True`` batch-norm scales are folded into the adjacent convolutions and the head (a tighter bound).
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
#: how the bounds enter the C2 term: Eq. 5.56's sum of logs, or only the part of each log above 0
_C2_FORMS = ("log", "log_hinge")


# --------------------------------------------------------------------------- #
# per-layer values
# --------------------------------------------------------------------------- #
def bn_lipschitz(bn: _BatchNorm) -> torch.Tensor:
    """``max_c |gamma_c / sqrt(running_var_c + eps)|``: the l2 Lipschitz constant of a batch norm in eval mode
    (a diagonal affine map; Tsuzuku et al. 2018, App. C.4.1; thesis L6152). Differentiable in ``gamma`` only
    (``gamma = 1`` without affine parameters); raises ``ValueError`` without running statistics."""
    return _bn_scale(bn).abs().amax()


def _bn_scale(bn: _BatchNorm) -> torch.Tensor:
    """Signed per-channel scale ``gamma_c / sqrt(running_var_c + eps)`` of a batch norm in eval mode
    (differentiable in ``gamma``; the running variance is detached)."""
    if bn.running_var is None:
        raise ValueError(f"{type(bn).__name__} without running statistics has no fixed Lipschitz constant "
                         "(track_running_stats=False): its eval map depends on the batch")
    scale = torch.rsqrt(bn.running_var.detach() + bn.eps)
    if bn.weight is not None:
        scale = bn.weight * scale
    return scale


def _grid_samples(samples: int, grid: str) -> int:
    """Number of points of the equivalent thesis grid ``{2 pi k / S'}`` (``S' = S - 1`` for ``linspace``)."""
    if grid not in _GRIDS:
        raise ValueError(f"grid must be one of {_GRIDS}, got {grid!r}")
    s = int(samples) - (1 if grid == "linspace" else 0)
    if s < 1:
        raise ValueError(f"samples={samples} is too small for grid={grid!r}")
    return s


def _conv_lipbounds(convs: Sequence[nn.Conv2d], samples: int, grid: str, certified: bool, outer: str,
                    kernels: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
    """LipBound of each convolution (one batched call per dtype/device; differentiable), of its own weight or of
    ``kernels[i]`` in its place."""
    kernels = [m.weight for m in convs] if kernels is None else list(kernels)
    return lipbound_batched(kernels, _grid_samples(samples, grid), certified, outer=outer,
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
        self.linears = [m for m in model.modules() if isinstance(m, nn.Linear)] if reg.linear else []
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
    c2_form : {"log", "log_hinge"}, keyword-only
        ``"log"`` (default, Eq. 5.56): ``sum log bound``, which keeps rewarding a bound shrinking below 1, so a
        large ``c2`` collapses the network (every weight to 0: the log goes to minus infinity while the
        cross-entropy stays at log K). ``"log_hinge"`` (not in the thesis): ``sum max(log bound, 0)``, only
        bounds above 1 are penalised (a Lipschitz-margin / Parseval-style constraint); see docs/lipreg.md.
    linear : bool, keyword-only, default False
        Also put the exact spectral norm of every ``nn.Linear`` into the C2 term (Eq. 5.56 omits the last fully
        connected layer; a network whose head is free can scale its margins and its Lipschitz constant
        together, so a certificate ``margin / L`` needs the head in the budget).
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
                 seed: int = 0, c2_form: str = "log", linear: bool = False):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        if c1_form not in _C1_FORMS:
            raise ValueError(f"c1_form must be one of {_C1_FORMS}, got {c1_form!r}")
        if c2_form not in _C2_FORMS:
            raise ValueError(f"c2_form must be one of {_C2_FORMS}, got {c2_form!r}")
        self.c2_form, self.linear = c2_form, bool(linear)
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

    def linear_bounds(self, model: Optional[nn.Module] = None) -> torch.Tensor:
        """Exact spectral norm of every ``nn.Linear`` (empty unless ``linear=True``)."""
        plan = self._plan(model)
        if not plan.linears:
            return next((self.model if model is None else model).parameters()).new_zeros(0)
        return torch.stack([torch.linalg.matrix_norm(m.weight, ord=2) for m in plan.linears])

    def l2_term(self, model: Optional[nn.Module] = None) -> torch.Tensor:
        """``sum (||W||_F + ||b||_2)`` over every ``Conv2d`` and ``Linear`` (Eq. 5.56's first sum, unweighted)."""
        plan = self._plan(model)
        tensors = [t for m in plan.l2 for t in (m.weight, m.bias) if t is not None]
        if not tensors:
            return next((self.model if model is None else model).parameters()).new_zeros(())
        return torch.stack([t.norm() for t in tensors]).sum()

    def terms(self, model: Optional[nn.Module] = None) -> Dict[str, torch.Tensor]:
        """Unweighted parts ``l2`` (Eq. 5.56's first sum), ``log_conv``, ``log_bn`` (and ``log_linear`` with
        ``linear=True``), each summed per ``c2_form``, and the weighted ``total``."""
        conv = self.conv_bounds(model)
        bns = self.bn_bounds(model)
        tiny = torch.finfo(conv.dtype if conv.numel() else torch.float32).tiny

        def logs(v: torch.Tensor) -> torch.Tensor:
            if not v.numel():
                return conv.new_zeros(())
            lv = v.clamp_min(tiny).log()
            return (lv.clamp_min(0.0) if self.c2_form == "log_hinge" else lv).sum()

        log_conv, log_bn = logs(conv), logs(bns)
        total = self.c2 * (log_conv + log_bn)
        out = {"log_conv": log_conv, "log_bn": log_bn}
        if self.linear:
            out["log_linear"] = logs(self.linear_bounds(model))
            total = total + self.c2 * out["log_linear"]
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
                f"grid={self.grid!r}, c1_form={self.c1_form!r}, bn={self.bn}, certified={self.certified}, "
                f"c2_form={self.c2_form!r}, linear={self.linear})")


# --------------------------------------------------------------------------- #
# whole-network bounds
# --------------------------------------------------------------------------- #
def _batched_shape(input_shape: Sequence[int]) -> Tuple[int, ...]:
    shape = tuple(int(s) for s in input_shape)
    return (1,) + shape if len(shape) == 3 else shape


def _folded_kernel(conv: nn.Conv2d, bn: _BatchNorm, side: str) -> torch.Tensor:
    """Kernel of ``conv o D`` (``side="in"``: the BN acts before the conv, each input channel ``c`` scaled by
    ``s_c``) or of ``D o conv`` (``side="out"``: the BN acts after it, each output channel scaled), with ``s`` the
    signed :func:`_bn_scale`. Grouped convolutions are handled (input channel of row ``o``, column ``j``:
    ``(o // (cout / groups)) * (cin / groups) + j``)."""
    w = conv.weight.detach()
    s = _bn_scale(bn).detach().to(dtype=w.dtype, device=w.device)
    cout, cin_g = int(w.shape[0]), int(w.shape[1])
    if side == "out":
        if s.numel() != cout:
            raise ValueError(f"batch norm of {s.numel()} channels after a conv of {cout} output channels")
        return w * s[:, None, None, None]
    g = int(conv.groups)
    if s.numel() != cin_g * g:
        raise ValueError(f"batch norm of {s.numel()} channels before a conv of {cin_g * g} input channels")
    rows = torch.arange(cout, device=w.device) // (cout // g)
    idx = rows[:, None] * cin_g + torch.arange(cin_g, device=w.device)[None, :]
    return w * s[idx][:, :, None, None]


def _fold_pairs(model: nn.Module) -> Dict[nn.Module, Tuple[_BatchNorm, str]]:
    """``{conv: (bn, side)}``: the convolutions whose adjacent batch norm can be folded into them.

    * :class:`~toeplitznet.models.WideBasic` (pre-activation): ``conv1 <- bn1``, ``conv2 <- bn2`` (``side="in"``:
      ``conv(act(bn(x)))``, the BN scale commutes with the diagonal activation Jacobian); the 1x1 shortcut reads the
      raw block input and is not folded, nor is the stem ``conv1`` of :class:`~toeplitznet.models.WideResNet` (the
      next BN sits inside the residual branch).
    * torchvision ``BasicBlock`` / ``Bottleneck``: ``conv_i -> bn_i`` and a ``downsample = Sequential(conv, bn)``;
      torchvision ``ResNet``: the stem ``conv1 -> bn1`` (``side="out"``: the BN directly follows the conv).
    """
    from ..models.wide_resnet import WideBasic

    tv = _torchvision_blocks()
    pairs: Dict[nn.Module, Tuple[_BatchNorm, str]] = {}

    def add(conv, bn, side):
        if isinstance(conv, nn.Conv2d) and isinstance(bn, _BatchNorm) and bn.running_var is not None:
            pairs[conv] = (bn, side)

    for m in model.modules():
        if isinstance(m, WideBasic):
            add(m.conv1, m.bn1, "in")
            add(m.conv2, m.bn2, "in")
        elif tv is not None and type(m).__module__.startswith("torchvision"):
            resnet_cls, basic_cls, bottleneck_cls = tv
            if isinstance(m, (basic_cls, bottleneck_cls)):
                for k in (1, 2, 3) if isinstance(m, bottleneck_cls) else (1, 2):
                    add(getattr(m, f"conv{k}"), getattr(m, f"bn{k}"), "out")
                ds = m.downsample
                if isinstance(ds, nn.Sequential) and len(ds) == 2:
                    add(ds[0], ds[1], "out")
            elif isinstance(m, resnet_cls):
                add(m.conv1, m.bn1, "out")
    return pairs


def _head_bounds(model: nn.Module, input_shape) -> Dict[nn.Module, float]:
    """``{network: head bound}`` for every :class:`~toeplitznet.models.WideResNet` and torchvision ``ResNet`` of
    ``model`` whose pooling is global (output ``1 x 1``) at ``input_shape``.

    WideResNet: ``x -> linear(pool(act(bn(x))))``, bound ``act * ||W diag(s)||_2 / sqrt(H W)``; ResNet:
    ``x -> fc(avgpool(x))``, bound ``||W||_2 / sqrt(H W)``; ``H x W`` is the pooling's input size, read by a forward
    hook in one eval-mode, no-grad pass of a zero input (the model's mode and the RNG state are restored; the
    model is probed on its first parameter's device, as :func:`~toeplitznet.bounds.collect_conv_layers` does).
    ``1 / sqrt(H W)`` is the exact norm of global average pooling (``P P^T = I / (H W)``).
    """
    from ..models.wide_resnet import WideResNet

    tv = _torchvision_blocks()
    nets: Dict[nn.Module, Tuple[nn.Module, _BatchNorm, nn.Linear, float]] = {}  # net -> (pool, bn, linear, act)
    for m in model.modules():
        if isinstance(m, WideResNet) and isinstance(m.pool, nn.AdaptiveAvgPool2d):
            nets[m] = (m.pool, m.bn, m.linear, max(1.0, abs(float(m.leaky_slope))))
        elif (tv is not None and type(m).__module__.startswith("torchvision") and isinstance(m, tv[0])
              and isinstance(m.avgpool, nn.AdaptiveAvgPool2d)):
            nets[m] = (m.avgpool, None, m.fc, 1.0)
    if not nets:
        return {}
    sizes: Dict[nn.Module, Tuple[int, int, int, int]] = {}

    def hook(module, inputs, output):
        if module not in sizes:
            sizes[module] = (int(inputs[0].shape[-2]), int(inputs[0].shape[-1]),
                             int(output.shape[-2]), int(output.shape[-1]))

    first = next(model.parameters())
    handles = [pool.register_forward_hook(hook) for pool, *_ in nets.values()]
    was_training = model.training
    try:
        model.eval()
        # fork the RNG: a model that draws noise in forward (NoisyInput) must not shift later draws
        devices = ([first.device.index if first.device.index is not None else torch.cuda.current_device()]
                   if first.device.type == "cuda" else [])
        with torch.no_grad(), torch.random.fork_rng(devices=devices):
            model(torch.zeros(_batched_shape(input_shape), dtype=first.dtype, device=first.device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    out: Dict[nn.Module, float] = {}
    with torch.no_grad():
        for net, (pool, bn, lin, act) in nets.items():
            if pool not in sizes or sizes[pool][2:] != (1, 1):
                continue  # not a global average pooling at this input size: keep the unfolded composition
            h, w = sizes[pool][:2]
            wt = lin.weight.detach().double()
            if isinstance(bn, _BatchNorm):
                wt = wt * _bn_scale(bn).detach().double().to(wt.device)[None, :]
            out[net] = act * float(torch.linalg.matrix_norm(wt, ord=2)) / math.sqrt(h * w)
    return out


def _conv_values(items: Sequence[Tuple[nn.Conv2d, torch.Tensor]], method: str, infos: Dict[nn.Module, Any],
                 samples: int, grid: str, certified: bool, power_iters: int, outer: str,
                 input_shape) -> List[float]:
    """Bound (``method``) of each ``(conv, kernel)`` pair: the operator of ``conv``'s geometry (stride, padding,
    dilation, groups, real input size from ``infos``) with ``kernel`` in place of ``conv.weight``. No gradient."""
    if not items:
        return []
    with torch.no_grad():
        if method == "lipbound":
            vals = _conv_lipbounds([m for m, _ in items], samples, grid, certified, outer, [w for _, w in items])
            return [float(v) for v in vals]
        out: List[float] = []
        for m, w in items:
            if m not in infos:
                raise ValueError(f"Conv2d {m} is not called by a forward pass of input_shape {tuple(input_shape)}")
            i = infos[m]
            if method == "exact":
                out.append(exact_spectral_norm(w, i.input_size, padding=i.padding, stride=i.stride,
                                               dilation=i.dilation, groups=i.groups))
            else:
                out.append(float(power_method(w, i.input_size, power_iters, padding=i.padding, stride=i.stride,
                                              dilation=i.dilation, groups=i.groups,
                                              generator=torch.Generator(device=w.device).manual_seed(0))))
        return out


def _module_bounds(model: nn.Module, input_shape, method: str, samples: int, grid: str, certified: bool,
                   power_iters: int, outer: str, fold_bn: bool = False) -> Dict[nn.Module, Dict[str, Any]]:
    """``{module: {name, kind, bound}}`` for every Standardize, Conv2d, batch norm and Linear of ``model``.

    With ``fold_bn`` every convolution that has a batch norm to fold (:func:`_fold_pairs`) also gets
    ``folded_bound`` (the bound of the convolution with the BN scale folded in) and ``folded_bn`` (the BN's name),
    the others ``folded_bound = None``; every WideResNet / torchvision ResNet gets an entry of kind ``"head"``
    (:func:`_head_bounds`).
    """
    from ..models.normalize import Standardize

    conv_methods = ("lipbound", "power_method", "exact")
    if method not in conv_methods:
        raise ValueError(f"method must be one of {conv_methods}, got {method!r}")
    named = list(model.named_modules())
    names = {m: n for n, m in named}
    convs = [m for _, m in named if isinstance(m, nn.Conv2d)]
    infos = {}
    if method != "lipbound" and convs:
        infos = {i.module: i for i in collect_conv_layers(model, _batched_shape(input_shape))}
    args = (method, infos, samples, grid, certified, power_iters, outer, input_shape)
    conv_vals = dict(zip(convs, _conv_values([(m, m.weight) for m in convs], *args)))
    folded: Dict[nn.Module, Tuple[float, str]] = {}
    heads: Dict[nn.Module, float] = {}
    if fold_bn:
        pairs = _fold_pairs(model)
        items = []
        with torch.no_grad():
            for conv, (bn, side) in pairs.items():
                items.append((conv, _folded_kernel(conv, bn, side)))
        vals = _conv_values(items, *args)
        folded = {conv: (v, names.get(bn, "")) for (conv, (bn, _)), v in zip(pairs.items(), vals)}
        heads = _head_bounds(model, input_shape)
    out: Dict[nn.Module, Dict[str, Any]] = {}
    with torch.no_grad():
        for name, m in named:
            if isinstance(m, Standardize):
                out[m] = {"name": name, "kind": "normalize", "bound": float(1.0 / m.std.min())}
            elif isinstance(m, nn.Conv2d):
                out[m] = {"name": name, "kind": "conv", "bound": conv_vals[m]}
                if fold_bn:
                    v, bn_name = folded.get(m, (None, None))
                    out[m].update(folded_bound=v, folded_bn=bn_name)
            elif isinstance(m, _BatchNorm):
                out[m] = {"name": name, "kind": "batchnorm", "bound": float(bn_lipschitz(m))}
            elif isinstance(m, nn.Linear):
                out[m] = {"name": name, "kind": "linear",
                          "bound": float(torch.linalg.matrix_norm(m.weight.double(), ord=2))}
            if m in heads:  # a network and its head: the entry of the network module itself
                out[m] = {"name": name, "kind": "head", "bound": heads[m]}
    return out


def layer_bounds(model: nn.Module, input_shape: Sequence[int], method: str = "lipbound", *, samples: int = 10,
                 grid: str = "thesis", certified: bool = False, power_iters: int = 10,
                 outer: str = "smaller", fold_bn: bool = False) -> List[Dict[str, Any]]:
    """Per-layer l2 Lipschitz values, in ``model.named_modules()`` order: ``[{name, kind, bound}]``.

    ``kind`` is ``"conv"`` (``method``: ``"lipbound"`` (PolyGrid, ``certified`` as asked), ``"power_method"``
    (a lower estimate) or ``"exact"`` (ARPACK, the thesis's IRAM), at each layer's input size for an input of
    ``input_shape`` (``(C, H, W)`` or ``(1, C, H, W)``)), ``"batchnorm"`` (:func:`bn_lipschitz`), ``"linear"``
    (exact spectral norm, ``torch.linalg.matrix_norm(ord=2)``) or ``"normalize"`` (input standardisation:
    ``1 / min(std)``).

    ``fold_bn=True`` (keyword-only, default False) adds to every conv row ``folded_bound`` (the same ``method`` on
    the kernel with its batch norm's per-channel scale folded in, see :func:`product_of_bounds`; ``None`` for a
    conv without one) and ``folded_bn`` (that BN's name), and one row of kind ``"head"`` per WideResNet /
    torchvision ResNet with global pooling, at the network's position: the bound of its head (final BN, activation,
    pooling and linear layer for a WideResNet; pooling and ``fc`` for a ResNet).
    """
    vals = _module_bounds(model, input_shape, method, samples, grid, certified, power_iters, outer, fold_bn)
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
    """Recursive l2 Lipschitz bound of a module from per-layer bounds (see :func:`product_of_bounds`).

    With ``fold=True`` the bounds of :func:`_module_bounds` (``fold_bn=True``) are used where a batch norm can be
    folded: ``folded_bound`` replaces ``conv * bn`` and a ``"head"`` entry replaces the network's head.
    """

    def __init__(self, bounds: Dict[nn.Module, Dict[str, Any]], fold: bool = False):
        self.bounds = bounds
        self.fold = bool(fold)
        self.unknown: List[str] = []

    def _folded(self, conv: nn.Module) -> Optional[float]:
        if not self.fold:
            return None
        return self.bounds.get(conv, {}).get("folded_bound")

    def _pair(self, conv: nn.Module, bn: nn.Module) -> float:
        """Bound of the conv-BN pair: folded if available, else the product of both."""
        v = self._folded(conv)
        return v if v is not None else self(conv) * self(bn)

    def _head(self, net: nn.Module) -> Optional[float]:
        entry = self.bounds.get(net) if self.fold else None
        return entry["bound"] if entry is not None and entry.get("kind") == "head" else None

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
        if isinstance(m, WideBasic) and not self.fold:
            branch = self(m.bn1) * act * self(m.conv1) * self(m.bn2) * act * self(m.conv2)
            return branch + self(m.shortcut)
        if isinstance(m, WideBasic):
            # pre-activation: bn1, act, conv1, (dropout), bn2, act, conv2; folded: act * ||K1 D1|| * act * ||K2 D2||
            branch = self._pair(m.conv1, m.bn1) * act * self._pair(m.conv2, m.bn2) * act
            return branch + self(m.shortcut)
        if isinstance(m, WideResNet) and (not self.fold or self._head(m) is None):
            # conv1, stages, BN, act, global average pooling (<= 1), linear
            return math.prod(self(c) for c in (m.conv1, m.layer1, m.layer2, m.layer3, m.bn, m.linear)) * act
        if isinstance(m, WideResNet):  # folded head: act * ||W D|| / sqrt(H W)
            return math.prod(self(c) for c in (m.conv1, m.layer1, m.layer2, m.layer3)) * self._head(m)
        tv = _torchvision_blocks() if type(m).__module__.startswith("torchvision") else None
        if tv is not None and not self.fold:
            resnet_cls, basic_cls, bottleneck_cls = tv
            if isinstance(m, (basic_cls, bottleneck_cls)):
                names = ("conv1", "bn1", "conv2", "bn2") + (("conv3", "bn3") if isinstance(m, bottleneck_cls) else ())
                branch = math.prod(self(getattr(m, n)) for n in names)
                return branch + (1.0 if m.downsample is None else self(m.downsample))
            if isinstance(m, resnet_cls):
                order = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc")
                return math.prod(self(getattr(m, n)) for n in order)
        if tv is not None:
            resnet_cls, basic_cls, bottleneck_cls = tv
            if isinstance(m, (basic_cls, bottleneck_cls)):
                ks = (1, 2, 3) if isinstance(m, bottleneck_cls) else (1, 2)
                branch = math.prod(self._pair(getattr(m, f"conv{k}"), getattr(m, f"bn{k}")) for k in ks)
                ds = m.downsample
                if ds is None:
                    short = 1.0
                elif isinstance(ds, nn.Sequential) and len(ds) == 2 and self._folded(ds[0]) is not None:
                    short = self._folded(ds[0])
                else:
                    short = self(ds)
                return branch + short
            if isinstance(m, resnet_cls):
                body = self._pair(m.conv1, m.bn1) * math.prod(
                    self(getattr(m, n)) for n in ("relu", "maxpool", "layer1", "layer2", "layer3", "layer4"))
                head = self._head(m)
                return body * (head if head is not None else self(m.avgpool) * self(m.fc))
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
                      strict: bool = False, fold_bn: bool = False) -> float:
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

    ``fold_bn=True`` (keyword-only, default False) folds each batch norm's per-channel scale
    ``D = diag(gamma_c / sqrt(running_var_c + eps))`` into the adjacent convolution instead of multiplying
    ``max_c |D_c|`` by the conv's bound (see ``docs/lipreg.md``, "Folding batch norms"):

    * :class:`~toeplitznet.models.WideBasic` (``conv(act(bn(x)))``): the Jacobian ``K Lambda D`` (``Lambda`` the
      diagonal activation slopes, ``|Lambda| <= act``) equals ``K D Lambda`` as diagonal matrices commute, so
      ``||K Lambda D|| <= act * ||K D||``, and ``K D`` is the conv whose kernel is scaled per *input* channel; the
      branch is bounded by ``act * B(K1 D1) * act * B(K2 D2)`` with ``B`` the same ``method`` (LipBound with the
      ``certified`` factor, ARPACK, power method) on the scaled kernel; the shortcut is unchanged;
    * :class:`~toeplitznet.models.WideResNet` head ``linear(pool(act(bn(x))))`` with global average pooling over
      an ``H x W`` map: ``act * ||W D||_2 / sqrt(H W)`` (``||P|| = 1 / sqrt(H W)`` exactly; ``H, W`` from a forward
      hook at ``input_shape``); the stem conv is not folded (the next BN is inside the residual branch);
    * torchvision ``BasicBlock`` / ``Bottleneck`` / ``downsample`` / stem (BN right after the conv): the kernel
      scaled per *output* channel, ``D K``; the ResNet head ``fc(avgpool(x))`` gets ``||W||_2 / sqrt(H W)``.

    Signs of ``gamma`` do not matter for the bound (``K D = K |D| S`` with ``S`` an orthogonal sign diagonal);
    biases and BN shifts are translations. The ``1 / sqrt(H W)`` pooling factor is applied only with
    ``fold_bn=True`` (without it pooling counts 1, as before). Any other module composes as without folding.
    For ``method="exact"`` and ``"lipbound"`` the folded value is never above the unfolded one: ``||K D|| <=
    ||K|| max|D|``, and LipBound is monotone in the kernel entries' magnitudes (every ``|f_ij|^2`` is scaled by a
    ``D_c^2 <= max D^2``); the power method gives estimates either way.
    """
    was_training = model.training
    try:
        bounds = _module_bounds(model, input_shape, method, samples, grid, certified, power_iters, "smaller",
                                fold_bn)
        comp = _Composer(bounds, fold=fold_bn)
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
