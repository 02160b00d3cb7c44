"""Elastic-net attack (EAD, Chen et al., AAAI 2018) with ℓ1 distortion, thesis Appendix C (Table C.1, L7846-7848),
built on foolbox 3.3.4's minimal-perturbation :class:`EADAttack`; optionally bounded like :func:`bounded_cw_l2`.

EAD minimises ``c · loss + ‖δ‖_2² + β ‖δ‖_1`` by ISTA with a binary search over ``c``; foolbox returns, per example,
the adversarial it found (decision rule ``EN`` or ``L1``). For each ℓ1 ``bound`` the perturbation is scaled onto
the ℓ1 ball, ``x_b = clip(x + min(1, b / ‖δ‖_1) δ, 0, 1)`` (clipping only shrinks coordinates, so ``x_b`` stays in
the ball), and the example is broken only if ``x_b`` is misclassified. ``bound = inf`` is the unbounded attack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._common import attack_mode, bshape
from .result import AttackResult

__all__ = ["ead_l1"]


def _l1(d: Tensor) -> Tensor:
    return d.reshape(d.shape[0], -1).abs().sum(1)


def ead_l1(model: nn.Module, x: Tensor, y: Tensor, *, bounds: Sequence[float] = (math.inf,),
           binary_search_steps: int = 9, steps: int = 60, lr: float = 0.01, initial_const: float = 1e-3,
           regularization: float = 0.01, decision_rule: str = "EN", confidence: float = 0.0,
           abort_early: bool = True) -> dict[float, AttackResult]:
    """``{bound: AttackResult}``: EAD (``EADAttack(binary_search_steps, steps, initial_stepsize=lr, confidence,
    initial_const, regularization, decision_rule, abort_early)``) on the true labels, projected onto each ℓ1 ball.

    A clean misclassification is broken at every bound; broken sets grow with the bound. ``extra``: ``ead_norm``
    (ℓ1 norm of the found adversarial, ``inf`` where none), ``norm`` (of ``x_adv − x``), ``bound``. ``model``
    returns logits (a randomised model: wrap it in :class:`~toeplitznet.attacks.EoT`). Eval mode and parameter
    state are restored as for every attack; foolbox is imported here.
    """
    import foolbox as fb

    bs = [float(b) for b in bounds]
    if not bs or min(bs) < 0:
        raise ValueError(f"bounds must be non-negative and non-empty, got {bounds}")
    x, y = x.detach(), y.detach()
    shape = bshape(x)
    with attack_mode(model):
        fmodel = fb.PyTorchModel(model, bounds=(0, 1), device=x.device)
        attack = fb.attacks.EADAttack(binary_search_steps=int(binary_search_steps), steps=int(steps),
                                      initial_stepsize=float(lr), confidence=float(confidence),
                                      initial_const=float(initial_const), regularization=float(regularization),
                                      decision_rule=str(decision_rule), abort_early=bool(abort_early))
        raw = attack.run(fmodel, x, fb.criteria.Misclassification(y)).detach()
        with torch.no_grad():
            found = model(raw).argmax(1) != y
            delta = torch.where(found.reshape(shape), raw - x, torch.zeros_like(x))
            n = _l1(delta)
            ead_norm = torch.where(found, n, torch.full_like(n, math.inf))
            broken_prev, x_prev = model(x).argmax(1) != y, x.clone()
            out: dict[float, AttackResult] = {}
            for b in sorted(bs):
                scale = torch.ones_like(n) if math.isinf(b) else (b / (n + 1e-12)).clamp(max=1.0)
                xb = (x + delta * scale.reshape(shape)).clamp(0.0, 1.0)
                broken = (model(xb).argmax(1) != y) & (_l1(xb - x) <= b + 1e-5)
                carry = broken_prev & ~broken
                xb = torch.where(carry.reshape(shape), x_prev, xb)
                broken = broken | broken_prev
                out[b] = AttackResult(x_adv=xb, robust=~broken,
                                      extra={"ead_norm": ead_norm, "norm": _l1(xb - x), "bound": b})
                broken_prev, x_prev = broken, xb
    return {b: out[b] for b in bs}
