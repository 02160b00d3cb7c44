"""Reading the Section 5.5 runs and their attack results from a study's inputs, mean ± std over seeds.

Input names (made by :func:`inputs`): ``<run>`` (metrics.json), ``<run>__model`` (weights, provenance only),
``<run>__eval__<evaluation>`` (an evaluation result), each optionally followed by ``__seed<k>`` (a seed
replica, added by the plan). No torch import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...runs.seeds import mean_std
from . import _runs

EVAL_SEP = "__eval__"
_SEED = re.compile(r"^(.*)__seed(\d+)$")


def inputs(config, paths, runs: Mapping[str, Mapping[str, Any]], evals: Mapping[str, Mapping[str, Any]]
           ) -> dict[str, str]:
    """Study inputs: every run's metrics and weights and the results of ``evals[run]`` (``{eval_id: spec}``)."""
    out: dict[str, str] = {}
    for rid in runs:
        out[rid] = paths.run(rid, "metrics.json")
        out[f"{rid}__model"] = paths.run(rid, "model.pt")
        for eid in evals.get(rid, {}):
            out[f"{rid}{EVAL_SEP}{eid}"] = paths.evaluation(rid, eid)
    return out


def evaluations(runs, evals) -> dict[tuple[str, str], dict[str, Any]]:
    return {(rid, eid): dict(spec) for rid in runs for eid, spec in evals.get(rid, {}).items()}


def item_hooks(item_id: str, runs_of, evals_of, notes_of=None, study_of=None):
    """The ``runs``, ``evaluations``, ``inputs`` and ``job_config`` hooks of a Section 5.5 item from its run
    expansion ``runs_of(config, paths=None)`` and its evaluations ``evals_of(config) -> {run: {eval_id: spec}}``
    (the study's config carries the evaluation specs, ``notes_of(config)`` as ``notes`` and the extra study
    parameters ``study_of(config) -> dict`` when given; Appendix D uses the latter)."""
    def runs(config, paths):
        return runs_of(config, paths)

    def evaluations_hook(config, paths):
        return evaluations(runs_of(config), evals_of(config))

    def inputs_hook(config, paths):
        return inputs(config, paths, runs_of(config), evals_of(config))

    def job_config(config, paths):
        from ...plan import study_config

        cfg = study_config(config, item_id)
        cfg["study"]["evals"] = evals_of(config)
        if notes_of is not None:
            cfg["study"]["notes"] = notes_of(config)
        if study_of is not None:
            cfg["study"].update(study_of(config))
        return cfg

    return runs, evaluations_hook, inputs_hook, job_config


AA_COLUMN = "AutoAttack-linf 8/255 (not in thesis)"
BOUND_COLUMN = "product of layer bounds (not in thesis)"


def attack_cells(col: "Collected", evals, *, row_of, natural_column: str, pgd_columns, cw_column) -> list[dict]:
    """The cells of a Section 5.5 table: per run (row ``row_of(labels)``), the natural accuracy of its
    ``certified`` evaluation, the PGD accuracies (``pgd_columns(pgd eval ids, specs) -> {eval id: column}``;
    evaluations left out are not shown), the C&W accuracy per bound (``cw_column(bound)``), AutoAttack, the
    product of layer bounds and the certified accuracies; mean ± std over seeds (:meth:`Collected.value`)."""
    cells = []
    for rid in col.runs():
        row, spec = row_of(col.labels(rid)), evals[rid]

        def put(column, eid, getter):
            v = col.value(rid, eid, getter)
            if v is not None:
                cells.append({"row": row, "column": column, **v})

        put(natural_column, "certified", natural)
        pgd = pgd_columns([eid for eid, s in spec.items() if s["kind"] == "pgd"], spec)
        for eid, s in spec.items():
            if s["kind"] == "pgd" and eid in pgd:
                put(pgd[eid], eid, accuracy)
            elif s["kind"] == "cw_l2":
                for b in s["bounds"]:
                    put(cw_column(b), eid, cw_at(b))
            elif s["kind"] == "autoattack":
                put(AA_COLUMN, eid, accuracy)
            elif s["kind"] == "certified":
                put(BOUND_COLUMN, eid, lambda r: r.get("product_of_bounds"))
                for rad in s["radii"]:
                    put(f"certified accuracy r={rad:g} (not in thesis)", eid, certified_at(rad))
    return cells


