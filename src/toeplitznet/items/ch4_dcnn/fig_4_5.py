"""Figure 4.5 (= ECAI Figure 4(a)): test accuracy against the number of weights on flattened CIFAR-10 for
dense networks, DCNNs (depth 1-40), DTNNs (1-30), Toeplitz networks (1-40) and low-rank networks (fixed
depth, rank 7-40).

Thesis L4823-4853. Grids and the low-rank depth: ``studies.fig_4_5`` (the paper grids follow the thesis's
figure data: DCNN and Toeplitz depths 2, 5, 10, 20, 30, 40; DTNN depths whose counts match the data's
x values; the low-rank depth is not stated). The DCNN, DTNN, low-rank and dense networks use the Leaky-ReLU
setting the thesis adopts for its experiments (slope 0.5 after every layer); the Toeplitz networks are
"stacked Toeplitz matrices interleaved with ReLU activations" (L4831-4833), so they use
``toeplitz_activation`` (``relu``; ``leaky_relu`` with ``slope`` is the other reading). Every family has a
structured output layer of its own family.

The text's depth ranges ("from 1 to 40", L4841-4842) and rank range ("from 7 to 40", L4844) are settings: the
claim table shows where ours differ. The thesis's own figure data starts at depth 2 (21 524 weights, the
"21K" of L4847) and at rank 2, and our grids follow the data, so depth 1 is not run (it would put the
smallest network at 12 308 weights, below the text's own "from 21K") and rank 2 is run beside rank 7. The
weight range and its percentages match by construction (the grids and the sliced square Toeplitz output
layer were chosen to reproduce the data's x values): those cells say so (``fitted``).

The thesis's figure has its legend swapped for the Toeplitz and DTNN curves (reference README): we label
the thesis curves by the data's series names (``diag_toeplitz`` = DTNN, ``toeplitz`` = Toeplitz network).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as ch4_report, _runs as ch4_runs


REFERENCE = "fig4_5_cifar10_structured_networks_size_vs_accuracy.csv"
#: JSON schema of ``studies.fig_4_5`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [activation, slope, toeplitz_activation, dense_depth, dcnn_depths, dtnn_depths, toeplitz_depths,
           lowrank_depth, lowrank_ranks]
properties:
  activation: {enum: [leaky_relu, relu]}
  toeplitz_activation:
    description: activation of the Toeplitz networks (L4832 "interleaved with ReLU activations"); leaky_relu uses slope
    enum: [relu, leaky_relu]
  slope: {type: number, minimum: 0, maximum: 1}
  dense_depth: {$ref: "#/$defs/posint"}
  dcnn_depths: {type: array, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  dtnn_depths: {type: array, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  toeplitz_depths: {type: array, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  lowrank_depth: {$ref: "#/$defs/posint"}
  lowrank_ranks: {type: array, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
"""
ITEM = Item(id="fig_4_5", kind="figure", title="size vs accuracy, structured networks (CIFAR-10)",
            thesis_lines="L4826-4853", status=IMPLEMENTED, schema=SCHEMA, uses=("ch4_train",),
            reference=(REFERENCE,), renders=("figure", "table"))
DATASET = "cifar10"


def labels(p) -> list[dict]:
    """Dense, DCNN, DTNN and low-rank networks with ``activation``; Toeplitz networks with ``toeplitz_activation``."""
    a, s = p["activation"], p["slope"]
    out = [ch4_runs.mlp_labels("dense", p["dense_depth"], a, s)]
    out += [ch4_runs.mlp_labels("dcnn", d, a, s) for d in p["dcnn_depths"]]
    out += [ch4_runs.mlp_labels("dtnn", d, a, s) for d in p["dtnn_depths"]]
    out += [ch4_runs.mlp_labels("toeplitz", d, p["toeplitz_activation"], s) for d in p["toeplitz_depths"]]
    out += [ch4_runs.mlp_labels("lowrank", p["lowrank_depth"], a, s, rank=r) for r in p["lowrank_ranks"]]
    return out


