"""Figure C.1: natural accuracy of a randomised Wide ResNet on CIFAR-10 against the sd of the Gaussian / Laplace
noise injected on the image (thesis L7862-7870, caption L7886-7887; 0.95 -> 0.82 Gaussian, 0.95 -> 0.84 Laplace
for sd 0.01 -> 0.5 on the [-1, 1] scale).

One run per (distribution, sd) of ``sds`` (the thesis's grid, from its figure: 0.01 ... 0.5, ten values), shared
with Figures C.2 / C.3 and Tables C.1 / C.2 where the sds coincide. Accuracy on the whole test split under the
prediction rule ``appC_randomized_train.prediction`` (one draw per image by default, as the author's code).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as R, _runs

REFERENCE = "figC_1_randomized_accuracy_vs_noise_sd_DIGITIZED_from_pdf.csv"
SCHEMA = """
type: object
additionalProperties: false
required: [dists, sds]
properties:
  dists: {type: array, minItems: 1, uniqueItems: true, items: {enum: [gaussian, laplace]}}
  sds: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posnum"}, description: "[-1, 1] scale"}
"""
ITEM = Item(id="fig_C_1", kind="figure", title="accuracy vs sd of injected Gaussian / Laplace noise",
            thesis_lines="L7862-7887", status=IMPLEMENTED, schema=SCHEMA, uses=(_runs.SECTION,),
            reference=(REFERENCE,), renders=("figure", "table"))
SERIES = {"gaussian": "Gaussian noise", "laplace": "Laplace noise"}


def _runs_of(config, paths=None):
    p = config["studies"][ITEM.id]
    return _runs.noise_runs(config, p["dists"], p["sds"], paths)


def logical_evals(config):
    eid, spec = _runs.natural(config)
    return {rid: {eid: spec} for rid in _runs_of(config)}


def notes_of(config):
    return [R.training_note(config), R.prediction_note(config),
            "The thesis's curves (dashed) are digitized from its PDF figure (reference/figure_data)."]


def cells_of(col, evals) -> tuple[list[dict], list[dict]]:
    """``(cells, series)``: one cell per (distribution, sd), row '<Gaussian|Laplace> noise, sd <sd>'."""
    cells, pts = [], {}
    for rid in col.runs():
        lab = col.labels(rid)
        for eid in evals.get(rid, {}):
            v = col.value(rid, eid, R.accuracy)
            if v is not None:
                cells.append({"row": f"{SERIES[lab['dist']]}, sd {lab['sd']:g}", "column": "accuracy", **v})
                pts.setdefault(lab["dist"], []).append({"sd": lab["sd"], "accuracy": v["value"],
                                                        "std": v.get("plus_minus")})
    sds = sorted({p["sd"] for ps in pts.values() for p in ps})
    if sds:
        cells += [{"row": "x-axis", "column": "sd range (min)", "value": sds[0]},
                  {"row": "x-axis", "column": "sd range (max)", "value": sds[-1]}]
    series = [{"dist": d, "label": SERIES[d], "points": sorted(ps, key=lambda p: p["sd"])} for d, ps in pts.items()]
    return cells, series


def run(ctx) -> None:
    col = R.collect(ctx.inputs)
    res = R.base_result(ITEM.id, col, ctx.params["notes"], ctx.params)
    res["cells"], res["series"] = cells_of(col, ctx.params["evals"])
    ctx.write_result("result", res)


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, logical_evals, notes_of)


def plot(ctx) -> None:
    from ...report.figures import load_result, new_figure, read_reference_csv, save_figure

    src, ref_path = ctx.input("result"), ctx.input("reference")
    res, ref = load_result(src), read_reference_csv(ctx.input("reference"))
    fig, axes = new_figure(width=5.2, height=3.6)
    ax = axes[0][0]
    colors = {"gaussian": "C0", "laplace": "C1"}
    for s in res["series"]:
        ax.errorbar([p["sd"] for p in s["points"]], [p["accuracy"] for p in s["points"]],
                    yerr=[p["std"] or 0 for p in s["points"]], marker="o", ms=3, color=colors[s["dist"]],
                    label=f"ours, {s['label']}")
    for key, name in (("gauss", "gaussian"), ("laplace", "laplace")):
        rows = sorted((float(r["x"]), float(r["y"])) for r in ref if r["series"] == key)
        ax.plot([x for x, _ in rows], [y for _, y in rows], "--", color=colors[name], alpha=0.6,
                label=f"thesis, {SERIES[name]}")
    ax.set_xscale("log")
    ax.set_xlabel("sd of the injected noise ([-1, 1] input scale)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7)
    fig.suptitle("Figure C.1: accuracy vs noise sd (randomised WRN, CIFAR-10)", fontsize=9)
    save_figure(fig, ctx, item=ITEM.id, sources=[src], reference=[ref_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))
