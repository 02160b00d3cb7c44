"""Shared internals: model-state guard, per-example norms, projections onto the threat balls, losses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NORMS = ("linf", "l2")
#: memory layouts an attack can run its passes in (see :func:`work_format`)
MEMORY_FORMATS = ("auto", "channels_last", "preserve")


def check_norm(norm: str) -> str:
    n = str(norm).lower()
    if n not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    return n


@contextlib.contextmanager
def attack_mode(model: nn.Module, *, freeze: bool = True) -> Iterator[nn.Module]:
    """Evaluation mode for the duration of an attack; every module's previous ``training`` flag is restored on
    exit. With ``freeze`` the parameters' ``requires_grad`` is switched off inside (so that attacks calling
    ``backward()``, such as torchattacks' FAB or foolbox via eagerpy, cannot accumulate into ``.grad``) and both
    ``requires_grad`` and the ``.grad`` references are restored on exit."""
    modes = [(m, m.training) for m in model.modules()]
    params = list(model.parameters())
    saved = [(p, p.requires_grad, p.grad) for p in params]
    try:
        model.eval()
        if freeze:
            for p in params:
                p.requires_grad_(False)
        yield model
    finally:
        for p, flag, grad in saved:
            p.requires_grad_(flag)
            p.grad = grad
        for m, training in modes:
            m.training = training


def bshape(x: Tensor) -> list[int]:
    """``[N, 1, ..., 1]``: the shape that broadcasts a per-example value over ``x``."""
    return [x.shape[0]] + [1] * (x.dim() - 1)


def flat_norm(d: Tensor, norm: str) -> Tensor:
    """Per-example ℓ∞ or ℓ2 norm of ``d`` (shape ``(N,)``)."""
    f = d.reshape(d.shape[0], -1)
    if norm == "linf":
        return f.abs().amax(dim=1) if f.shape[1] else f.new_zeros(f.shape[0])
    return f.norm(p=2, dim=1)


def project(x_adv: Tensor, x: Tensor, eps: float, norm: str) -> Tensor:
    """Projection of ``x_adv`` onto the ``norm`` ball of radius ``eps`` around ``x``, then onto [0, 1]
    (clamping to [0, 1] never increases ``|x_adv - x|`` coordinate-wise, so the result is in both sets)."""
    if norm == "linf":
        delta = (x_adv - x).clamp(-eps, eps)
    else:
        delta = x_adv - x
        n = flat_norm(delta, "l2")
        delta = delta * (eps / (n + 1e-12)).clamp(max=1.0).reshape(bshape(x))
    return (x + delta).clamp(0.0, 1.0)


def in_ball(x_adv: Tensor, x: Tensor, eps: float, norm: str, tol: float | None = None) -> Tensor:
    """Per-example check that ``x_adv`` is within ``eps`` (plus a rounding tolerance) of ``x`` and in [0, 1]."""
    if tol is None:
        tol = 1e-6 if norm == "linf" else 1e-5
    f = x_adv.reshape(x_adv.shape[0], -1)
    inside = ((f >= 0) & (f <= 1)).all(dim=1) if f.shape[1] else torch.ones_like(f[:, 0], dtype=torch.bool)
    return inside & (flat_norm(x_adv - x, norm) <= eps + tol)


def ce_loss(logits: Tensor, y: Tensor) -> Tensor:
    """Per-example cross-entropy on the true labels."""
    return F.cross_entropy(logits, y, reduction="none")


def dlr_loss(logits: Tensor, y: Tensor) -> Tensor:
    """Per-example Difference-of-Logits-Ratio loss of Croce & Hein (ICML 2020):
    ``-(z_y - max_{i != y} z_i) / (z_(1) - z_(3) + 1e-12)`` with ``z_(j)`` the j-th largest logit
    (needs at least 3 classes)."""
    if logits.shape[1] < 3:
        raise ValueError(f"the DLR loss needs at least 3 classes, got {logits.shape[1]}")
    z_sorted = logits.sort(dim=1, descending=True).values
    z_y = logits.gather(1, y[:, None]).squeeze(1)
    top_is_y = logits.argmax(dim=1) == y
    z_other = torch.where(top_is_y, z_sorted[:, 1], z_sorted[:, 0])
    return -(z_y - z_other) / (z_sorted[:, 0] - z_sorted[:, 2] + 1e-12)


LOSSES = {"ce": ce_loss, "dlr": dlr_loss}


def get_loss(loss) -> callable:
    if callable(loss):
        return loss
    try:
        return LOSSES[str(loss).lower()]
    except KeyError:
        raise ValueError(f"loss must be one of {tuple(LOSSES)} or a callable, got {loss!r}") from None


def make_generator(seed: int | torch.Generator | None, device: torch.device) -> torch.Generator | None:
    """A generator on ``device``: ``seed`` itself when it is one, a fresh one seeded with ``seed`` otherwise;
    ``None`` (use the global RNG) for ``seed=None``."""
    if seed is None or isinstance(seed, torch.Generator):
        return seed
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def random_start(x: Tensor, eps: float, norm: str, generator: torch.Generator | None) -> Tensor:
    """A random initial perturbation: uniform in the ℓ∞ box of radius ``eps`` (``linf``); for ``l2`` a
    uniformly random direction with a radius uniform in ``[0, eps]`` (the convention of torchattacks' PGDL2).

    Not uniform in the ℓ2 ball: in ``d`` dimensions that puts almost every start at radius ``eps`` (the radius
    is ``eps * U^(1/d)``), and a random component of norm ``~eps`` decays only by ``~eps/sqrt(eps^2 + step^2)``
    per projected step, so it occupies most of the budget for a short attack; measured weaker than PGDL2 on the
    test model (``docs/attacks.md``)."""
    if norm == "linf":
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (2 * u - 1) * eps
    g = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    g = g / (flat_norm(g, "l2") + 1e-12).reshape(bshape(x))
    r = torch.rand((x.shape[0],), generator=generator, device=x.device, dtype=x.dtype) * eps
    return g * r.reshape(bshape(x))


def work_format(x: Tensor, memory_format: str) -> torch.memory_format | None:
    """The layout an attack runs its forward/backward passes in, or None to keep ``x``'s.

    ``"channels_last"`` for 4-d inputs; ``"preserve"`` never converts; ``"auto"`` (default) is channels_last
    for float32/bfloat16 4-d inputs on the CPU, where oneDNN's NHWC convolutions take ~25 % less time forward
    and backward than NCHW ones (``benchmarks/bench_pgd.py``), and keeps the layout elsewhere (on GPUs the
    gain needs channels_last weights and mixed precision: the training config's ``channels_last``). Only the
    inputs are converted, never the model, and results are returned in the input's layout."""
    if memory_format not in MEMORY_FORMATS:
        raise ValueError(f"memory_format must be one of {MEMORY_FORMATS}, got {memory_format!r}")
    if x.dim() != 4 or memory_format == "preserve":
        return None
    if memory_format == "channels_last":
        return torch.channels_last
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.bfloat16):
        return torch.channels_last
    return None


def layout_error(exc: BaseException) -> bool:
    """True for the error a model raises when it ``view``-s a non-contiguous (channels_last) activation: the
    ``"auto"`` layout then falls back to the input's own."""
    msg = str(exc)
    return isinstance(exc, RuntimeError) and ("view size is not compatible" in msg or "contiguous subspaces" in msg)


def to_layout(t: Tensor, fmt: torch.memory_format | None) -> Tensor:
    return t if fmt is None else t.contiguous(memory_format=fmt)


def like_input(t: Tensor, x: Tensor, fmt: torch.memory_format | None) -> Tensor:
    """``t`` (computed in layout ``fmt``) back in the layout of the caller's ``x``."""
    if fmt is None:
        return t
    return t.contiguous() if x.is_contiguous() else t.contiguous(memory_format=fmt)