def runs(config, paths):
    return ch4_runs.item_specs(config, ITEM.id, paths)


def inputs(config, paths):
    return ch4_runs.metrics_inputs(config, ITEM.id, paths)
FAMILY_ORDER = ["dcnn", "dtnn", "toeplitz", "lowrank"]
THESIS_SERIES = {"circulant": "DCNN", "diag_toeplitz": "DTNN", "toeplitz": "Toeplitz network", "low_rank": "Low-rank network"}


def series(runs: list[dict]) -> dict:
    """``{"dense": {...} | None, "families": [{family, x (weights), accuracy, depth/rank, ...}]}``."""
    dense = [m for m in runs if m["labels"]["family"] == "dense"]
    fams = []
    for fam in FAMILY_ORDER:
        ms = sorted((m for m in runs if m["labels"]["family"] == fam), key=ch4_runs.n_weights)
        if not ms:
            continue
        fams.append({"family": fam, "label": ch4_runs.series_label(ms[0]["labels"]),
                     "n_weights": [ch4_runs.n_weights(m) for m in ms],
                     "accuracy": [ch4_runs.accuracy_or_chance(m) for m in ms],
                     "diverged": [ch4_runs.final_accuracy(m) is None for m in ms],
                     "size": [m["labels"].get("rank") if fam == "lowrank" else m["labels"]["depth"] for m in ms],
                     "runs": [m["run_id"] for m in ms]})
    d = None
    if dense:
        d = {"n_weights": ch4_runs.n_weights(dense[0]), "accuracy": ch4_runs.accuracy_or_chance(dense[0]),
             "run": dense[0]["run_id"]}
    return {"dense": d, "families": fams}


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    p = ctx.params
    res = ch4_report.base_result("fig_4_5", runs, [
        f"Activation {p['activation']} (slope {p['slope']}) after every hidden layer of the DCNN, DTNN, low-rank and "
        f"dense networks; Toeplitz networks: {p['toeplitz_activation']} (L4832: 'interleaved with ReLU "
        f"activations'); structured output layer of the same family sliced to the logits; dense baseline: "
        f"{p['dense_depth']} hidden layer(s).",
        f"Low-rank networks: fixed depth {p['lowrank_depth']} (not stated in the thesis), ranks {p['lowrank_ranks']}.",
        "The thesis legend swaps 'Toeplitz' and 'Diagonal-Toeplitz'; thesis curves are labelled by their data series."])
    res.update(series(runs))
    res["cells"] = claim_cells(runs)
    ctx.write_result("result", res)


def plot(ctx) -> None:
    from ...report.figures import THESIS_STYLE, save_figure

    p = ch4_report.PlotInputs(ctx, REFERENCE, width=8.0, height=4.2)
    src, res, ref_path, ref, fig, ax = p.src, p.res, p.ref_path, p.ref, p.fig, p.ax
    for i, s in enumerate(res["families"]):
        ch4_report.ours_plot(ax, [w / 1e3 for w in s["n_weights"]], s["accuracy"], f"ours, {s['label']}",
                             marker=ch4_report.MARKERS[i], diverged=s["diverged"], color=f"C{i}")
    if res.get("dense"):
        d = res["dense"]
        ax.axhline(d["accuracy"], color="C4", linewidth=1.2,
                   label=f"ours, Dense ({d['n_weights'] / 1e6:.2f}M weights)")
    keys = list(THESIS_SERIES)
    for i, key in enumerate(keys):
        pts = ch4_report.reference_points(ref, "series", key)
        ch4_report.thesis_plot(ax, [a for a, _ in pts], [b for _, b in pts], f"thesis, {THESIS_SERIES[key]}",
                               marker=ch4_report.MARKERS[i])
    dense_ref = [float(r["y"]) for r in ref if r["series"] == "dense"]
    if dense_ref:
        ax.axhline(dense_ref[0], label="thesis, Dense (9.4M weights)", **dict(THESIS_STYLE, linestyle=":"))
    ch4_report.plain_log_axis(ax, "x")
    ax.set_xlabel("number of weights (thousands, log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Figure 4.5: network size vs accuracy, flattened CIFAR-10", fontsize=9)
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ch4_report.note_box(fig, ["Grey: the thesis's figure data, labelled by data series (its PDF legend swaps "
                              "Toeplitz and Diagonal-Toeplitz). Red cross: diverged run (drawn at chance)."])
    save_figure(fig, ctx, item="fig_4_5", sources=[src], reference=[ref_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))


