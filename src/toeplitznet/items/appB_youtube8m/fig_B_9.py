"""Figure B.9: size vs GAP@20 of the compact Appendix B models (the caption is missing from the extraction;
referenced at L7140 and L7291-7299). Ours: the nine compact models of the thesis's figure data (labels such as
"NetVLAD 32, Compact FC 256, MoE 2"; :data:`toeplitznet.yt8m.variants.FRAME_VARIANTS` ``fig_b9_model_<k>``),
x = the paper network's parameters (millions, every scale), y = our held-out GAP.

The table renders the prose numbers: the best trade-off (DBoF with a circulant FC, GAP 0.861 at "60M"
weights, L7298; Table B.3 prints 59M, and the network has 59.49M) and the "diversity" model of Section B.2.4
(NetVLAD 256 + NetFV 128, FC 1024: 160M parameters / 600 Mo compact vs 728M / 2.7 Go dense, L7141-7144;
sizes in MiB / GiB of float32 weights, the reading that gives 2.7 for 728.7M).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y
from ...yt8m.variants import frame_run_name, frame_kwargs

REFERENCE = "figB_9_compact_models_size_vs_gap.csv"
LABELS = {1: "NetVLAD 32, Compact FC 256, MoE 2", 2: "NetVLAD 64, Compact FC 512, MoE 4",
          3: "NetFV 64, Compact FC 512, MoE 4", 4: "DBoF 8192, Compact FC 512, MoE 4",
          5: "NetVLAD 256, Compact FC 1024, MoE 4", 6: "NetVLAD 128, NetFV 64, Compact FC 1024, MoE 4",
          7: "NetVLAD 256, NetFV 128, Compact FC 1024, MoE 4", 8: "DBoF 8192, NetVLAD 128, Compact FC 1024, MoE 4",
          9: "DBoF 16384, NetVLAD 256, Compact FC 1024, MoE 4"}
BEST, DIVERSITY = 4, 7
SCHEMA = """
type: object
additionalProperties: false
required: [models]
properties:
  models:
    description: which of the figure's nine models to train (4 and 7 carry the prose numbers)
    type: array
    minItems: 1
    uniqueItems: true
    items: {type: integer, minimum: 1, maximum: 9}
"""
ITEM = Item(id="fig_B_9", kind="figure", title="size vs GAP of every Appendix B model", thesis_lines="L7140-7299",
            status=IMPLEMENTED, schema=SCHEMA, uses=("yt8m_data", "yt8m_train"), renders=("figure", "table"),
            reference=(REFERENCE,))
MIB, GIB = 4 / 2**20, 4 / 2**30  # float32 bytes per parameter in MiB / GiB


def MODELS(p) -> list[Y.Row]:
    return [Y.Row(LABELS[k], "frame", f"fig_b9_model_{k}") for k in sorted(p["models"])]


runs, inputs = Y.item_hooks(ITEM.id)


def run(ctx) -> None:
    runs, counts, manifests = R.load(ctx.inputs)
    rows = MODELS(ctx.params)
    res = R.base_result(ITEM.id, runs, manifests, ctx.params, [
        "x: parameters of the paper network (millions); several embeddings per modality have their FC outputs "
        "concatenated, the only reading that gives the figure's sizes."])
    points, cells = [], []
    for row, rid, m in R.run_of(rows, runs):
        n = counts.get(rid, {}).get("n_params")
        points.append({"name": row.label, "run": rid, "n_params": n, "gap": (m or {}).get("gap")})
        cells.append(R.count_cell(row.label, "#params (M)", n, 1e6))
        cells.append(R.gap_cell(row.label, m))
    res["points"] = points
    by = {r.label: (rid, m) for r, rid, m in R.run_of(rows, runs)}
    best = LABELS[BEST]
    if best in by:
        rid, m = by[best]
        cells += [dict(R.gap_cell("DBoF (circulant FC)", m), column="GAP@20 at best trade-off"),
                  R.count_cell("DBoF (circulant FC)", "#weights at best trade-off",
                               counts.get(rid, {}).get("n_params"), 1e6)]
    div = "diversity model NetVLAD(256)+NetFV(128)"
    for kind, variant in (("compact", "fig_b9_diversity_compact"), ("dense", "fig_b9_diversity_dense")):
        n = counts.get(f"yt8m_{frame_run_name(frame_kwargs(variant))}", {}).get("n_params")
        cells.append(R.count_cell(f"{div}, {kind}", "#params", n, 1e6))
        size = None if n is None else n * (MIB if kind == "compact" else GIB)
        cells.append({"row": f"{div}, {kind}", "column": "model size", "value": size, "scale_independent": True})
    res["cells"] = cells
    ctx.write_result("result", res)


def plot(ctx) -> None:
    from ...items.ch4_dcnn import _report as ch4_report
    from ...report.figures import save_figure

    p = ch4_report.PlotInputs(ctx, REFERENCE, ncols=2, width=4.6, height=3.8)
    ax_o, ax_t = p.axes[0]
    for i, pt in enumerate(p.res["points"]):
        if pt["n_params"] is not None and pt["gap"] is not None:
            ax_o.plot(pt["n_params"] / 1e6, pt["gap"], "o", color=f"C{i}", label=pt["name"])
    for i, r in enumerate(p.ref):
        ax_t.plot(float(r["x"]), float(r["y"]), "s", markerfacecolor="none", color=f"C{i}", label=r["label"])
    for ax, t in ((ax_o, "(a) ours"), (ax_t, "(b) the thesis's figure data")):
        ax.set_xlabel("parameters of the paper network (millions)")
        ax.set_ylabel("GAP@20")
        ax.set_title(t, fontsize=8.5)
        ax.legend(fontsize=5.5)
    p.fig.suptitle("Figure B.9: size vs GAP@20 of the compact Appendix B models", fontsize=9)
    ch4_report.note_box(p.fig, ["x is exact at every scale (paper-size networks counted on the meta device); "
                                "our GAP comes from this scale's runs."])
    save_figure(p.fig, ctx, item=ITEM.id, sources=[p.src], reference=[p.ref_path], stand_in=p.res.get("stand_in"),
                notes=p.res.get("notes", []))
