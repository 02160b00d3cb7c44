"""Training attacks of the multi-norm defences of thesis Appendix D (L8358-8451) and the minimal C&W-ℓ2 of
Figure D.2 (L8255-8309).

* :func:`train_pgd` - :func:`~toeplitznet.attacks.pgd_train` with Expectation over Transformation: with
  ``eot_samples = k > 1`` each step ascends the loss averaged over ``k`` forward passes (each pass draws the
  model's own noise, RAT's Eq. D.14 with EoT); ``k = 1`` is exactly ``pgd_train``. On a noisy model
  (:class:`~toeplitznet.robust.noise.NoisyInput`) the gradient of every step goes through that step's noise
  draw: the attack perturbs the *randomised* network, as Eq. D.14 asks (L8427-8433).
* :func:`mixed_train_attack` - Mixed Adversarial Training (Tramèr & Boneh 2019): per example, MAT-Max
  (Eq. D.13, L8404-8408) keeps the attack whose final iterate has the larger loss; MAT-Rand (Eq. D.12,
  L8394-8399) attacks each example with one norm drawn uniformly. ``granularity="batch"`` is the author's
  variant (one norm per batch: the larger batch-mean loss, or one draw per batch).
* :func:`minimal_cw_l2` - foolbox's minimal-perturbation C&W-ℓ2 (:func:`~toeplitznet.attacks.bounded_cw_l2`
  with an infinite bound): the perturbation per example and whether one was found.

Randomness (random starts, MAT-Rand draws, the model's noise) comes from ``generator`` when given, else from
torch's global RNG, which the trainer seeds per epoch (a resumed run sees the same draws).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from ._common import bshape, ce_loss, check_norm, flat_norm, make_generator, project
from ._common import random_start as draw_random_start
from .eot import eot_loss
from .pgd import pgd_train

__all__ = ["train_pgd", "example_loss", "mixed_train_attack", "minimal_cw_l2", "SELECTS", "GRANULARITIES"]

SELECTS = ("max", "rand")
GRANULARITIES = ("example", "batch")


def train_pgd(model: nn.Module, x: Tensor, y: Tensor, *, norm: str, eps: float, step: float, steps: int,
              random_start: bool = True, eot_samples: int = 1,
              generator: torch.Generator | int | None = None) -> Tensor:
    """The training PGD of :func:`~toeplitznet.attacks.pgd_train` (final iterate, detached, the caller's model
    mode, input gradients only) whose loss is the EoT mean over ``eot_samples`` passes
    (:func:`~toeplitznet.attacks.eot_loss`); ``eot_samples = 1`` calls ``pgd_train`` itself."""
    norm = check_norm(norm)
    k = int(eot_samples)
    if k < 1:
        raise ValueError(f"eot_samples must be >= 1, got {eot_samples}")
    if k == 1:
        return pgd_train(model, x, y, eps=eps, step=step, steps=steps, norm=norm, random_start=random_start,
                         generator=generator)
    x = x.detach()
    gen = make_generator(generator, x.device)
    xa = x.clone() if not random_start else project(x + draw_random_start(x, eps, norm, gen), x, eps, norm)
    for _ in range(int(steps)):
        with torch.enable_grad():
            xg = xa.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(eot_loss(model, xg, y, k).sum(), xg)
        with torch.no_grad():
            if norm == "linf":
                xa = xg.detach() + step * grad.sign()
            else:
                xa = xg.detach() + step * grad / (flat_norm(grad, "l2") + 1e-12).reshape(bshape(grad))
            xa = project(xa, x, eps, norm)
    return xa.detach()


def example_loss(model: nn.Module, x: Tensor, y: Tensor, eot_samples: int = 1) -> Tensor:
    """Per-example cross-entropy at ``x`` (mean over ``eot_samples`` passes), without gradient."""
    with torch.no_grad():
        return eot_loss(model, x, y, int(eot_samples), ce_loss)


def _draw(n: int, k: int, gen: torch.Generator | None, device) -> Tensor:
    return torch.randint(0, k, (n,), generator=gen, device=device)


def mixed_train_attack(model: nn.Module, x: Tensor, y: Tensor, attacks: Sequence[Mapping], *, select: str = "max",
                       granularity: str = "example", random_start: bool = True, eot_samples: int = 1,
                       generator: torch.Generator | int | None = None) -> tuple[Tensor, Tensor]:
    """MAT's training batch: ``(x_adv, choice)``, ``choice[i]`` the index in ``attacks`` (each a mapping with
    ``norm, eps, step, steps``) of the attack kept for example ``i``.

    ``select="max"`` (MAT-Max, Eq. D.13): every attack runs on the whole batch; per example the final iterate
    with the larger cross-entropy (recomputed without gradient in the caller's mode; ties go to the first
    attack) is kept; with ``granularity="batch"`` the attack with the larger batch-mean loss is kept for all
    (the author's code). ``select="rand"`` (MAT-Rand, Eq. D.12): a norm is drawn uniformly per example (per
    batch with ``granularity="batch"``) and only that attack runs on the example (the attacks are independent
    per example in eval mode, so this equals attacking everything and picking)."""
    if select not in SELECTS:
        raise ValueError(f"select must be one of {SELECTS}, got {select!r}")
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")
    if not attacks:
        raise ValueError("mixed_train_attack needs at least one attack")
    x, y = x.detach(), y.detach()
    gen = make_generator(generator, x.device)
    n, k = x.shape[0], len(attacks)

    def run(a, xs, ys):
        return train_pgd(model, xs, ys, norm=a["norm"], eps=float(a["eps"]), step=float(a["step"]),
                         steps=int(a["steps"]), random_start=random_start, eot_samples=eot_samples, generator=gen)

    if select == "rand":
        choice = _draw(n, k, gen, x.device) if granularity == "example" else _draw(1, k, gen, x.device).expand(n)
        x_adv = x.clone()
        for j, a in enumerate(attacks):
            idx = (choice == j).nonzero().squeeze(1)
            if idx.numel():
                x_adv[idx] = run(a, x[idx], y[idx])
        return x_adv.detach(), choice.clone()
    advs = torch.stack([run(a, x, y) for a in attacks])                       # (k, n, ...)
    losses = torch.stack([example_loss(model, xa, y, eot_samples) for xa in advs])  # (k, n)
    if granularity == "example":
        choice = losses.argmax(dim=0)
    else:
        choice = losses.mean(dim=1).argmax().expand(n).clone()
    return advs[choice, torch.arange(n, device=x.device)].detach(), choice


def minimal_cw_l2(model: nn.Module, x: Tensor, y: Tensor, *, binary_search_steps: int = 9, steps: int = 100,
                  lr: float = 0.01, confidence: float = 0.0, initial_const: float = 1e-3) -> tuple[Tensor, Tensor]:
    """foolbox's minimal C&W-ℓ2 adversarial per example: ``(delta, found)`` with ``delta = x_cw - x`` (zero where
    none was found) and ``found`` True where ``x + delta`` is misclassified (a clean misclassification counts,
    with C&W's own, near-zero, perturbation). Eval mode and parameter state are restored."""
    res = _at_infinite_bound(model, x, y, binary_search_steps, steps, lr, confidence, initial_const)
    delta = torch.where(res.robust.reshape(bshape(x)), torch.zeros_like(x), res.x_adv - x)
    return delta.detach(), ~res.robust


def _at_infinite_bound(model, x, y, binary_search_steps, steps, lr, confidence, initial_const):
    from .cw import bounded_cw_l2

    return bounded_cw_l2(model, x, y, bounds=[math.inf], binary_search_steps=binary_search_steps, steps=steps,
                         lr=lr, confidence=confidence, initial_const=initial_const)[math.inf]
