"""Mean ± std over the training seeds of a run (config key ``seeds``; see :mod:`toeplitznet.plan`).

A run trained with several seeds has one metrics file per seed: the run itself (the global seed) and its
replicas ``<run>__seed<k>`` (their metrics carry ``replica_of``). :func:`merge_replicas` folds them into one
metrics dict per run whose final test accuracy is the mean over the seeds that did not diverge, with the
per-seed values, the sample standard deviation (``ddof = 1``) and the seeds in ``seed_stats``. Only the final
accuracy is averaged; curves and counts are those of the global seed's run (counts do not depend on the seed).

No torch import: aggregation jobs stay light.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["mean_std", "base_run_id", "merge_replicas", "seed_stats", "SEED_SEP"]

SEED_SEP = "__seed"


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """``(mean, sample std)`` of ``values``; std is None for fewer than two values, both None for none."""
    vals = [float(v) for v in values]
    if not vals:
        return None, None
    mean = sum(vals) / len(vals)
    if len(vals) < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))


def base_run_id(metrics: Mapping[str, Any]) -> str:
    """The run a metrics file belongs to: ``replica_of`` for a replica, else its own id."""
    return str(metrics.get("replica_of") or metrics["run_id"])


def _seed(metrics: Mapping[str, Any]) -> int | None:
    for where in (metrics, metrics.get("config") or {}, metrics.get("model") or {}):
        if where.get("seed") is not None:
            return int(where["seed"])
    return None


def _final_accuracy(metrics: Mapping[str, Any]) -> float | None:
    if metrics.get("status") == "diverged":
        return None
    return ((metrics.get("final_eval") or {}).get("test") or {}).get("accuracy")


def merge_replicas(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One metrics dict per run (in first-seen order), the replicas of each folded in (see module doc).

    The merged dict is the global seed's metrics (else the first replica's) with ``final_eval.test.accuracy``
    replaced by the mean over the non-diverged seeds and ``status: "diverged"`` only when every seed
    diverged; ``seed_stats = {"seeds", "accuracy": per-seed values (None = diverged), "mean", "std", "n",
    "n_diverged"}``.
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for m in runs:
        groups.setdefault(base_run_id(m), []).append(m)
    out = []
    for base, members in groups.items():
        members = sorted(members, key=lambda m: (m.get("replica_of") is not None, _seed(m) or 0))
        merged = copy.deepcopy(dict(members[0]))
        accs = [_final_accuracy(m) for m in members]
        ok = [a for a in accs if a is not None]
        mean, std = mean_std(ok)
        merged["seed_stats"] = {"seeds": [_seed(m) for m in members], "accuracy": accs, "mean": mean, "std": std,
                                "n": len(ok), "n_diverged": len(accs) - len(ok),
                                "sources": [m.get("_source") for m in members]}
        merged["run_id"] = base
        if len(members) > 1:
            if ok:
                merged["status"] = "finished" if merged.get("status") == "diverged" else merged.get("status")
                merged.setdefault("final_eval", {}).setdefault("test", {})["accuracy"] = mean
            else:
                merged["status"] = "diverged"
        out.append(merged)
    return out


def seed_stats(metrics: Mapping[str, Any], scale: float = 1.0) -> dict[str, Any]:
    """Cell keys of a merged run's accuracy: ``plus_minus`` (std × ``scale``, when several seeds) and ``n_seeds``
    (the seeds that did not diverge)."""
    st = metrics.get("seed_stats")
    if not st:
        return {}
    out: dict[str, Any] = {"n_seeds": int(st["n"])}
    if st.get("std") is not None:
        out["plus_minus"] = float(st["std"]) * scale
    return out
