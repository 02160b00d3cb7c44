"""Figure 4.6 (= ECAI Figure 4(b)): accuracy against the number of trainable parameters of scattering +
structured-head networks on CIFAR-10.

The thesis plots the six networks of Table 4.5, so the figure is drawn from Table 4.5's result (no runs of
its own). ``studies.fig_4_6.show_unplotted_reference`` adds the five points of the thesis's source that the
final figure leaves out (commented out in its plotting script). Its claim table
(``paper_tables/<scale>/fig_4_6.md``) judges the prose claim tied to it, "a competitive accuracy over 78%"
(L5025), a lower bound, from Table 4.5's result; Table 4.5's other cells are not repeated there.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item


REFERENCE = "fig4_6_scattering_structured_layers_size_vs_accuracy.csv"
#: JSON schema of ``studies.fig_4_6`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [show_unplotted_reference]
properties:
  show_unplotted_reference: {type: boolean}
"""
ITEM = Item(id="fig_4_6", kind="figure", title="scattering + DC / LDR heads: size vs accuracy (Table 4.5's runs)",
            thesis_lines="L5008-5028", status=IMPLEMENTED, schema=SCHEMA, result_of="table_4_5",
            reference=(REFERENCE,), renders=("figure", "table"))
HEAD_STYLE = {"dc": ("s", "C2"), "ldr_sd": ("^", "C0"), "toeplitz_like": ("D", "C3"), "ldr_td": ("v", "C1")}


def plot(ctx) -> None:
    from ...report.figures import save_figure
    from . import _report as ch4_report

    keep = None if ctx.params["show_unplotted_reference"] else (lambda r: r["in_thesis_figure"] == "1")
    p = ch4_report.PlotInputs(ctx, REFERENCE, keep=keep, width=6.0, height=4.2)
    src, res, ref_path, ref, fig, ax = p.src, p.res, p.ref_path, p.ref, p.fig, p.ax
    seen = set()
    for pt in res["points"]:
        marker, color = HEAD_STYLE.get(pt["head"], ("o", "C5"))
        ax.plot(pt["n_weights"] / 1e3, pt["accuracy"], marker, color=color, markersize=7,
                label=None if pt["head"] in seen else f"ours, {pt['label'].split(' (')[0]}")
        seen.add(pt["head"])
        ax.annotate(pt["label"], (pt["n_weights"] / 1e3, pt["accuracy"]), fontsize=6, xytext=(4, 3),
                    textcoords="offset points")
    for i, r in enumerate(ref):
        x, y = float(r["x"]), float(r["y"])
        ch4_report.thesis_plot(ax, [x], [y], "thesis (figure data)" if i == 0 else None,
                               marker={"^": "^", "D": "D", "s": "s"}.get(r["marker"], "o"), linestyle="none")
        ax.annotate(r["series"].replace("Scattering + ", ""), (x, y), fontsize=5.5, color="0.45",
                    xytext=(4, -8), textcoords="offset points")
    ch4_report.plain_log_axis(ax, "x")
    ax.set_xlabel("number of trainable parameters (thousands, log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Figure 4.6: scattering + structured layer, CIFAR-10", fontsize=9)
    ax.legend(fontsize=6.5)
    ch4_report.note_box(fig, ["Grey hollow markers: the thesis's figure data. Counts include the batch norm's "
                              "running statistics (the convention that reproduces the thesis's counts)."])
    save_figure(fig, ctx, item="fig_4_6", sources=[src], reference=[ref_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))
