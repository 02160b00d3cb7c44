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
from .table_5_3 import AA_COLUMN, BOUND_COLUMN

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


def _evals(config):
    radii = config["studies"][ITEM.id]["certified_radii"]
    out = {}
    for rid in _runs.specs(config, [DATASET]):
        ev = _runs.eval_specs(config, DATASET)
        ev["certified"] = _runs.certified_spec(config, DATASET, radii)
        out[rid] = ev
    return out


def runs(config, paths):
    return _runs.specs(config, [DATASET], paths)


def evaluations(config, paths):
    return R.evaluations(_runs.specs(config, [DATASET]), _evals(config))


def inputs(config, paths):
    return R.inputs(config, paths, _runs.specs(config, [DATASET]), _evals(config))


def row_label(lab) -> str:
    return "Baseline (He et al. 2016)" if lab["arm"] == "baseline" else lab["row"]


def cells_of(col: R.Collected, evals) -> list[dict]:
    cells = []
    for rid in col.runs():
        row = row_label(col.labels(rid))

        def put(column, eid, getter):
            v = col.value(rid, eid, getter)
            if v is not None:
                cells.append({"row": row, "column": column, **v})

        put("Natural", "certified", R.natural)
        pgd = [eid for eid, s in evals[rid].items() if s["kind"] == "pgd"]
        for eid, s in evals[rid].items():
            if s["kind"] == "pgd":
                # the thesis's two columns by position (eps 0.02, 0.031 at paper scale; the smoke eps are in the notes)
                names = PGD_COLUMNS if len(pgd) == len(PGD_COLUMNS) else [f"PGD-linf {evals[rid][e]['eps']:g}" for e in pgd]
                put(names[pgd.index(eid)], eid, R.accuracy)
            elif s["kind"] == "cw_l2":
                for b in s["bounds"]:
                    put(f"C&W-l2 {b:.2f}", eid, R.cw_at(b))
            elif s["kind"] == "autoattack":
                put(AA_COLUMN, eid, R.accuracy)
            elif s["kind"] == "certified":
                put(BOUND_COLUMN, eid, lambda r: r.get("product_of_bounds"))
                for rad in s["radii"]:
                    put(f"certified accuracy r={rad:g} (not in thesis)", eid, R.certified_at(rad))
    return cells


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


def job_config(config, paths):
    from ...plan import study_config

    cfg = study_config(config, ITEM.id)
    cfg["study"]["evals"] = _evals(config)
    cfg["study"]["notes"] = notes_of(config)
    return cfg
