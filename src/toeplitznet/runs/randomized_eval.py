"""Evaluations of the randomised networks of thesis Appendix C (L7825-7945; rule ``evaluate_run``, kinds
registered in :mod:`.evaluate`). Every kind takes ``(model, data, spec, device)`` like :mod:`.robust_eval`
(pixels in [0, 1]; a randomised run's model is a :class:`~toeplitznet.robust.noise.NoisyInput` that draws fresh
noise at every pass) and seeds the global RNG with ``spec["seed"]`` (default 0) first, so noise draws are
reproducible. All budgets and sds in a spec are on the [0, 1] pixel scale (the items convert the thesis's).

* ``noisy_accuracy``: natural accuracy under the prediction rule ``rule`` (``single``: one fresh draw per image,
  the author's code; ``mean_softmax`` / ``majority``: over ``draws`` draws) -> ``{"accuracy", "n"}``.
* ``guarantee``: class frequencies over ``draws`` passes on a fixed set of images and their entropy statistics
  (:func:`toeplitznet.robust.guarantee.entropy_stats`), the inputs of Theorem C.2.
* ``smoothing``: Cohen et al.'s CERTIFY on a Gaussian model (``n0``, ``n``, ``alpha``) and the certified
  accuracy at ``radii``.
* ``eot_attack`` (``attack``: ``pgd_linf`` | ``cw_l2`` | ``ead_l1`` | ``autoattack``) and ``ead_l1``: the attack
  run against the EoT model, then the kept point judged by the prediction rule on fresh draws; with ``repeats``
  > 1 the whole attack is repeated with other draws and an example counts as robust only if it survives all.
* ``suite``: several of the above (``parts``: ``{id: spec}``) in one job -> ``{"parts": {id: result}}``.
"""

from __future__ import annotations

import logging
import time

from . import robust_eval

log = logging.getLogger("toeplitznet.runs")

RULES = ("single", "mean_softmax", "majority")
ATTACKS = ("pgd_linf", "cw_l2", "ead_l1", "autoattack")


def _seed(spec) -> int:
    import torch

    s = int(spec.get("seed", 0))
    torch.manual_seed(s)
    return s


def is_randomized(model) -> bool:
    from ..robust.noise import NoisyInput

    return any(isinstance(m, NoisyInput) and m.active and m.sd > 0 for m in model.modules())


def noise_of(model):
    from ..robust.noise import NoisyInput

    return next((m for m in model.modules() if isinstance(m, NoisyInput)), None)


def predict(model, x, rule: str = "single", draws: int = 1):
    """Predicted classes of a (randomised) model: one pass (``single``), the argmax of the mean softmax or the
    most frequent class over ``draws`` passes. A deterministic model always gets one pass."""
    import torch

    if rule not in RULES:
        raise ValueError(f"prediction rule must be one of {RULES}, got {rule!r}")
    with torch.no_grad():
        if rule == "single" or not is_randomized(model) or int(draws) <= 1:
            return model(x).argmax(1)
        acc = None
        for _ in range(int(draws)):
            out = model(x)
            v = out.softmax(1) if rule == "mean_softmax" else torch.nn.functional.one_hot(out.argmax(1), out.shape[1])
            acc = v.double() if acc is None else acc + v
        return acc.argmax(1)


def _rule(spec):
    p = spec.get("prediction") or {"rule": "single", "draws": 1}
    return p["rule"], int(p.get("draws", 1))


def noisy_accuracy(model, data, spec: dict, device) -> dict:
    _seed(spec)
    x, y = robust_eval._examples(data, spec)
    rule, draws = _rule(spec)
    correct = 0
    for _, xb, yb in robust_eval._batches(x, y, spec, device):
        correct += int((predict(model, xb, rule, draws) == yb).sum())
    return {"accuracy": correct / len(y), "n": int(len(y)), "correct": correct, "rule": rule, "draws": draws,
            "randomized": is_randomized(model)}


def guarantee(model, data, spec: dict, device) -> dict:
    from ..robust.guarantee import class_counts, entropy_stats

    _seed(spec)
    x, y = robust_eval._examples(data, spec)
    t0 = time.perf_counter()
    counts = class_counts(model, x.to(device), int(spec["draws"]), batch_size=int(spec.get("batch_size", 100)))
    out = entropy_stats(counts.cpu(), y)
    noise = noise_of(model)
    out.update(draws=int(spec["draws"]), dist=noise.dist if noise else None, sd_unit=noise.sd if noise else 0.0,
               seconds=time.perf_counter() - t0)
    return out


def smoothing(model, data, spec: dict, device) -> dict:
    from ..robust.smoothing import certified_accuracy, certify

    noise = noise_of(model)
    if noise is None or noise.dist != "gaussian" or noise.sd <= 0:
        raise ValueError("evaluation smoothing: Cohen et al.'s certificate needs a model with Gaussian input noise")
    _seed(spec)
    x, y = robust_eval._examples(data, spec)
    t0 = time.perf_counter()
    preds, radii = certify(model, x.to(device), sd=noise.sd, n0=int(spec["n0"]), n=int(spec["n"]),
                           alpha=float(spec["alpha"]), batch_size=int(spec.get("batch_size", 100)))
    at = [float(r) for r in spec["radii"]]
    ca = certified_accuracy(preds, radii, y.tolist(), at)
    return {"certified_accuracy": {robust_eval._key(r): v for r, v in ca.items()}, "predictions": preds,
            "radii": radii, "abstain": sum(p < 0 for p in preds) / len(preds), "sd_unit": noise.sd, "n": len(preds),
            "seconds": time.perf_counter() - t0}


