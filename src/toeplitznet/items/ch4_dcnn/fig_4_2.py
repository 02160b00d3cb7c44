"""Figure 4.2 (= ECAI Figure 2(b)): test accuracy of DCNNs against depth, one curve per Leaky-ReLU slope.

Thesis L4758-4772: deeper DCNNs are harder to train; a larger Leaky-ReLU slope (a more linear network)
lets deeper networks train. Neither the slopes nor the depths are stated in the text; the thesis's own
figure data (``reference/figure_data/fig4_2_*.csv``) has slopes 0.2, 0.3, 0.5 and depths 2, 5 (6 for
slope 0.2), 10, 20, 30, 40, which the paper config uses. Runs: ``studies.fig_4_2`` expanded by
:mod:`toeplitznet.items.ch4_dcnn._runs` (the slope-0.5 runs are shared with Table 4.1 and Figure 4.5).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as ch4_report, _runs as ch4_runs


REFERENCE = "fig4_2_dcnn_cifar10_leaky_relu_slope.csv"
#: JSON schema of ``studies.fig_4_2`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [depths, slopes]
properties:
  depths: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  slopes: {type: array, minItems: 1, uniqueItems: true, items: {type: number, minimum: 0, maximum: 1}}
"""
ITEM = Item(id="fig_4_2", kind="figure", title="DCNN depth × Leaky-ReLU slope (CIFAR-10)",
            thesis_lines="L4758-4772", status=IMPLEMENTED, schema=SCHEMA, uses=("ch4_train",),
            reference=(REFERENCE,))
DATASET = "cifar10"


def labels(p) -> list[dict]:
    """One DCNN per (slope, depth), Leaky-ReLU after every DC layer."""
    out = []
    for s in p["slopes"]:
        out += [ch4_runs.mlp_labels("dcnn", d, "leaky_relu", s) for d in p["depths"]]
    return out


def runs(config, paths):
    return ch4_runs.item_specs(config, ITEM.id, paths)


def inputs(config, paths):
    return ch4_runs.metrics_inputs(config, ITEM.id, paths)


def series(runs: list[dict]) -> list[dict]:
    """``[{"slope", "depth": [...], "accuracy": [...], "n_weights": [...], "diverged": [...]}]`` by slope."""
    by: dict[float, list[dict]] = {}
    for m in runs:
        by.setdefault(m["labels"]["slope"], []).append(m)
    out = []
    for slope in sorted(by):
        ms = sorted(by[slope], key=lambda m: m["labels"]["depth"])
        out.append({"slope": slope, "depth": [m["labels"]["depth"] for m in ms],
                    "accuracy": [ch4_runs.accuracy_or_chance(m) for m in ms],
                    "n_weights": [ch4_runs.n_weights(m) for m in ms],
                    "diverged": [ch4_runs.final_accuracy(m) is None for m in ms],
                    "runs": [m["run_id"] for m in ms]})
    return out


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    res = ch4_report.base_result("fig_4_2", runs, [
        "Slopes and depths are not stated in the thesis; the paper grid is the one of the thesis's figure data.",
        "Leaky-ReLU after every DC layer; the output layer is a DC layer sliced to the 10 logits (no activation)."])
    res["series"] = series(runs)
    best = ch4_runs.best_run(runs)
    res["cells"] = [] if best is None else [
        {"row": "DCNN best config", "column": "max accuracy", "value": ch4_runs.final_accuracy(best),
         **ch4_runs.seed_stats(best)},
        {"row": "DCNN best config", "column": "leaky-ReLU slope", "value": best["labels"]["slope"]}]
    ctx.write_result("result", res)


def plot(ctx) -> None:
    from ...report.figures import save_figure

    p = ch4_report.PlotInputs(ctx, REFERENCE, width=6.0, height=4.0)
    src, res, ref_path, ref, fig, ax = p.src, p.res, p.ref_path, p.ref, p.fig, p.ax
    for i, s in enumerate(res["series"]):
        ch4_report.ours_plot(ax, s["depth"], s["accuracy"], f"ours, slope {s['slope']:g}",
                             marker=ch4_report.MARKERS[i], diverged=s["diverged"], color=f"C{i}")
    slopes = sorted({r["leaky_relu_slope"] for r in ref}, key=float)
    for i, a in enumerate(slopes):
        pts = ch4_report.reference_points(ref, "leaky_relu_slope", a, int)
        ch4_report.thesis_plot(ax, [x for x, _ in pts], [y for _, y in pts], f"thesis, slope {a}",
                               marker=ch4_report.MARKERS[i])
    ax.axhline(0.1, color="0.7", linewidth=0.8, linestyle=":")
    ax.set_xlabel("depth (number of DC layers)")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("test accuracy")
    ax.set_title("Figure 4.2: DCNN accuracy vs depth for several Leaky-ReLU slopes", fontsize=9)
    ax.legend(fontsize=6.5, ncol=2)
    ch4_report.note_box(fig, ["Dashed grey: the thesis's figure data. Red cross: diverged run (drawn at chance, 0.1)."])
    save_figure(fig, ctx, item="fig_4_2", sources=[src], reference=[ref_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))
