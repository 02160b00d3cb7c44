"""ECAI Figure 2(a) (no thesis counterpart): DCNN test accuracy against depth when the ReLU follows every
DC layer ("ReLU(DC)"), every second ("ReLU(DCDC)") or every third one (identity elsewhere).

ECAI E189-191: "Deep DCNNs with fewer ReLUs are easier to train ... maximum accuracy of 0.56 with one
ReLU every three layers and leaky-ReLUs with a slope of 0.5". The figure's data are not published
(no reference CSV): the thesis side of the plot is that stated maximum, drawn as a dashed grey line.
Activation (plain ReLU), depths and placements: ``studies.ecai_fig_2a``. A network whose depth is below
the placement period has no activation at all and is the same (linear) run for every such placement.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as ch4_report, _runs as ch4_runs


#: JSON schema of ``studies.ecai_fig_2a`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [depths, relu_every, activation]
properties:
  depths: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  relu_every: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  activation: {enum: [relu, tanh]}
"""
ITEM = Item(id="ecai_fig_2a", kind="figure", title="number of ReLUs in a DCNN (ECAI only, CIFAR-10)",
            thesis_lines="E155-E191", status=IMPLEMENTED, schema=SCHEMA, uses=("ch4_train",))
DATASET = "cifar10"


def labels(p) -> list[dict]:
    """One DCNN per (k, depth) with an activation after every k-th DC layer (identity elsewhere)."""
    out = []
    for k in p["relu_every"]:
        out += [ch4_runs.mlp_labels("dcnn", d, p["activation"], p.get("slope"), relu_every=k) for d in p["depths"]]
    return out


def runs(config, paths):
    return ch4_runs.item_specs(config, ITEM.id, paths)


def inputs(config, paths):
    return ch4_runs.metrics_inputs(config, ITEM.id, paths)
STATED_MAX = 0.56  # E191


def series(runs: list[dict]) -> list[dict]:
    """One series per ReLU period k; linear runs (no activation) are listed under every k they stand for."""
    ks = sorted({m["labels"]["relu_every"] for m in runs if m["labels"]["activation"] != "identity"}) or [1]
    out = []
    for k in ks:
        pts = []
        for m in runs:
            lab = m["labels"]
            linear = lab["activation"] == "identity"
            if (not linear and lab["relu_every"] == k) or (linear and lab["depth"] < k):
                pts.append(m)
        pts.sort(key=lambda m: m["labels"]["depth"])
        out.append({"relu_every": k, "depth": [m["labels"]["depth"] for m in pts],
                    "accuracy": [ch4_runs.accuracy_or_chance(m) for m in pts],
                    "diverged": [ch4_runs.final_accuracy(m) is None for m in pts],
                    "n_weights": [ch4_runs.n_weights(m) for m in pts], "runs": [m["run_id"] for m in pts]})
    return out


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    res = ch4_report.base_result("ecai_fig_2a", runs, [
        f"Activation: {ctx.params['activation']} after every k-th DC layer (k in {ctx.params['relu_every']}); "
        "identity elsewhere; the sliced DC output layer has no activation.",
        "The ECAI paper publishes no data for this panel; its text states a maximum accuracy of 0.56 (one ReLU "
        "every three layers, Leaky-ReLU slope 0.5)."])
    res["series"] = series(runs)
    best = ch4_runs.best_run(runs)
    res["cells"] = [] if best is None else [
        {"row": "DCNN best config", "column": "max accuracy", "value": ch4_runs.final_accuracy(best)}]
    ctx.write_result("result", res)


def plot(ctx) -> None:
    from ...report.figures import THESIS_STYLE, load_result, new_figure, save_figure

    src = ctx.input("result")
    res = load_result(src)
    fig, axes = new_figure(width=6.0, height=4.0)
    ax = axes[0][0]
    names = {1: "ReLU(DC)", 2: "ReLU(DCDC)", 3: "ReLU(DCDCDC)"}
    for i, s in enumerate(res["series"]):
        k = s["relu_every"]
        ch4_report.ours_plot(ax, s["depth"], s["accuracy"], f"ours, {names.get(k, f'ReLU every {k}')}",
                             marker=ch4_report.MARKERS[i], diverged=s["diverged"], color=f"C{i}")
    ax.axhline(STATED_MAX, label="ECAI text: max 0.56 (ReLU every 3rd layer, slope 0.5)", **THESIS_STYLE)
    ax.axhline(0.1, color="0.7", linewidth=0.8, linestyle=":")
    ax.set_xlabel("depth (number of DC layers)")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("test accuracy")
    ax.set_title("ECAI Figure 2(a): number of ReLUs in a DCNN", fontsize=9)
    ax.legend(fontsize=6.5)
    ch4_report.note_box(fig, ["No published data for this panel: the dashed grey line is the maximum stated in the "
                              "ECAI text. Red cross: diverged run (drawn at chance)."])
    save_figure(fig, ctx, item="ecai_fig_2a", sources=[src], stand_in=res.get("stand_in"), notes=res.get("notes", []))
