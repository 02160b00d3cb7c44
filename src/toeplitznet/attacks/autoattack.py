"""AutoAttack (Croce & Hein, ICML 2020) assembled from torchattacks 3.5.1 components with the reference settings.

The reference ``standard`` version (``fra31/auto-attack``) runs APGD-CE (100 iterations, 1 restart), APGD-T
(DLR-targeted, 9 target classes = the highest non-true logits, 100 iterations), FAB-T (9 targets, 100
iterations) and Square (5000 queries, ``p_init`` 0.8, no rescaled schedule), each on the points still robust
(per-point worst case); ``rand`` (randomised defences) runs APGD-CE and APGD-DLR with EoT over 20 passes.
torchattacks' own ``AutoAttack`` class departs from that (10 iterations, ``n_classes - 1`` targets, Square
``resc_schedule=True``, a clock seed; ``docs/attacks.md``), so the components are built here with every setting
passed explicitly (:func:`autoattack_components`) and chained by :func:`autoattack`.
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn

from ._common import attack_mode, check_norm, in_ball, project
from .result import AttackResult

__all__ = ["autoattack", "autoattack_components"]

_TA_NORM = {"linf": "Linf", "l2": "L2"}


def autoattack_components(model: nn.Module, *, norm: str = "linf", eps: float, version: str = "standard",
                          n_classes: int, steps: int = 100, n_target_classes: int = 9, square_queries: int = 5000,
                          eot_iter: int = 20, seed: int = 0) -> list[tuple[str, object]]:
    """The torchattacks 3.5.1 attack objects of AutoAttack, in running order, as ``[(name, attack)]``.

    ``standard``: ``apgd-ce`` = ``APGD(loss="ce", steps, n_restarts=1, rho=0.75, eot_iter=1)``, ``apgd-t`` =
    ``APGDT(steps, n_restarts=1, rho=0.75)`` with ``n_target_classes = min(n_target_classes, n_classes - 1)``,
    ``fab-t`` = ``FAB(multi_targeted=True, steps, n_restarts=1, alpha_max=0.1, eta=1.05, beta=0.9)`` with the
    same number of targets, ``square`` = ``Square(n_queries=square_queries, n_restarts=1, p_init=0.8,
    loss="margin", resc_schedule=False)``. ``rand``: ``apgd-ce`` and ``apgd-dlr`` (``loss="dlr"``) with
    ``eot_iter``. All with ``seed``. torchattacks sets ``n_target_classes = n_classes - 1`` in its constructors;
    it is overwritten here (the attribute its ``perturb`` loops over).
    """
    import torchattacks as ta

    norm = check_norm(norm)
    tn = _TA_NORM[norm]
    n_classes, steps, seed = int(n_classes), int(steps), int(seed)
    if version == "standard":
        if n_classes < 4:
            raise ValueError(f"AutoAttack standard needs >= 4 classes (APGD-T's targeted DLR loss), got {n_classes}")
        n_t = max(1, min(int(n_target_classes), n_classes - 1))
        apgd = ta.APGD(model, norm=tn, eps=eps, steps=steps, n_restarts=1, seed=seed, loss="ce", eot_iter=1,
                       rho=0.75, verbose=False)
        apgdt = ta.APGDT(model, norm=tn, eps=eps, steps=steps, n_restarts=1, seed=seed, eot_iter=1, rho=0.75,
                         verbose=False, n_classes=n_classes)
        apgdt.n_target_classes = n_t
        fab = ta.FAB(model, norm=tn, eps=eps, steps=steps, n_restarts=1, alpha_max=0.1, eta=1.05, beta=0.9,
                     verbose=False, seed=seed, multi_targeted=True, n_classes=n_classes)
        fab.n_target_classes = n_t
        square = ta.Square(model, norm=tn, eps=eps, n_queries=int(square_queries), n_restarts=1, p_init=0.8,
                           loss="margin", resc_schedule=False, seed=seed, verbose=False)
        return [("apgd-ce", apgd), ("apgd-t", apgdt), ("fab-t", fab), ("square", square)]
    if version == "rand":
        if n_classes < 3:
            raise ValueError(f"AutoAttack rand needs >= 3 classes (DLR loss), got {n_classes}")
        ce = ta.APGD(model, norm=tn, eps=eps, steps=steps, n_restarts=1, seed=seed, loss="ce",
                     eot_iter=int(eot_iter), rho=0.75, verbose=False)
        dlr = ta.APGD(model, norm=tn, eps=eps, steps=steps, n_restarts=1, seed=seed, loss="dlr",
                      eot_iter=int(eot_iter), rho=0.75, verbose=False)
        return [("apgd-ce", ce), ("apgd-dlr", dlr)]
    raise ValueError(f"version must be 'standard' or 'rand', got {version!r}")


def autoattack(model: nn.Module, x: Tensor, y: Tensor, *, norm: str = "linf", eps: float,
               version: str = "standard", n_classes: int, steps: int = 100, n_target_classes: int = 9,
               square_queries: int = 5000, eot_iter: int = 20, seed: int = 0) -> AttackResult:
    """AutoAttack with the reference settings (see :func:`autoattack_components`), per-point worst case.

    Starting from the clean predictions, each component runs only on the examples still robust; its outputs are
    projected onto the ε-ball and [0, 1] (a no-op up to rounding) and re-evaluated with one forward pass of
    ``model``; an example is broken when that point is misclassified, and ``x_adv`` is that point (``x`` for
    robust examples). ``extra``: ``clean_accuracy``, ``robust_after`` (``{name: robust accuracy after that
    component}``, non-increasing), ``broken_by`` (per example: ``-1`` robust, ``0`` clean misclassification,
    ``i`` the i-th component), ``attacks`` (names). The global RNG state is restored afterwards (torchattacks
    reseeds it); model mode and parameters as for every attack.
    """
    norm = check_norm(norm)
    x, y = x.detach(), y.detach()
    devices = [x.device.index or 0] if x.device.type == "cuda" else []
    with attack_mode(model), torch.random.fork_rng(devices=devices):
        comps = autoattack_components(model, norm=norm, eps=eps, version=version, n_classes=n_classes,
                                      steps=steps, n_target_classes=n_target_classes,
                                      square_queries=square_queries, eot_iter=eot_iter, seed=seed)
        with torch.no_grad():
            logits = model(x)
        if logits.shape[1] != int(n_classes):
            raise ValueError(f"the model has {logits.shape[1]} outputs, n_classes={n_classes}")
        robust = logits.argmax(dim=1) == y
        broken_by = torch.where(robust, -1, 0).long()
        x_adv = x.clone()
        extra: dict = {"clean_accuracy": float(robust.float().mean()) if len(y) else float("nan"),
                       "robust_after": {}, "attacks": [n for n, _ in comps]}
        for i, (name, atk) in enumerate(comps, start=1):
            idx = robust.nonzero().squeeze(1)
            if idx.numel():
                xs, ys = x[idx], y[idx]
                ctx = torch.no_grad() if name == "square" else contextlib.nullcontext()
                with ctx:
                    adv = atk(xs, ys).detach().to(x.device)
                adv = project(adv, xs, eps, norm)
                with torch.no_grad():
                    broke = (model(adv).argmax(dim=1) != ys) & in_ball(adv, xs, eps, norm)
                hit = idx[broke]
                x_adv[hit] = adv[broke]
                robust[hit] = False
                broken_by[hit] = i
            extra["robust_after"][name] = float(robust.float().mean()) if len(y) else float("nan")
        extra["broken_by"] = broken_by
    return AttackResult(x_adv=x_adv, robust=robust, extra=extra)
