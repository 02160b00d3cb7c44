"""Projected gradient descent (Madry et al., ICLR 2018) under ℓ∞ and ℓ2, for evaluation (:func:`pgd`,
:class:`PGD`) and for adversarial training (:func:`pgd_train`).

Evaluation protocol of thesis Section 5.5 (L6249-6253): PGD-ℓ∞ with ε = 8/255, step ε/5, 200 iterations and
10 restarts, keeping per image "the perturbation that maximizes the loss among all the iterations and the 10
restarts". :func:`pgd` records that point and, in addition, counts an example as broken as soon as *any*
evaluated point is misclassified (a point of the ball that is misclassified is an adversarial example whatever
its loss), so its accuracy is never above the literal protocol's (``extra["robust_at_max_loss"]``).
Training attack of L6246-6248: ε = 8/255, step ε/5, 10 iterations, random start, one run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._common import (
    attack_mode,
    bshape,
    check_norm,
    flat_norm,
    get_loss,
    layout_error,
    like_input,
    make_generator,
    project,
    to_layout,
    work_format,
)
from ._common import random_start as draw_random_start
from .result import AttackResult

__all__ = ["pgd", "PGD", "pgd_train"]


def _pass(model: nn.Module, xa: Tensor, y: Tensor, loss_fn: Callable, need_grad: bool):
    """One forward pass at ``xa``: detached logits, per-example loss and (if ``need_grad``) the input gradient
    of the summed loss (else None)."""
    if not need_grad:
        with torch.no_grad():
            logits = model(xa)
            return logits, loss_fn(logits, y), None
    with torch.enable_grad():
        xg = xa.detach().requires_grad_(True)
        logits = model(xg)
        lv = loss_fn(logits, y)
        (grad,) = torch.autograd.grad(lv.sum(), xg)
    return logits.detach(), lv.detach(), grad


def _evaluate(model: nn.Module, xa: Tensor, y: Tensor, loss_fn: Callable, eot: int, need_grad: bool):
    """Per-example loss, correctness and (if ``need_grad``) the input gradient of the summed loss at ``xa``.
    With ``eot > 1``: mean loss over ``eot`` passes, its gradient (accumulated pass by pass), and the prediction
    of the mean softmax."""
    if eot == 1:
        logits, lv, grad = _pass(model, xa, y, loss_fn, need_grad)
        return lv, logits.argmax(dim=1) == y, grad
    loss_sum, prob_sum, grad = None, None, None
    for _ in range(eot):
        logits, lv, g = _pass(model, xa, y, loss_fn, need_grad)
        if g is not None:
            grad = g if grad is None else grad.add_(g)
        p = logits.softmax(dim=1)
        loss_sum = lv if loss_sum is None else loss_sum + lv
        prob_sum = p if prob_sum is None else prob_sum + p
    return loss_sum / eot, prob_sum.argmax(dim=1) == y, None if grad is None else grad / eot


def _take(t: Tensor, idx: Tensor | None) -> Tensor:
    return t if idx is None else t.index_select(0, idx)


def _update(state: list, t: int, xa: Tensor, lv: Tensor, correct: Tensor) -> list:
    """The bookkeeping of :func:`pgd` after evaluating iterate ``t`` (``state`` = first broken, best point, its
    loss, whether it is misclassified, the highest loss, correct at the highest loss)."""
    fb, bx, bl, bm, ml, cm = state
    mis = ~correct
    fb = torch.where(mis & (fb > t), t, fb)
    better = (mis & ~bm) | ((mis == bm) & (lv > bl))
    bx = torch.where(better.reshape(bshape(xa)), xa, bx)
    bl = torch.where(better, lv, bl)
    bm = bm | mis
    up = lv > ml
    return [fb, bx, bl, bm, torch.where(up, lv, ml), torch.where(up, correct, cm)]


def _step(xa: Tensor, grad: Tensor, step: float, norm: str) -> Tensor:
    if norm == "linf":
        return xa + step * grad.sign()
    return xa + step * grad / (flat_norm(grad, "l2") + 1e-12).reshape(bshape(grad))


def pgd(model: nn.Module, x: Tensor, y: Tensor, *, norm: str = "linf", eps: float, step: float, steps: int,
        restarts: int = 1, random_start: bool = True, record: Iterable[int] = (), loss: str | Callable = "ce",
        eot_samples: int = 1, seed: int | torch.Generator | None = 0, early_stop: bool = False,
        memory_format: str = "auto") -> AttackResult:
    """Untargeted PGD on the true labels ``y`` (inputs in [0, 1]; normalisation inside ``model``).

    Iterates ``x_{t+1} = Proj(x_t + step * s(grad))`` with ``s = sign`` (``linf``; projection = clip to the
    ε-box) or ``s = grad / ||grad||_2`` (``l2``; projection = rescaling onto the ℓ2 ball per example), then a clip
    to [0, 1]; the start is uniform in the box / the ℓ2 ball (``random_start``) or ``x``. Each of the
    ``restarts`` runs evaluates its ``steps + 1`` iterates ``x_0 .. x_steps``; the clean point ``x`` is
    evaluated once. Loss ``"ce"`` (cross-entropy), ``"dlr"`` (Croce & Hein) or a callable
    ``(logits, y) -> per-example loss``; ``eot_samples = k`` averages the loss, its gradient and the softmax
    over ``k`` passes (randomised models).

    Result (:class:`AttackResult`):

    * ``robust[i]``: no evaluated point of example ``i`` (clean point, any iterate of any restart) is
      misclassified. ``robust_at[k]`` for ``k`` in ``record`` (``0 <= k <= steps``): no clean point or iterate
      ``x_0 .. x_k`` of any restart is misclassified; non-increasing in ``k`` and never increased by restarts
      (Figure 5.3's accuracy vs iterations, from one run).
    * ``x_adv[i]``: the highest-loss misclassified point if one exists, else the highest-loss point (the
      thesis's selection, L6252-6253).
    * ``extra``: ``loss`` (at ``x_adv``), ``max_loss`` and ``robust_at_max_loss`` (correctly classified at the
      highest-loss point: the literal thesis protocol), ``first_broken`` (smallest ``k`` at which the example is
      broken, ``steps + 1`` if never; the clean point counts as ``k = 0``), ``clean_correct``.

    ``early_stop=True`` drops an example from the batch at its first misclassified iterate (as AutoAttack
    attacks only the points still robust): ``robust``, ``robust_at`` and ``first_broken`` are unchanged (for a
    model whose outputs do not depend on the other examples of the batch, e.g. eval-mode batch norm), the
    cost falls with the fraction broken, but ``x_adv`` of a broken example is its first misclassified iterate
    and ``extra["robust_at_max_loss"]`` (the literal protocol, which needs every iterate) is ``None``.

    ``memory_format`` (``auto``, ``channels_last``, ``preserve``): the layout of the attack's passes
    (:func:`~toeplitznet.attacks._common.work_format`; ``auto`` = channels_last on the CPU, falling back to the
    input's layout if the model ``view``-s an activation); ``x_adv`` comes back in the input's layout.

    Restarts after the first skip the examples already broken at ``k = 0``. The model is attacked in eval mode
    (its previous per-module modes are restored); parameters' ``requires_grad`` and ``.grad`` are untouched.
    Deterministic given ``seed`` (an int, or a :class:`torch.Generator` on ``x``'s device; ``None`` = global
    RNG) for a deterministic model.
    """
    norm = check_norm(norm)
    steps, restarts, eot = int(steps), int(restarts), int(eot_samples)
    if eps < 0 or steps < 0 or restarts < 1 or eot < 1:
        raise ValueError(f"need eps >= 0, steps >= 0, restarts >= 1, eot_samples >= 1; got {eps}, {steps}, "
                         f"{restarts}, {eot}")
    ks = sorted({int(k) for k in record})
    if ks and (ks[0] < 0 or ks[-1] > steps):
        raise ValueError(f"record must lie in [0, steps={steps}], got {ks}")
    loss_fn = get_loss(loss)
    x_in, y = x.detach(), y.detach()
    fmt = work_format(x_in, memory_format)
    x = to_layout(x_in, fmt)
    gen = make_generator(seed, x.device)
    never = steps + 1

    with attack_mode(model):
        try:
            lv0, c0, _ = _evaluate(model, x, y, loss_fn, eot, need_grad=False)
        except RuntimeError as exc:
            if memory_format != "auto" or fmt is None or not layout_error(exc):
                raise
            fmt, x = None, x_in
            lv0, c0, _ = _evaluate(model, x, y, loss_fn, eot, need_grad=False)
        first_broken = torch.where(c0, never, 0).long()
        best_x, best_loss, best_mis = x.clone(), lv0.clone(), ~c0
        max_loss, correct_at_max = lv0.clone(), c0.clone()

        for r in range(restarts):
            delta = draw_random_start(x, eps, norm, gen) if random_start else None
            if r == 0:
                idx = None
            else:
                idx = (first_broken > 0).nonzero().squeeze(1)
                if idx.numel() == 0:
                    break
            xs, ys = _take(x, idx), _take(y, idx)
            fb, bx, bl, bm, ml, cm = (_take(t, idx) for t in (first_broken, best_x, best_loss, best_mis, max_loss,
                                                              correct_at_max))
            xa = xs.clone() if delta is None else to_layout(project(xs + _take(delta, idx), xs, eps, norm), fmt)
            act, xo, ya = None, xs, ys          # early_stop: the rows of xs still attacked, their clean points
            # every update below allocates (torch.where), so the full-batch buffers are never written in place
            for t in range(steps + 1):
                lv, correct, grad = _evaluate(model, xa, ya, loss_fn, eot, need_grad=t < steps)
                state = [_take(b, act) for b in (fb, bx, bl, bm, ml, cm)]
                state = _update(state, t, xa, lv, correct)
                if act is None:
                    fb, bx, bl, bm, ml, cm = state
                else:
                    fb, bx, bl, bm, ml, cm = (b.index_copy(0, act, v) for b, v in zip((fb, bx, bl, bm, ml, cm), state))
                if t == steps:
                    break
                if early_stop and not bool(correct.all()):
                    keep = correct.nonzero().squeeze(1)
                    act = keep if act is None else act.index_select(0, keep)
                    if act.numel() == 0:
                        break
                    xa, xo, ya, grad = (v.index_select(0, keep) for v in (xa, xo, ya, grad))
                xa = project(_step(xa, grad, step, norm), xo, eps, norm)
            if idx is None:
                first_broken, best_x, best_loss, best_mis, max_loss, correct_at_max = fb, bx, bl, bm, ml, cm
            else:
                first_broken = first_broken.index_copy(0, idx, fb)
                best_x = best_x.index_copy(0, idx, bx)
                best_loss = best_loss.index_copy(0, idx, bl)
                best_mis = best_mis.index_copy(0, idx, bm)
                max_loss = max_loss.index_copy(0, idx, ml)
                correct_at_max = correct_at_max.index_copy(0, idx, cm)

    robust = first_broken > steps
    return AttackResult(
        x_adv=like_input(best_x, x_in, fmt), robust=robust, robust_at={k: first_broken > k for k in ks},
        extra={"loss": best_loss, "max_loss": None if early_stop else max_loss,
               "robust_at_max_loss": None if early_stop else correct_at_max,
               "first_broken": first_broken, "clean_correct": c0, "norm": norm, "eps": float(eps),
               "step": float(step), "steps": steps, "restarts": restarts, "early_stop": bool(early_stop)})


@dataclass
class PGD:
    """Object form of :func:`pgd`: ``PGD(norm, eps, step, steps, restarts, random_start)(model, x, y)``.
    The remaining keywords of :func:`pgd` are fields too (``record``, ``loss``, ``eot_samples``, ``seed``,
    ``early_stop``, ``memory_format``)."""

    norm: str = "linf"
    eps: float = 8 / 255
    step: float = 8 / 255 / 5
    steps: int = 10
    restarts: int = 1
    random_start: bool = True
    record: tuple[int, ...] = ()
    loss: str = "ce"
    eot_samples: int = 1
    seed: int | torch.Generator | None = 0
    early_stop: bool = False
    memory_format: str = "auto"

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor) -> AttackResult:
        """Run :func:`pgd` with this object's settings."""
        return pgd(model, x, y, norm=self.norm, eps=self.eps, step=self.step, steps=self.steps,
                   restarts=self.restarts, random_start=self.random_start, record=self.record, loss=self.loss,
                   eot_samples=self.eot_samples, seed=self.seed, early_stop=self.early_stop,
                   memory_format=self.memory_format)


def pgd_train(model: nn.Module, x: Tensor, y: Tensor, *, eps: float, step: float, steps: int,
              norm: str = "linf", random_start: bool = True,
              generator: torch.Generator | int | None = None, memory_format: str = "auto") -> Tensor:
    """Fast PGD for adversarial training: one run, returns the final iterate (detached), no bookkeeping.

    Cross-entropy on ``y`` (summed), sign (``linf``) or normalised-gradient (``l2``) steps, projection onto the
    ball and [0, 1], uniform random start. The model is used in the mode the caller set (train-mode BN updates
    its running statistics during the attack passes, as in the author's code); gradients are taken w.r.t. the
    input only (``torch.autograd.grad``), so parameters' ``.grad`` are untouched; no host synchronisation inside
    the loop. ``generator``: a :class:`torch.Generator` on ``x``'s device, an int seed, or ``None`` (global RNG).
    Thesis AT setting (L6246-6248): ``eps=8/255, step=eps/5, steps=10``. ``memory_format``: as in :func:`pgd`
    (a model that ``view``-s activations needs ``"preserve"`` here: the training attack does not probe it).
    """
    norm = check_norm(norm)
    x_in = x.detach()
    fmt = work_format(x_in, memory_format)
    x = to_layout(x_in, fmt)
    gen = make_generator(generator, x.device)
    if norm == "linf":
        lo, hi = (x - eps).clamp_(min=0.0), (x + eps).clamp_(max=1.0)
    xa = x.clone() if not random_start else to_layout((x + draw_random_start(x, eps, norm, gen)).clamp_(0.0, 1.0), fmt)
    for _ in range(int(steps)):
        with torch.enable_grad():
            xa.requires_grad_(True)
            loss = F.cross_entropy(model(xa), y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, xa)
        with torch.no_grad():
            xa = xa.detach()
            if norm == "linf":
                xa.add_(grad.sign_(), alpha=step)
                xa = torch.clamp(xa, lo, hi)
            else:
                xa.add_(grad.div_((flat_norm(grad, "l2") + 1e-12).reshape(bshape(grad))), alpha=step)
                xa = project(xa, x, eps, "l2")
    return like_input(xa.detach(), x_in, fmt)
