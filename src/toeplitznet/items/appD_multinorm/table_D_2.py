"""Table D.2: average ℓ2 and ℓ∞ norms of PGD-ℓ2 adversarial perturbations on the Unprotected and AT-ℓ∞ models
and of PGD-ℓ∞ perturbations on the Unprotected and AT-ℓ2 models, CIFAR-10 (thesis L8219-8245; footnote 3,
L8254-8255: the setting of Section D.3, equal-volume balls ε∞ 0.031, ε2 0.83).

The text (L8228-8232) speaks of PGD-ℓ∞ on Unprotected vs AT-ℓ∞; we follow the table's columns. The models
and attacks are Table D.3's (Baseline, AT-ℓ∞, AT-ℓ2 and their ``adv_norms`` evaluation: the same jobs). Which
perturbations are averaged is not stated: ``select: all`` (every attacked example; PGD saturates its own
constraint, so the own-norm average is ≈ ε) or ``successful`` (correct without attack, broken by it).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as R, _runs
from .table_D_3 import settings_notes

SCHEMA = """
type: object
additionalProperties: false
required: [select]
properties:
  select:
    description: perturbations averaged - all attacked examples, or the successful attacks only (thesis silent)
    enum: [all, successful]
"""
ITEM = Item(id="table_D_2", kind="table", title="average ℓ2 / ℓ∞ norms of PGD adversarial examples",
            thesis_lines="L8219-8245", status=IMPLEMENTED, schema=SCHEMA, uses=("appD_train",))
#: column -> (attack evaluated, defence attacked)
COLUMNS = {"Attack PGD-l2 / Unprotected": ("pgd_l2", "baseline"), "Attack PGD-l2 / AT-linf": ("pgd_l2", "at_linf"),
           "Attack PGD-linf / Unprotected": ("pgd_linf", "baseline"), "Attack PGD-linf / AT-l2": ("pgd_linf", "at_l2")}
ROWS = {"l2": "Average l2 norm", "linf": "Average linf norm"}
COUNT_ROW = "examples averaged (not in thesis)"
DEFENCES = ("baseline", "at_linf", "at_l2")


def _runs_of(config, paths=None):
    return _runs.specs(config, DEFENCES, paths)


def _evals(config):
    return _runs.eval_specs(config, DEFENCES)


def _study(config):
    sel = config["studies"][ITEM.id]["select"]
    return {"run_ids": _runs.run_ids(config, DEFENCES), "notes": settings_notes(config) + [
        f"Averaged perturbations: {'every attacked example' if sel == 'all' else 'the successful attacks only'} "
        "(select; the thesis does not say). Norms of x_adv - x on [0, 1] pixels, d = C x H x W.",
        "The thesis's text describes PGD-linf on Unprotected vs AT-linf (L8228-8232); its table (followed here) "
        "has PGD-l2 on Unprotected / AT-linf and PGD-linf on Unprotected / AT-l2."]}


def cells_of(col: R.Collected, params) -> list[dict]:
    cells = []
    sel = params["select"]
    for column, (attack, defence) in COLUMNS.items():
        rid = params["run_ids"][defence]
        if rid not in col.metrics:
            continue
        for norm, row in ROWS.items():
            v = col.value(rid, _runs.EVAL_ID, R.mean_norm(attack, norm, sel))
            if v is not None:
                cells.append({"row": row, "column": column, **v})
        v = col.value(rid, _runs.EVAL_ID, R.n_selected(attack, sel))
        if v is not None:
            cells.append({"row": COUNT_ROW, "column": column, **v})
    return cells


def run(ctx) -> None:
    col = R.Collected(ctx.inputs)
    res = R.base_result(ITEM.id, col, ctx.params["notes"])
    res["run_ids"] = ctx.params["run_ids"]
    res["cells"] = cells_of(col, ctx.params)
    ctx.write_result("result", res)


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, _evals, _study)
