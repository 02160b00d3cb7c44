"""Table 5.4: natural accuracy and accuracy under PGD-ℓ∞ (ε 0.02, 0.031) and bounded C&W-ℓ2 (1, 2, 3) attacks
of ResNet-101s trained on ImageNet: Baseline, AT, AT+LipReg with C2 = 0.0006 and 0.0010.

Thesis L6232-6242, settings S8 (L6259-6273): SGD momentum 0.9, wd 1e-4, label smoothing 0.1, lr 0.1 x 0.1
after epochs 30 and 60, EMA 0.999, 80 epochs, batch 4096; AT with PGD-5 (ε 8/255, step ε/5); PGD evaluation
30 iterations with 5 restarts (the next sentence says "the 10 restarts": ``eval.imagenet.pgd_linf.restarts``,
default 5). The Baseline's 0.782 may be quoted from He et al. (its row label is a citation; INVENTORY 27).
Columns not in the thesis as in Table 5.3 (AutoAttack, product of layer bounds, certified accuracy).
ImageNet is read from ``data.imagenet_root`` (never downloaded).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as R, _runs

SCHEMA = """
type: object
additionalProperties: false
required: [certified_radii]
properties:
  certified_radii:
    description: not in thesis - l2 radii of the certified accuracy from the product of layer bounds
    type: array
    items: {$ref: "#/$defs/posnum"}
"""
ITEM = Item(id="table_5_4", kind="table", title="Lipschitz-regularised AT on ImageNet", thesis_lines="L6232-6242",
            status=IMPLEMENTED, schema=SCHEMA, uses=("ch5_robust_train",))
DATASET = "imagenet"
PGD_COLUMNS = ["PGD-linf 0.02", "PGD-linf 0.031"]


def _runs_of(config, paths=None):
    return _runs.specs(config, [DATASET], paths)


def _evals(config):
    radii = config["studies"][ITEM.id]["certified_radii"]
    out = {}
    for rid in _runs_of(config):
        ev = _runs.eval_specs(config, DATASET)
        ev["certified"] = _runs.certified_spec(config, DATASET, radii)
        out[rid] = ev
    return out


def row_label(lab) -> str:
    return "Baseline (He et al. 2016)" if lab["arm"] == "baseline" else lab["row"]


def _pgd_columns(pgd, specs):
    """The thesis's two columns by position (eps 0.02, 0.031 at paper scale; the smoke eps are in the notes)."""
    names = PGD_COLUMNS if len(pgd) == len(PGD_COLUMNS) else [f"PGD-linf {specs[e]['eps']:g}" for e in pgd]
    return dict(zip(pgd, names))


def cells_of(col: R.Collected, evals) -> list[dict]:
    return R.attack_cells(col, evals, row_of=row_label, natural_column="Natural", pgd_columns=_pgd_columns,
                          cw_column=lambda b: f"C&W-l2 {b:.2f}")


def notes_of(config) -> list[str]:
    s = config["studies"]["ch5_robust_train"]
    e, t = s["eval"]["imagenet"], s["train"]["imagenet"]
    return [
        f"Training: {t['model']}, {t['epochs']} epochs" + (f" (capped at {t['max_steps']} steps)" if t["max_steps"] else "")
        + f", batch {t['batch_size']}, SGD momentum {t['momentum']}, weight decay {t['weight_decay']}, label smoothing "
        f"{t['label_smoothing']}, EMA {t['ema_decay']}, lr {t['lr']} x {t['gamma']} after epochs {t['milestones']}; "
        f"AT: PGD-linf eps {t['attack']['eps']:.4g}, step {t['attack']['step']:.4g}, {t['attack']['steps']} iterations.",
        f"Attacks: PGD-linf eps {e['pgd_linf']['eps']}, step eps x {e['pgd_linf']['step_fraction']}, "
        f"{e['pgd_linf']['steps']} iterations, {e['pgd_linf']['restarts']} restarts (the thesis says 5, then '10'); "
        f"bounded C&W-l2 at {e['cw_l2']['bounds']}.",
        "The Baseline's natural accuracy 0.782 may be quoted from He et al. 2016 rather than trained (its label is a "
        "citation).",
    ]


def run(ctx) -> None:
    col = R.Collected(ctx.inputs)
    res = R.base_result(ITEM.id, col, ctx.params["notes"])
    res["cells"] = cells_of(col, ctx.params["evals"])
    ctx.write_result("result", res)


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, _evals, notes_of)
