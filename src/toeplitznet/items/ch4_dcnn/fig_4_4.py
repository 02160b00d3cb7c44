"""Figure 4.4 (= ECAI Figure 3(b)): DCNN vs ACDC networks with ReLU on CIFAR-10, per epoch.

The thesis caption says "training loss" while the ECAI caption says "test accuracy"; the thesis's figure
data rise from 0.29 to 0.5 and an earlier caption in its source says test accuracy, so the published curves
are almost certainly test accuracy (reference/figure_data/README.md). We draw both quantities: our
training loss (left) and our test accuracy beside the thesis's curves (right). Depths, activation and the
ACDC initialisation: ``studies.fig_4_4``; training settings: ``studies.ch4_train`` (S1 at paper scale).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as ch4_report, _runs as ch4_runs


REFERENCE = "fig4_4_acdc_vs_dcnn_cifar10_curves.csv"
#: JSON schema of ``studies.fig_4_4`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [activation, dcnn_depths, acdc_depths, acdc_init]
properties:
  activation: {enum: [relu, tanh]}
  dcnn_depths: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  acdc_depths: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  acdc_init: {enum: [moczulski, thesis]}
"""
ITEM = Item(id="fig_4_4", kind="figure",
            title="DCNN vs ACDC with ReLU, CIFAR-10 (training loss and test accuracy)",
            thesis_lines="L4788-4822", status=IMPLEMENTED, schema=SCHEMA, uses=("ch4_train",),
            reference=(REFERENCE,))
DATASET = "cifar10"


def labels(p) -> list[dict]:
    """DCNNs and ACDC networks with the same activation."""
    out = [ch4_runs.mlp_labels("dcnn", d, p["activation"], p.get("slope")) for d in p["dcnn_depths"]]
    out += [ch4_runs.mlp_labels("acdc", d, p["activation"], p.get("slope"), init=p["acdc_init"]) for d in p["acdc_depths"]]
    return out


def runs(config, paths):
    return ch4_runs.item_specs(config, ITEM.id, paths)


def inputs(config, paths):
    return ch4_runs.metrics_inputs(config, ITEM.id, paths)


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    res = ch4_report.base_result("fig_4_4", runs, [
        "Thesis caption: 'training loss'; ECAI caption and the data: test accuracy. Both are drawn.",
        f"ACDC initialisation: {ctx.params['acdc_init']} (the thesis tried several, including Moczulski et "
        "al.'s and its own, without saying which one the figure shows)."])
    res["curves"] = [{"name": f"{ch4_runs.series_label(m['labels'])}, {m['labels']['depth']} layers",
                      "family": m["labels"]["family"], "depth": m["labels"]["depth"], "run": m["run_id"],
                      "diverged": m.get("status") == "diverged", **ch4_runs.curves(m)} for m in runs]
    res["cells"] = []
    ctx.write_result("result", res)


def plot(ctx) -> None:
    from ...report.figures import save_figure

    p = ch4_report.PlotInputs(ctx, REFERENCE, keep=lambda r: r["in_thesis_figure"] == "1",
                              ncols=2, width=4.6, height=3.8)
    src, res, ref_path, ref, fig = p.src, p.res, p.ref_path, p.ref, p.fig
    ax_l, ax_a = p.axes[0]
    for i, c in enumerate(res["curves"]):
        ls = "-" if c["family"] == "dcnn" else "-."
        ax_l.plot(c["epoch"], c["train_loss"], ls, marker="o", markersize=3, color=f"C{i}", label=f"ours, {c['name']}")
        acc = [(e, a) for e, a in zip(c["epoch"], c["test_accuracy"]) if a is not None]
        ax_a.plot([e for e, _ in acc], [a for _, a in acc], ls, marker="o", markersize=3, color=f"C{i}",
                  label=f"ours, {c['name']}")
    ch4_report.thesis_series(ax_a, ref)
    for ax in (ax_l, ax_a):
        ch4_report.plain_log_axis(ax, "x")
        ax.set_xlabel("epoch (log scale)")
        ax.legend(fontsize=6)
    ax_l.set_ylabel("training loss (cross-entropy, epoch mean)")
    ax_l.set_title("(a) training loss (thesis caption)", fontsize=8.5)
    ax_a.set_ylabel("test accuracy")
    ax_a.set_title("(b) test accuracy (ECAI caption; the thesis's data)", fontsize=8.5)
    fig.suptitle("Figure 4.4: DCNN vs ACDC networks with ReLU on CIFAR-10", fontsize=9)
    ch4_report.note_box(fig, ["Dashed/dotted grey: the thesis's figure data (labelled 'Loss' in the thesis, but "
                              "rising from 0.29 to 0.5: test accuracy). 'Fourier transform' = DCNN, 'Cosine "
                              "transform' = ACDC."])
    save_figure(fig, ctx, item="fig_4_4", sources=[src], reference=[ref_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))
