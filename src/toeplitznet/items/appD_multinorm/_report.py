"""Reading Appendix D's evaluation records (pure Python): accuracies, the union anchor, the norm averages of
Table D.2 and the region counts of Figure D.2. The study inputs are laid out as Section 5.5's
(:mod:`toeplitznet.items.ch5_robust._report`: ``<run>``, ``<run>__eval__<evaluation>``, ``__seed<k>``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..ch5_robust._report import Collected, base_result, evaluations, inputs  # noqa: F401  (re-exported)
from ..ch5_robust._report import item_hooks as _ch5_item_hooks
from . import _runs

SELECTIONS = ("all", "successful")
COUNTS = ("all", "successful")
#: slack of the ℓ∞ / ℓ2 ball membership tests (float32 perturbations projected onto the ball)
TOL = 1e-6


def item_hooks(item_id: str, runs_of, evals_of, study_of):
    """The hooks of an Appendix D item: Section 5.5's (:func:`..ch5_robust._report.item_hooks`) with the extra
    study parameters ``study_of(config)`` (the defence -> run mapping, notes) in its job config."""
    return _ch5_item_hooks(item_id, runs_of, evals_of, study_of=study_of)


def attack_accuracy(name: str):
    return lambda r: ((r.get("attacks") or {}).get(name) or {}).get("accuracy")


def natural(r: Mapping[str, Any]):
    return r.get("natural_accuracy")


def union_accuracy(r: Mapping[str, Any]):
    """Fraction of attacked examples that survive every attack (from the per-example flags)."""
    atk = r.get("attacks") or {}
    flags = [a["robust"] for a in atk.values()]
    if not flags or not flags[0]:
        return None
    return sum(all(f[i] for f in flags) for i in range(len(flags[0]))) / len(flags[0])


def selected(rec: Mapping[str, Any], select: str) -> list[int]:
    """Indices of the examples averaged: ``all`` attacked ones, or the ``successful`` attacks (correct without
    attack, broken by it)."""
    if select not in SELECTIONS:
        raise ValueError(f"select must be one of {SELECTIONS}, got {select!r}")
    n = len(rec["l2"])
    if select == "all":
        return list(range(n))
    return [i for i in range(n) if rec["clean_correct"][i] and not rec["robust"][i]]


def mean_norm(name: str, norm: str, select: str):
    """Getter: mean ``norm`` (``l2`` / ``linf``) of the perturbations of attack ``name`` over ``select``."""
    def get(r):
        rec = (r.get("attacks") or {}).get(name)
        if not rec:
            return None
        idx = selected(rec, select)
        return sum(rec[norm][i] for i in idx) / len(idx) if idx else None
    return get


def n_selected(name: str, select: str):
    def get(r):
        rec = (r.get("attacks") or {}).get(name)
        return len(selected(rec, select)) if rec else None
    return get


def radii(eps: float, dim: int, n: int) -> list[float]:
    """Figure D.2's x axis: ``n`` radii evenly from ε to ε√d (the thesis's figure data: 20 points)."""
    hi = eps * dim ** 0.5
    return [eps] if n == 1 else [eps + (hi - eps) * k / (n - 1) for k in range(n)]


def region_counts(rec: Mapping[str, Any], eps: float, rs: Sequence[float], count: str) -> dict[str, Any]:
    """Counts of C&W examples (L8287-8309) per radius ε′ of ``rs``: inside the ℓ∞ ball (‖δ‖∞ ≤ ε), outside
    it but inside the ℓ2 ball (‖δ‖∞ > ε, ‖δ‖2 ≤ ε′: the ℓ2 cap), outside (the rest: ‖δ‖2 > ε′, or no
    adversarial found). ``count``: ``all`` attacked examples, or the ``successful`` ones (correct without
    attack, adversarial found)."""
    if count not in COUNTS:
        raise ValueError(f"count must be one of {COUNTS}, got {count!r}")
    idx = [i for i in range(len(rec["found"]))
           if count == "all" or (rec["found"][i] and rec["clean_correct"][i])]
    inside = {i for i in idx if rec["found"][i] and rec["linf"][i] <= eps + TOL}
    rest = [i for i in idx if i not in inside and rec["found"][i]]
    cap = [sum(1 for i in rest if rec["l2"][i] <= r + TOL) for r in rs]
    return {"radius": list(rs), "inside_linf": [len(inside)] * len(rs), "l2_cap": cap,
            "outside": [len(idx) - len(inside) - c for c in cap], "n": len(idx),
            "not_found": sum(1 for i in idx if not rec["found"][i])}


__all__ = ["Collected", "base_result", "item_hooks", "attack_accuracy", "natural", "union_accuracy", "selected",
           "mean_norm", "n_selected", "radii", "region_counts", "SELECTIONS", "COUNTS", "_runs"]