#: config keys chosen to reproduce the x values of the thesis's Figure 4.5 data (the weight-range cells)
FITTED_RANGE = ("studies.fig_4_5 grids (dcnn/dtnn/toeplitz depths, lowrank_ranks) and "
                "studies.ch4_train.toeplitz_output, taken from the thesis's figure data")


def claim_cells(runs: list[dict]) -> list[dict]:
    """The Figure 4.5 statements of the thesis text (``thesis_values.csv`` item ``figure_4_5``)."""
    cells: list[dict] = []
    dense = [m for m in runs if m["labels"]["family"] == "dense"]
    structured = [m for m in runs if m["labels"]["family"] != "dense"]
    if dense:
        cells.append({"row": "Dense baseline", "column": "#weights", "value": ch4_runs.n_weights(dense[0]) / 1e6})
    if structured:
        lo, hi = min(ch4_runs.n_weights(m) for m in structured), max(ch4_runs.n_weights(m) for m in structured)
        fit = {"fitted": FITTED_RANGE}
        cells.append({"row": "all", "column": "#weights range (min)", "value": lo / 1e3, **fit})
        cells.append({"row": "all", "column": "#weights range (max)", "value": hi / 1e3, **fit})
        cells.append({"row": "all", "column": "#weights range", "value": f"{lo / 1e3:g}..{hi / 1e3:g}", **fit})
        if dense:
            d = ch4_runs.n_weights(dense[0])
            cells.append({"row": "all", "column": "#weights range (min) as % of dense", "value": 100 * lo / d, **fit})
            cells.append({"row": "all", "column": "#weights range (max) as % of dense", "value": 100 * hi / d, **fit})
    depths = [m["labels"]["depth"] for m in runs if m["labels"]["family"] in ("dcnn", "toeplitz")]
    if depths:  # "a varying depth ranging from 1 to 40 (DCNNs, Toeplitz networks)", L4841-4842: a setting
        cells.append({"row": "DCNN / Toeplitz nets", "column": "depth range (min)", "value": min(depths)})
        cells.append({"row": "DCNN / Toeplitz nets", "column": "depth range (max)", "value": max(depths)})
    dtnn = [m["labels"]["depth"] for m in runs if m["labels"]["family"] == "dtnn"]
    if dtnn:
        cells.append({"row": "DTNN", "column": "depth range (max)", "value": max(dtnn)})
    ranks = [m["labels"]["rank"] for m in runs if m["labels"]["family"] == "lowrank"]
    if ranks:
        cells.append({"row": "Low-rank nets", "column": "rank range (min)", "value": min(ranks)})
        cells.append({"row": "Low-rank nets", "column": "rank range (max)", "value": max(ranks)})
    best = ch4_runs.best_run([m for m in runs if m["labels"]["family"] == "dcnn"])
    if best is not None:
        cells.append({"row": "DCNN", "column": "max accuracy", "value": 100 * ch4_runs.final_accuracy(best),
                      **ch4_runs.seed_stats(best, 100.0)})
        cells.append({"row": "DCNN", "column": "depth at max accuracy", "value": best["labels"]["depth"]})
        cells.append({"row": "DCNN", "column": "#weights at max accuracy", "value": ch4_runs.n_weights(best) / 1e3})
        if dense:
            cells.append({"row": "DCNN", "column": "#weights at max as % of dense",
                          "value": 100 * ch4_runs.n_weights(best) / ch4_runs.n_weights(dense[0])})
    return cells
