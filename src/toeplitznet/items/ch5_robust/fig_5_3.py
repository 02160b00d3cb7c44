"""Figure 5.3: accuracy under attack against the number of attack iterations on CIFAR-10 for AT, AT+PM and
AT+LipReg: (a) PGD-ℓ∞ at 8/255, (b) bounded C&W-ℓ2 at 0.8.

Thesis L6170-6182 (captions; (b)'s sub-caption is missing in the text and wrongly says ℓ∞ in its source:
the figure data are C&W-ℓ2 0.8, reference/figure_data/README.md). (a) comes from the same PGD run as Table
5.3 (``eval.cifar.pgd_linf.record``: the best-over-iterations accuracy after each recorded iteration count,
all restarts); (b) is one bounded C&W run per iteration count (``cw_steps``), the other C&W settings as in
Table 5.3.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as R, _runs

REFERENCE = "fig5_3_accuracy_under_attack_vs_iterations.csv"
SCHEMA = """
type: object
additionalProperties: false
required: [arms, cw_bound, cw_steps]
properties:
  arms:
    type: array
    minItems: 1
    uniqueItems: true
    items: {enum: [at, at_pm, at_lipreg, baseline, lipreg]}
  cw_bound: {$ref: "#/$defs/posnum"}
  cw_steps: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
"""
ITEM = Item(id="fig_5_3", kind="figure", title="accuracy under attack vs attack iterations (CIFAR-10)",
            thesis_lines="L6170-6182", status=IMPLEMENTED, schema=SCHEMA, uses=("ch5_robust_train",),
            reference=(REFERENCE,))
DATASET = "cifar10"


def _runs_of(config, paths=None):
    return _runs.specs(config, [DATASET], paths, arms=config["studies"][ITEM.id]["arms"])


def _evals(config):
    p = config["studies"][ITEM.id]
    base = _runs.eval_specs(config, DATASET, kinds=("pgd_linf", "cw_l2"))
    # the first PGD-linf eval of the section (8/255 at paper scale): the one of Table 5.3
    first = next(k for k, v in base.items() if v["kind"] == "pgd")
    pgd = {first: base[first]}
    cw = next(v for v in base.values() if v["kind"] == "cw_l2")
    ev = dict(pgd)
    for k in p["cw_steps"]:
        if int(k) == cw["steps"] and float(p["cw_bound"]) in cw["bounds"]:
            ev["cw_l2"] = cw  # Table 5.3's run at this iteration count (same attack, one job)
        else:
            ev[f"cw_l2_{_runs._num(p['cw_bound'])}_steps{int(k)}"] = dict(cw, bounds=[float(p["cw_bound"])],
                                                                          steps=int(k))
    return {rid: dict(ev) for rid in _runs_of(config)}


def run(ctx) -> None:
    col = R.Collected(ctx.inputs)
    evals = ctx.params["evals"]
    series = []
    for rid in col.runs():
        lab = col.labels(rid)
        pgd_pts, cw_pts = [], []
        for eid, s in evals[rid].items():
            if s["kind"] == "pgd":
                for k in s["record"] + [s["steps"]]:
                    v = col.value(rid, eid, R.pgd_at(k)) if k != s["steps"] else col.value(rid, eid, R.accuracy)
                    if v is not None:
                        pgd_pts.append({"iterations": int(k), "accuracy": v["value"], "std": v.get("plus_minus")})
            elif s["kind"] == "cw_l2":
                bound = ctx.params["cw_bound"]
                v = col.value(rid, eid, R.cw_at(bound))
                if v is not None:
                    cw_pts.append({"iterations": int(s["steps"]), "accuracy": v["value"], "std": v.get("plus_minus")})
        dedup = {p["iterations"]: p for p in pgd_pts}
        series.append({"run": rid, "label": lab["row"], "arm": lab["arm"],
                       "pgd_linf": sorted(dedup.values(), key=lambda p: p["iterations"]),
                       "cw_l2": sorted(cw_pts, key=lambda p: p["iterations"])})
    res = R.base_result(ITEM.id, col, [
        "(a) PGD-linf 8/255: accuracy when every iterate up to the x-th (over all restarts) is counted, from one run "
        "per model; (b) bounded C&W-l2 0.8: one run per iteration count.",
        "The thesis's curves (dashed) are from its figure data (AT+PM = power method, 10 iterations)."])
    res["series"] = series
    res["cells"] = []
    ctx.write_result("result", res)


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, _evals)


def plot(ctx) -> None:
    from ...report.figures import load_result, new_figure, read_reference_csv, save_figure

    src = ctx.input("result")
    res = load_result(src)
    ref_path = ctx.input("reference")  # reference/figure_data/<REFERENCE>, relative (relocatable provenance)
    ref = [r for r in read_reference_csv(ref_path) if r["panel"] in ("a", "b")]
    fig, axes = new_figure(ncols=2, width=4.4, height=3.5)
    colors = {"AT": "C0", "AT+PM": "C1", "AT+LipReg": "C2"}
    for ax, key, panel, title in ((axes[0][0], "pgd_linf", "a", "(a) PGD-linf, eps = 8/255"),
                                  (axes[0][1], "cw_l2", "b", "(b) bounded C&W-l2, eps = 0.8")):
        for i, s in enumerate(res["series"]):
            pts = s[key]
            if pts:
                c = colors.get(s["label"].split(" (")[0], f"C{i + 3}")
                ax.errorbar([p["iterations"] for p in pts], [p["accuracy"] for p in pts],
                            yerr=[p["std"] or 0 for p in pts], marker="o", ms=3, color=c, label=f"ours, {s['label']}")
        for name in ("AT", "AT+PM", "AT+LipReg"):
            rows = sorted((float(r["x"]), float(r["y"])) for r in ref if r["panel"] == panel and r["series"] == name)
            if rows:
                ax.plot([x for x, _ in rows], [y for _, y in rows], "--", color=colors[name], alpha=0.6,
                        label=f"thesis, {name}")
        ax.set_xlabel("attack iterations")
        ax.set_ylabel("accuracy under attack")
        ax.set_title(title, fontsize=8.5)
        ax.legend(fontsize=6)
    fig.suptitle("Figure 5.3: accuracy under attack vs number of iterations (CIFAR-10)", fontsize=9)
    save_figure(fig, ctx, item=ITEM.id, sources=[src], reference=[ref_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))
