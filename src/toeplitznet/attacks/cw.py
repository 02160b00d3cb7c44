"""Bounded Carlini-Wagner ℓ2 (thesis Section 5.5, L6254-6257: bounds 0.6 and 0.8 on CIFAR; 1, 2, 3 on
ImageNet, L6271-6273), built on foolbox 3.3.4's minimal-perturbation :class:`L2CarliniWagnerAttack`.

C&W finds, per example, the smallest ℓ2 adversarial perturbation it can (binary search over the trade-off
constant, Adam on the tanh-reparametrised input); the bounded variant projects that perturbation onto the ℓ2
ball of each bound and counts the example as broken only if the *projected* point is misclassified. Settings of
the author's config (``cifar10_adv_lip.yaml:119-128``): lr 0.01, 9 binary-search steps, 100 iterations,
confidence 0, initial constant 1e-3.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._common import attack_mode, bshape, flat_norm
from .result import AttackResult

__all__ = ["bounded_cw_l2"]


def bounded_cw_l2(model: nn.Module, x: Tensor, y: Tensor, *, bounds: Sequence[float] = (0.6, 0.8),
                  binary_search_steps: int = 9, steps: int = 100, lr: float = 0.01, confidence: float = 0.0,
                  initial_const: float = 1e-3, abort_early: bool = True) -> dict[float, AttackResult]:
    """Bounded C&W-ℓ2: ``{bound: AttackResult}`` for each ℓ2 ``bound``.

    Runs foolbox's ``L2CarliniWagnerAttack(binary_search_steps, steps, stepsize=lr, confidence, initial_const,
    abort_early)`` once on ``foolbox.PyTorchModel(model, bounds=(0, 1))`` (``model`` returns logits) with the
    true labels, giving a minimal adversarial ``x_cw`` per example (``x`` itself where C&W found none; foolbox
    would return a black image there). For each bound ``b``, in increasing order, the perturbation is scaled onto
    the ball, ``x_b = x + min(1, b / ||x_cw - x||_2) (x_cw - x)``, and the model is re-run on ``x_b``:
    ``robust[i]`` is False only if ``x_b`` is misclassified and ``||x_b - x||_2 <= b + 1e-6`` (recomputed here,
    foolbox's success flag is kept in ``extra["foolbox_success"]`` for comparison). A point broken at a smaller
    bound (or a clean misclassification) is also a valid adversarial for every larger bound and is carried over,
so the broken sets grow with ``b``.

    ``extra``: ``cw_norm`` (ℓ2 norm of the minimal adversarial, ``inf`` where none), ``norm`` (of ``x_adv - x``),
    ``foolbox_success``, ``bound``. Eval mode and parameter state are restored as for every attack. foolbox is
    imported here, not by :mod:`toeplitznet.attacks`.
    """
    import foolbox as fb

    bs = [float(b) for b in bounds]
    if not bs or min(bs) < 0:
        raise ValueError(f"bounds must be non-negative and non-empty, got {bounds}")
    x, y = x.detach(), y.detach()
    shape = bshape(x)
    with attack_mode(model):
        fmodel = fb.PyTorchModel(model, bounds=(0, 1), device=x.device)
        attack = fb.attacks.L2CarliniWagnerAttack(binary_search_steps=int(binary_search_steps), steps=int(steps),
                                                  stepsize=float(lr), confidence=float(confidence),
                                                  initial_const=float(initial_const), abort_early=bool(abort_early))
        raw, _clipped, success = attack(fmodel, x, fb.criteria.Misclassification(y), epsilons=bs)
        raw = raw[0].detach()
        with torch.no_grad():
            found = model(raw).argmax(dim=1) != y
            x_cw = torch.where(found.reshape(shape), raw, x)
            delta = x_cw - x
            cw_norm = torch.where(found, flat_norm(delta, "l2"), torch.full_like(found, float("inf"), dtype=x.dtype))
            n = flat_norm(delta, "l2")
            out: dict[float, AttackResult] = {}
            # a clean misclassification is broken at every bound (x itself is in every ball)
            prev_x, prev_broken = x.clone(), model(x).argmax(dim=1) != y
            for j in sorted(range(len(bs)), key=lambda j: bs[j]):
                b = bs[j]
                xb = (x + delta * (b / (n + 1e-12)).clamp(max=1.0).reshape(shape)).clamp(0.0, 1.0)
                nb = flat_norm(xb - x, "l2")
                broken = (model(xb).argmax(dim=1) != y) & (nb <= b + 1e-6)
                carry = prev_broken & ~broken
                xb = torch.where(carry.reshape(shape), prev_x, xb)
                broken = broken | prev_broken
                out[b] = AttackResult(x_adv=xb, robust=~broken,
                                      extra={"cw_norm": cw_norm, "norm": flat_norm(xb - x, "l2"),
                                             "foolbox_success": success[j].detach(), "bound": b})
                prev_x, prev_broken = xb, broken
    return {b: out[b] for b in bs}
