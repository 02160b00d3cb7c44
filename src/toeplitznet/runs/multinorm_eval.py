"""Evaluations of Appendix D (rule ``evaluate_run``; kinds registered in :mod:`.evaluate`): per-example
records from which the study jobs compute Tables D.2-D.3 and Figure D.2 (thesis L8219-8451).

* ``adv_norms``: natural accuracy and, for each attack of ``spec["attacks"]`` (``{name: {norm, eps, step,
  steps, restarts}}``: PGD-ℓ∞ and PGD-ℓ2 of Table D.3, L8346-8350), per attacked example whether it
  survived (``robust``), whether it was classified correctly without attack (``clean_correct``) and the ℓ∞ and
  ℓ2 norms of its adversarial perturbation (Table D.2); robust accuracy per attack and over the union of the
  attacks (robust only if it survives every one: the multi-norm anchor, not in the thesis).
* ``cw_regions``: the minimal C&W-ℓ2 perturbation of each attacked example (ℓ∞ and ℓ2 norms, ``None`` where
  none was found) for Figure D.2's region counts.

Randomised models (NI, RAT): ``eot_samples = k`` makes PGD ascend the mean loss of ``k`` passes and predict
with their mean softmax (EoT, L8338-8343); the natural accuracy is the EoT prediction too. ``accounting``:
``reevaluate`` (default) classifies the kept point ``x_adv`` afresh with the EoT prediction (fresh noise), so a
noise draw that misclassifies one iterate by chance does not count as a successful attack; ``any_iterate`` is
Section 5.5's rule (broken if any evaluated point is misclassified). Both agree on a deterministic model.
Seeds: each batch's attack seed is ``seed + batch index``.
"""

from __future__ import annotations

import time

from .robust_eval import _batches, _examples

ACCOUNTING = ("reevaluate", "any_iterate")


def _eot_correct(model, x, y, k: int):
    """Correct per example by the mean softmax of ``k`` passes (one pass for ``k = 1``)."""
    import torch

    with torch.no_grad():
        p = sum(model(x).softmax(dim=1) for _ in range(int(k)))
        return p.argmax(dim=1) == y


def natural_accuracy(model, data, spec: dict, device) -> tuple[float, int]:
    """EoT accuracy on the first ``natural_examples`` test examples (all when null)."""
    x, y = _examples(data, {"examples": spec.get("natural_examples")})
    correct = 0
    for _, xb, yb in _batches(x, y, spec, device):
        correct += int(_eot_correct(model, xb, yb, int(spec.get("eot_samples", 1))).sum())
    return correct / len(y), int(len(y))


def adv_norms(model, data, spec: dict, device) -> dict:
    from ..attacks import pgd
    from ..attacks._common import flat_norm

    acc = spec.get("accounting", "reevaluate")
    if acc not in ACCOUNTING:
        raise ValueError(f"evaluation adv_norms: accounting must be one of {ACCOUNTING}, got {acc!r}")
    k = int(spec.get("eot_samples", 1))
    x, y = _examples(data, spec)
    t0 = time.perf_counter()
    out: dict = {}
    for name, a in spec["attacks"].items():
        rec = {"robust": [], "clean_correct": [], "linf": [], "l2": []}
        for b, xb, yb in _batches(x, y, spec, device):
            res = pgd(model, xb, yb, norm=a["norm"], eps=float(a["eps"]), step=float(a["step"]),
                      steps=int(a["steps"]), restarts=int(a.get("restarts", 1)), random_start=True, eot_samples=k,
                      seed=int(spec.get("seed", 0)) + b)
            robust = res.robust if acc == "any_iterate" else _eot_correct(model, res.x_adv, yb, k)
            delta = (res.x_adv - xb).detach()
            rec["robust"] += [bool(v) for v in robust.cpu()]
            rec["clean_correct"] += [bool(v) for v in res.extra["clean_correct"].cpu()]
            rec["linf"] += [float(v) for v in flat_norm(delta, "linf").cpu()]
            rec["l2"] += [float(v) for v in flat_norm(delta, "l2").cpu()]
        rec["accuracy"] = sum(rec["robust"]) / len(y)
        rec.update(norm=a["norm"], eps=float(a["eps"]))
        out[name] = rec
    union = [all(out[n]["robust"][i] for n in out) for i in range(len(y))]
    nat, n_nat = natural_accuracy(model, data, spec, device)
    return {"natural_accuracy": nat, "n_natural": n_nat, "attacks": out, "union_accuracy": sum(union) / len(y),
            "n": int(len(y)), "eot_samples": k, "accounting": acc, "seconds": time.perf_counter() - t0}


def cw_regions(model, data, spec: dict, device) -> dict:
    import torch

    from ..attacks._common import flat_norm
    from ..attacks.multinorm import minimal_cw_l2

    x, y = _examples(data, spec)
    t0 = time.perf_counter()
    found, clean, linf, l2 = [], [], [], []
    for _, xb, yb in _batches(x, y, spec, device):
        delta, ok = minimal_cw_l2(model, xb, yb, binary_search_steps=int(spec["binary_search_steps"]),
                                  steps=int(spec["steps"]), lr=float(spec["lr"]), confidence=float(spec["confidence"]),
                                  initial_const=float(spec["initial_const"]))
        with torch.no_grad():
            clean += [bool(v) for v in (model(xb).argmax(dim=1) == yb).cpu()]
        for f, a, b in zip(ok.cpu(), flat_norm(delta, "linf").cpu(), flat_norm(delta, "l2").cpu()):
            found.append(bool(f))
            linf.append(float(a) if f else None)
            l2.append(float(b) if f else None)
    return {"found": found, "clean_correct": clean, "linf": linf, "l2": l2, "n": int(len(y)),
            "dim": int(x[0].numel()), "seconds": time.perf_counter() - t0}
