"""Figure 4.5 (= ECAI Figure 4(a)): test accuracy against the number of weights on flattened CIFAR-10 for
dense networks, DCNNs (depth 1-40), DTNNs (1-30), Toeplitz networks (1-40) and low-rank networks (fixed
depth, rank 7-40).

Thesis L4823-4853. Grids and the low-rank depth: ``studies.fig_4_5`` (the paper grids follow the thesis's
figure data: DCNN and Toeplitz depths 2, 5, 10, 20, 30, 40; DTNN depths whose counts match the data's
x values; the low-rank depth is not stated). Every family uses the Leaky-ReLU setting the thesis adopts
for its experiments (slope 0.5 after every layer) and a structured output layer of its own family.

The thesis's figure has its legend swapped for the Toeplitz and DTNN curves (reference README): we label
the thesis curves by the data's series names (``diag_toeplitz`` = DTNN, ``toeplitz`` = Toeplitz network).
"""

from __future__ import annotations

from . import ch4_report, ch4_runs

OUTPUTS = {"result": "fig_4_5.json"}
REFERENCE = "fig4_5_cifar10_structured_networks_size_vs_accuracy.csv"
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
        f"Activation {p['activation']} (slope {p['slope']}) after every hidden layer for every family; structured "
        f"output layer of the same family sliced to the logits; dense baseline: {p['dense_depth']} hidden layer(s).",
        f"Low-rank networks: fixed depth {p['lowrank_depth']} (not stated in the thesis), ranks {p['lowrank_ranks']}.",
        "The thesis legend swaps 'Toeplitz' and 'Diagonal-Toeplitz'; thesis curves are labelled by their data series."])
    res.update(series(runs))
    res["cells"] = ch4_runs.fig_4_5_cells(runs)
    ctx.write_result("result", res)


def plot(ctx) -> None:
    from ..report.figures import THESIS_STYLE, save_figure

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