def mean_logits(model, samples: int):
    """The author's EoT form for C&W: a module returning the mean of the logits over ``samples`` passes."""
    import torch
    from torch import nn

    class MeanLogits(nn.Module):
        def __init__(self):
            super().__init__()
            self.model, self.samples = model, int(samples)

        def forward(self, x):
            return torch.stack([self.model(x) for _ in range(self.samples)]).mean(0)

    return MeanLogits()


def eot_model(model, samples: int, form: str = "probabilities"):
    """The model an attack sees: ``EoT(model, samples)`` (log of the mean softmax) or the mean of the logits
    (``form="logits"``, the author's C&W); the model itself when it is deterministic or ``samples == 1``."""
    from ..attacks import EoT

    if not is_randomized(model) or int(samples) <= 1:
        return model
    if form == "probabilities":
        return EoT(model, int(samples))
    if form == "logits":
        return mean_logits(model, int(samples))
    raise ValueError(f"eot_form must be 'probabilities' or 'logits', got {form!r}")


def _pred_label_loss(logits, y):
    import torch.nn.functional as F

    return F.cross_entropy(logits, logits.argmax(1).detach(), reduction="none")


def _attack_once(model, xb, yb, spec, seed, n_classes):
    """``(x_adv, robust as the attack judged it)`` for one batch."""
    from .. import attacks as A

    a, k = spec["attack"], int(spec.get("eot_samples", 1))
    if a == "pgd_linf":
        res = A.pgd(model, xb, yb, norm="linf", eps=float(spec["eps"]), step=float(spec["step"]),
                    steps=int(spec["steps"]), restarts=int(spec.get("restarts", 1)), random_start=True,
                    loss=_pred_label_loss if spec.get("labels") == "predictions" else "ce",
                    eot_samples=k if is_randomized(model) else 1, seed=seed)
        return res.x_adv, res.robust
    if a == "autoattack":
        res = A.autoattack(model, xb, yb, norm="linf", eps=float(spec["eps"]), version="rand", n_classes=n_classes,
                           steps=int(spec["steps"]), eot_iter=int(spec["eot_iter"]) if is_randomized(model) else 1,
                           seed=seed)
        return res.x_adv, res.robust
    em = eot_model(model, k, spec.get("eot_form", "probabilities"))
    b = float(spec["bound"])
    common = dict(binary_search_steps=int(spec["binary_search_steps"]), steps=int(spec["steps"]), lr=float(spec["lr"]),
                  initial_const=float(spec["initial_const"]), confidence=float(spec["confidence"]))
    if a == "cw_l2":
        res = A.bounded_cw_l2(em, xb, yb, bounds=[b], **common)[b]
    elif a == "ead_l1":
        res = A.ead_l1(em, xb, yb, bounds=[b], regularization=float(spec["regularization"]),
                       decision_rule=spec["decision_rule"], **common)[b]
    else:
        raise ValueError(f"evaluation eot_attack: attack must be one of {ATTACKS}, got {a!r}")
    return res.x_adv, res.robust


def eot_attack(model, data, spec: dict, device) -> dict:
    import torch

    seed = _seed(spec)
    x, y = robust_eval._examples(data, spec)
    rule, draws = _rule(spec)
    n_classes = robust_eval._n_classes(model, x[:1].to(device))
    robust = torch.ones(len(y), dtype=torch.bool)
    seen = torch.ones(len(y), dtype=torch.bool)
    t0 = time.perf_counter()
    for r in range(int(spec.get("repeats", 1))):
        torch.manual_seed(seed + 7919 * r)
        i0 = 0
        for b, xb, yb in robust_eval._batches(x, y, spec, device):
            x_adv, own = _attack_once(model, xb, yb, spec, seed + 1000 * r + b, n_classes)
            ok = (predict(model, x_adv.detach(), rule, draws) == yb).cpu()
            robust[i0:i0 + len(yb)] &= ok
            seen[i0:i0 + len(yb)] &= own.cpu()
            i0 += len(yb)
    n = len(y)
    return {"accuracy": float(robust.float().mean()), "attack_accuracy": float(seen.float().mean()), "n": n,
            "attack": spec["attack"], "rule": rule, "draws": draws, "randomized": is_randomized(model),
            "seconds": time.perf_counter() - t0}


def ead_l1(model, data, spec: dict, device) -> dict:
    return eot_attack(model, data, dict(spec, attack="ead_l1"), device)


def suite(model, data, spec: dict, device) -> dict:
    from .evaluate import _function

    out = {}
    for pid, part in spec["parts"].items():
        if part["kind"] == "suite":
            raise ValueError(f"evaluation suite: part {pid} is itself a suite")
        t0 = time.perf_counter()
        out[pid] = _function(part["kind"])(model, data, part, device)
        log.info("suite part %s (%s): %.1f s", pid, part["kind"], time.perf_counter() - t0)
    return {"parts": out}


__all__ = ["noisy_accuracy", "guarantee", "smoothing", "eot_attack", "ead_l1", "suite", "predict", "eot_model",
           "mean_logits", "is_randomized"]