class Collected:
    """Per base run: its labels, the per-seed metrics and the per-seed evaluation results."""

    def __init__(self, study_inputs: Mapping[str, Any]):
        self.metrics: dict[str, dict[int, dict]] = {}
        self.evals: dict[str, dict[str, dict[int, dict]]] = {}
        self.sources: list[str] = []
        for name, path in study_inputs.items():
            m = _SEED.match(name)
            base, seed = (m.group(1), int(m.group(2))) if m else (name, None)
            if "__model" in base:
                continue
            data = json.loads(Path(path).read_text())
            self.sources.append(str(path))
            if EVAL_SEP in base:
                rid, eid = base.split(EVAL_SEP, 1)
                self.evals.setdefault(rid, {}).setdefault(eid, {})[seed if seed is not None else -1] = data
            else:
                self.metrics.setdefault(base, {})[seed if seed is not None else -1] = data

    def runs(self) -> list[str]:
        return list(self.metrics)

    def labels(self, rid: str) -> dict[str, Any]:
        return dict(next(iter(self.metrics[rid].values())).get("labels", {}))

    def seeds(self, rid: str) -> list[int]:
        return sorted(int(m.get("seed", 0)) for m in self.metrics[rid].values())

    def stand_in(self) -> str | None:
        notes = sorted({m["stand_in"] for per in self.metrics.values() for m in per.values() if m.get("stand_in")})
        return "; ".join(notes) if notes else None

    def value(self, rid: str, eid: str, getter) -> dict[str, Any] | None:
        """Mean ± std over seeds of ``getter(eval_result)``: ``{"value", "plus_minus"?, "n_seeds"}`` cell keys."""
        per = self.evals.get(rid, {}).get(eid)
        if not per:
            return None
        vals = [getter(r) for r in per.values()]
        vals = [float(v) for v in vals if v is not None]
        if not vals:
            return None
        mean, std = mean_std(vals)
        out: dict[str, Any] = {"value": mean, "n_seeds": len(vals)}
        if std is not None:
            out["plus_minus"] = std
        return out

    def results(self, rid: str, eid: str) -> list[dict]:
        return list(self.evals.get(rid, {}).get(eid, {}).values())


def bound_key(bound: float) -> str:
    """Key of an ℓ2 bound in a C&W result (JSON object keys are strings)."""
    return f"{float(bound):g}"


def accuracy(r: Mapping[str, Any]):
    return r.get("accuracy")


def natural(r: Mapping[str, Any]):
    """Natural accuracy of a ``certified`` evaluation (the whole test split)."""
    return r.get("natural_accuracy")


def cw_at(bound: float):
    return lambda r: (r.get("accuracy_at") or {}).get(bound_key(bound))


def pgd_at(k: int):
    return lambda r: (r.get("robust_at") or {}).get(str(int(k)))


def certified_at(radius: float):
    return lambda r: (r.get("certified_accuracy") or {}).get(bound_key(radius))


def base_result(item: str, col: Collected, notes: list[str]) -> dict[str, Any]:
    seeds = sorted({s for rid in col.runs() for s in col.seeds(rid)})
    notes = list(notes)
    notes.append(f"Seeds: {seeds}; " + ("every number is one trained model." if len(seeds) == 1 else
                 "every number is the mean over the seeds' models ± the sample std (ddof = 1)."))
    notes.append("Model selection: the weights after the last epoch (the author's code kept the checkpoint with the "
                 "best natural test accuracy, a selection on the test set; not done here).")
    return {"item": item, "stand_in": col.stand_in(), "seeds": seeds, "notes": notes,
            "runs": {rid: {"labels": col.labels(rid), "seeds": col.seeds(rid)} for rid in col.runs()}}


__all__ = ["inputs", "evaluations", "item_hooks", "attack_cells", "AA_COLUMN", "BOUND_COLUMN", "Collected", "bound_key", "accuracy", "cw_at", "pgd_at", "certified_at",
           "base_result", "EVAL_SEP", "natural", "_runs"]
