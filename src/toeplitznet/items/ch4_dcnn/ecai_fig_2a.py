"""ECAI Figure 2(a) (no thesis counterpart): DCNN test accuracy against depth when the ReLU follows every
DC layer ("ReLU(DC)"), every second ("ReLU(DCDC)") or every third one (identity elsewhere).

ECAI E189-191: "Deep DCNNs with fewer ReLUs are easier to train ... maximum accuracy of 0.56 with one
ReLU every three layers and leaky-ReLUs with a slope of 0.5". The figure's data are not published
(no reference CSV): the thesis side of the plot is that stated maximum, drawn as a dashed grey line.
Activation (plain ReLU, or Leaky-ReLU with ``slope``), depths and placements: ``studies.ecai_fig_2a``. A
network whose depth is below the placement period has no activation at all and is the same (linear) run for
every such placement.

``best_setting`` adds the series of the text's best setting (E191: "one ReLU every three layers and
leaky-ReLUs with a slope of 0.5", read as a Leaky-ReLU of slope 0.5 after every third DC layer, identity
elsewhere) at the same depths; ``null`` leaves it out. The claim table compares the best accuracy over all
runs with the stated 0.56; the slope is a setting.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as ch4_report, _runs as ch4_runs


#: JSON schema of ``studies.ecai_fig_2a`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [depths, relu_every, activation, slope, best_setting]
properties:
  depths: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  relu_every: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  activation: {enum: [relu, leaky_relu, tanh]}
  slope: {type: number, minimum: 0, maximum: 1, description: Leaky-ReLU slope (activation leaky_relu only)}
  best_setting:
    description: the ECAI text's best setting (E191), run as an extra series; null = not run
    oneOf:
      - {type: "null"}
      - type: object
        additionalProperties: false
        required: [relu_every, activation, slope]
        properties:
          relu_every: {$ref: "#/$defs/posint"}
          activation: {enum: [relu, leaky_relu, tanh]}
          slope: {type: number, minimum: 0, maximum: 1}
"""
ITEM = Item(id="ecai_fig_2a", kind="figure", title="number of ReLUs in a DCNN (ECAI only, CIFAR-10)",
            thesis_lines="E155-E191", status=IMPLEMENTED, schema=SCHEMA, uses=("ch4_train",),
            renders=("figure", "table"))
DATASET = "cifar10"


def labels(p) -> list[dict]:
    """One DCNN per (k, depth) with an activation after every k-th DC layer (identity elsewhere), then the
    best setting's series (``best_setting``) at the same depths."""
    out = []
    for k in p["relu_every"]:
        out += [ch4_runs.mlp_labels("dcnn", d, p["activation"], p.get("slope"), relu_every=k) for d in p["depths"]]
    best = p.get("best_setting")
    if best:
        out += [ch4_runs.mlp_labels("dcnn", d, best["activation"], best.get("slope"), relu_every=best["relu_every"])
                for d in p["depths"]]
    return out


def _series_key(lab) -> tuple:
    return (lab["relu_every"], lab["activation"], lab.get("slope"))


def runs(config, paths):
    return ch4_runs.item_specs(config, ITEM.id, paths)


def inputs(config, paths):
    return ch4_runs.metrics_inputs(config, ITEM.id, paths)
STATED_MAX = 0.56  # E191


def series(runs: list[dict]) -> list[dict]:
    """One series per (ReLU period k, activation, slope); linear runs (no activation) are listed under every k
    they stand for."""
    keys = sorted({_series_key(m["labels"]) for m in runs if m["labels"]["activation"] != "identity"},
                  key=lambda t: (t[1] != "relu", t[0], t[1], t[2] or 0)) or [(1, "relu", None)]
    out = []
    for key in keys:
        k = key[0]
        pts = []
        for m in runs:
            lab = m["labels"]
            linear = lab["activation"] == "identity"
            if (not linear and _series_key(lab) == key) or (linear and lab["depth"] < k):
                pts.append(m)
        pts.sort(key=lambda m: m["labels"]["depth"])
        out.append({"relu_every": k, "activation": key[1], "slope": key[2], "depth": [m["labels"]["depth"] for m in pts],
                    "accuracy": [ch4_runs.accuracy_or_chance(m) for m in pts],
                    "diverged": [ch4_runs.final_accuracy(m) is None for m in pts],
                    "n_weights": [ch4_runs.n_weights(m) for m in pts], "runs": [m["run_id"] for m in pts]})
    return out


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    res = ch4_report.base_result("ecai_fig_2a", runs, [
        f"Activation: {ctx.params['activation']} after every k-th DC layer (k in {ctx.params['relu_every']}); "
        "identity elsewhere; the sliced DC output layer has no activation."
        + (f" Best setting of the text (E191), run as its own series: {ctx.params['best_setting']['activation']} "
           f"(slope {ctx.params['best_setting']['slope']}) after every {ctx.params['best_setting']['relu_every']}-th "
           "DC layer." if ctx.params.get("best_setting") else ""),
        "The ECAI paper publishes no data for this panel; its text states a maximum accuracy of 0.56 (one ReLU "
        "every three layers, Leaky-ReLU slope 0.5)."])
    res["series"] = series(runs)
    best = ch4_runs.best_run(runs)
    res["cells"] = [] if best is None else [
        {"row": "DCNN best config", "column": "max accuracy", "value": ch4_runs.final_accuracy(best),
         **ch4_runs.seed_stats(best)}]
    if ctx.params.get("best_setting") and ctx.params["best_setting"]["activation"] == "leaky_relu":
        res["cells"].append({"row": "DCNN best config", "column": "leaky-ReLU slope",
                             "value": ctx.params["best_setting"]["slope"], "setting": True})
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
        name = names.get(k, f"ReLU every {k}")
        if s.get("activation", "relu") != "relu":
            name = f"{s['activation'].replace('leaky_relu', 'Leaky-ReLU')} {s.get('slope')} every {k}"
        ch4_report.ours_plot(ax, s["depth"], s["accuracy"], f"ours, {name}",
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
