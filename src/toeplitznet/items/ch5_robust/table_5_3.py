"""Table 5.3: natural accuracy and accuracy under PGD-ℓ∞ and bounded C&W-ℓ2 attacks of Wide ResNets trained
with Baseline, AT, AT+PM (CIFAR-10 only) and AT+LipReg, (a) CIFAR-10, (b) CIFAR-100.

Thesis L6190-6208, settings S7 (L6243-6258): PGD-ℓ∞ ε = 8/255, step ε/5, 200 iterations, 10 restarts, the
highest-loss perturbation over all iterations and restarts; C&W-ℓ2 bounded at 0.6 and 0.8. Columns not in the
thesis: AutoAttack ℓ∞ at 8/255 (Croce & Hein 2020, today's accepted evaluation: does the PGD number hold?),
the product of the layer bounds (LipBound per conv, BN bounds, the head's σ1) and the certified accuracy it
gives for free at the radii of ``certified_radii`` (margin / (√2 · bound), Tsuzuku et al. 2018).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as R, _runs

SCHEMA = """
type: object
additionalProperties: false
required: [datasets, certified_radii]
properties:
  datasets:
    type: array
    minItems: 1
    uniqueItems: true
    items: {enum: [cifar10, cifar100]}
  certified_radii:
    description: not in thesis - l2 radii of the certified accuracy from the product of layer bounds
    type: array
    items: {$ref: "#/$defs/posnum"}
"""
ITEM = Item(id="table_5_3", kind="table", title="Lipschitz-regularised AT on CIFAR-10/100 under ℓ2 / ℓ∞ attacks",
            thesis_lines="L6190-6208", status=IMPLEMENTED, schema=SCHEMA, uses=("ch5_robust_train",))
PANEL = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
PGD_COLUMN = "PGD-linf (eps=8/255)"
AA_COLUMN, BOUND_COLUMN = R.AA_COLUMN, R.BOUND_COLUMN


def _runs_of(config, paths=None):
    return _runs.specs(config, config["studies"][ITEM.id]["datasets"], paths)


def _evals(config):
    radii = config["studies"][ITEM.id]["certified_radii"]
    out = {}
    for rid, spec in _runs_of(config).items():
        ds = spec["labels"]["dataset"]
        ev = _runs.eval_specs(config, ds)
        ev["certified"] = _runs.certified_spec(config, ds, radii)
        out[rid] = ev
    return out


def _pgd_column(pgd, specs):
    """The thesis's column is eps = 8/255: the section's first PGD evaluation (the smoke scale attacks at its own
    eps, stated in the notes)."""
    return {pgd[0]: PGD_COLUMN} if pgd else {}


def cells_of(col: R.Collected, evals, prefix) -> list[dict]:
    """Cells of one panel: rows ``<prefix>: <arm row>``."""
    return R.attack_cells(col, evals, row_of=lambda lab: f"{prefix[lab['dataset']]}: {lab['row']}",
                          natural_column="Accuracy (natural)", pgd_columns=_pgd_column,
                          cw_column=lambda b: f"C&W-l2 {b:g}")


def notes_of(config) -> list[str]:
    s = config["studies"]["ch5_robust_train"]
    e, t = s["eval"]["cifar"], s["train"]["cifar"]
    pgd, cw = e["pgd_linf"], e["cw_l2"]
    n = s["eval_examples"]
    out = [
        f"Training: {t['model']}, {t['epochs']} epochs" + (f" (capped at {t['max_steps']} steps)" if t["max_steps"] else "")
        + f", batch {t['batch_size']}, SGD momentum {t['momentum']}, lr {t['lr']} x {t['gamma']} after epochs "
        f"{t['milestones']}, weight decay {t['weight_decay']}; AT: PGD-linf eps {t['attack']['eps']:.4g}, step "
        f"{t['attack']['step']:.4g}, {t['attack']['steps']} iterations, random start, once per step, "
        f"{s['attack_labels']} as labels, model in {s['attack_mode']} mode.",
        f"LipReg (Eq. 5.56): C1 = {s['lipreg']['c1']} ({s['lipreg']['c1_form']}), C2 = {s['lipreg']['c2']}, "
        f"PolyGrid S = {s['lipreg']['samples']} ({s['lipreg']['grid']} grid), batch-norm bounds included, last "
        f"linear layer excluded; AT+PM: {s['lipreg']['power_iters']} power iterations. C1 and C2 are not stated "
        "for CIFAR in the thesis (C2 = 0.008 is the defence slides' lambda).",
        f"Attacks on {'all' if n is None else f'the first {n}'} test examples: PGD-linf step eps x "
        f"{pgd['step_fraction']}, {pgd['steps']} iterations, {pgd['restarts']} restarts, highest-loss perturbation "
        "over all iterations and restarts (an example counts as broken if any iterate is misclassified); bounded "
        f"C&W-l2 (foolbox L2CarliniWagnerAttack, {cw['binary_search_steps']} binary-search steps, {cw['steps']} "
        f"steps, lr {cw['lr']}, confidence {cw['confidence']}) projected onto each bound, broken only if the "
        "projected point is misclassified.",
    ]
    if e.get("autoattack"):
        a = e["autoattack"]
        out.append(f"AutoAttack (not in thesis): version {a['version']}, {a['steps']} iterations, "
                   f"{a['n_target_classes']} target classes, Square {a['square_queries']} queries.")
    return out


def run(ctx) -> None:
    col = R.Collected(ctx.inputs)
    res = R.base_result(ITEM.id, col, ctx.params["notes"])
    res["cells"] = cells_of(col, ctx.params["evals"], PANEL)
    ctx.write_result("result", res)


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, _evals, notes_of)
