"""Figure 5.4: distribution of the input-Jacobian norm over the CIFAR-10 test set, (a) Baseline vs LipReg only,
(b) AT vs AT+LipReg.

Thesis L6183-6226: with LipReg the median is higher but there are fewer points with very high values. The
norm is not stated (INVENTORY): we use the spectral norm of the Jacobian of the logits with respect to the
input, per example, by power iteration (``norm: frobenius`` as the option), on ``examples`` test images (the
same for every model). The thesis's distributions (its pickled samples, reference/figure_data) are drawn
beside ours with their medians.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as R, _runs

REFERENCE = "fig5_4_jacobian_norm_distribution_samples.csv"
SUMMARY = "fig5_4_jacobian_norm_distribution_summary.csv"
SCHEMA = """
type: object
additionalProperties: false
required: [norm, iters, examples]
properties:
  norm: {enum: [spectral, frobenius]}
  iters: {$ref: "#/$defs/posint", description: power iterations per example (spectral norm)}
  examples: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}], description: test images (null = all)}
"""
ITEM = Item(id="fig_5_4", kind="figure", title="distribution of the input-Jacobian norm (CIFAR-10 test set)",
            thesis_lines="L6183-6226", status=IMPLEMENTED, schema=SCHEMA, uses=("ch5_robust_train",),
            reference=(REFERENCE, SUMMARY))
DATASET = "cifar10"
PANELS = {"a": ("baseline", "lipreg"), "b": ("at", "at_lipreg")}


def _runs_of(config, paths=None):
    return _runs.specs(config, [DATASET], paths, arms=[a for arms in PANELS.values() for a in arms])


def _evals(config):
    p = config["studies"][ITEM.id]
    spec = {"kind": "jacobian_norm", "norm": p["norm"], "iters": int(p["iters"]), "examples": p["examples"],
            "batch_size": int(config["studies"]["ch5_robust_train"]["eval_batch_size"])}
    return {rid: {f"jacobian_{p['norm']}": dict(spec)} for rid in _runs_of(config)}


def _quantiles(values):
    import statistics

    v = sorted(values)
    q = statistics.quantiles(v, n=20, method="inclusive") if len(v) > 1 else v * 19
    return {"n": len(v), "min": v[0], "p05": q[0], "p25": q[4], "median": statistics.median(v), "p75": q[14],
            "p95": q[18], "max": v[-1], "mean": statistics.fmean(v)}


def run(ctx) -> None:
    col = R.Collected(ctx.inputs)
    series = []
    for rid in col.runs():
        lab = col.labels(rid)
        for eid in ctx.params["evals"][rid]:
            values = [x for r in col.results(rid, eid) for x in r["values"]]
            if values:
                panel = next(k for k, arms in PANELS.items() if lab["arm"] in arms)
                series.append({"run": rid, "arm": lab["arm"], "label": lab["row"], "panel": panel,
                               "values": values, **_quantiles(values)})
    res = R.base_result(ITEM.id, col, [
        f"Norm: {ctx.params['norm']} norm of the logits' Jacobian w.r.t. the input (not stated in the thesis), "
        f"{ctx.params['iters']} power iterations, per test image; the values of every seed's model are pooled."])
    res["series"] = series
    res["cells"] = []
    ctx.write_result("result", res)


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, _evals)


def plot(ctx) -> None:
    from ...report.figures import load_result, new_figure, read_reference_csv, save_figure

    src = ctx.input("result")
    res = load_result(src)
    ref_path, sum_path = ctx.input("reference"), ctx.input("reference2")  # relative: relocatable provenance
    ref = read_reference_csv(ref_path)
    summary = {r["series"]: r for r in read_reference_csv(sum_path)}
    fig, axes = new_figure(ncols=2, nrows=2, width=4.2, height=2.8)
    for col_i, (panel, arms) in enumerate(PANELS.items()):
        ax_ours, ax_th = axes[0][col_i], axes[1][col_i]
        for i, arm in enumerate(arms):
            for s in (s for s in res["series"] if s["arm"] == arm):
                ax_ours.hist(s["values"], bins=30, density=True, alpha=0.5, color=f"C{i}",
                             label=f"ours, {s['label']} (median {s['median']:.3g})")
                ax_ours.axvline(s["median"], color=f"C{i}", lw=1)
            vals = [float(r["x"]) for r in ref if r["series"] == arm]
            if vals:
                med = float(summary[arm]["median"])
                ax_th.hist(vals, bins=100, density=True, alpha=0.5, color=f"C{i}",
                           label=f"thesis, {summary[arm]['label']} (median {med:.3g})")
                ax_th.axvline(med, color=f"C{i}", lw=1, ls="--")
        ax_ours.set_title(f"({panel}) ours: {' vs '.join(_runs.ROW[a] for a in arms)}", fontsize=8.5)
        ax_th.set_title(f"({panel}) thesis (its figure data)", fontsize=8.5)
        for ax in (ax_ours, ax_th):
            ax.set_xlabel("norm of the input Jacobian")
            ax.set_ylabel("density")
            ax.legend(fontsize=6)
    fig.suptitle("Figure 5.4: distribution of the input-Jacobian norm (CIFAR-10 test set)", fontsize=9)
    save_figure(fig, ctx, item=ITEM.id, sources=[src], reference=[ref_path, sum_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))
