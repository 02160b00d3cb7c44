"""Table 4.4 (= ECAI Table 5 = Table B.1's numbers): the frame-level model of Miech et al. (2017) with its DBoF,
FC or MoE block replaced by DC layers (thesis L4934-4961, settings S2).

The thesis calls the data "full" (frame level) here and "video features only" in Table B.1 (INVENTORY
inconsistency 3); both tables show the same numbers, so both read the same runs: video (rgb) frames only,
DBoF 8192 -> FC 512 -> MoE 4 -> context gating (:data:`toeplitznet.yt8m.variants.FRAME_VARIANTS`
``table_4_4_*``). '#Weights' and its percentage of the original are the paper networks' counts.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

ROWS = {"original": "table_4_4_original", "DBoF with DC": "table_4_4_dbof_dc", "FC with DC": "table_4_4_fc_dc",
        "MoE with DC": "table_4_4_moe_dc"}
SCHEMA = """
type: object
additionalProperties: false
required: [rows]
properties:
  rows:
    type: array
    minItems: 1
    uniqueItems: true
    items: {enum: ["original", "DBoF with DC", "FC with DC", "MoE with DC"]}
"""
ITEM = Item(id="table_4_4", kind="table", title="YouTube-8M full: DBoF / FC / MoE replaced by DC layers",
            thesis_lines="L4934-4961", status=IMPLEMENTED, schema=SCHEMA, uses=("yt8m_data", "yt8m_train"))
PCT = "#Weights (% of original, in parentheses)"


def MODELS(p) -> list[Y.Row]:
    labels = ["original"] + [r for r in p["rows"] if r != "original"]  # the percentages need the original
    return [Y.Row(label, "frame", ROWS[label]) for label in labels]


runs, inputs = Y.item_hooks(ITEM.id)


def run(ctx) -> None:
    runs, counts, manifests = R.load(ctx.inputs)
    rows = MODELS(ctx.params)
    res = R.base_result(ITEM.id, runs, manifests, ctx.params, [
        "Video (rgb) frames only, as Table B.1 says (the two tables print the same numbers).",
        "Percentages: paper-size count / original count x 100; GAP %: our GAP / our original's GAP x 100."])
    by = {row.label: (rid, m) for row, rid, m in R.run_of(rows, runs)}
    n_orig = counts.get(by["original"][0], {}).get("n_params")
    g_orig = (by["original"][1] or {}).get("gap")
    cells = []
    for row, rid, m in R.run_of(rows, runs):
        n = counts.get(rid, {}).get("n_params")
        cells.append(R.count_cell(row.label, "#Weights", n, 1e6))
        cells.append(R.gap_cell(row.label, m))
        cells.append(R.trained_count_cell(row.label, m, 1e6, "#Weights (trained network)"))
        if row.label != "original":
            pct = None if n is None or not n_orig else 100.0 * n / n_orig
            cells.append({"row": row.label, "column": PCT, "value": pct, "scale_independent": True})
            if row.label == "MoE with DC":
                cells.append({"row": row.label, "column": "size as % of original", "value": pct,
                              "scale_independent": True})
                g = (m or {}).get("gap")
                cells.append({"row": row.label, "column": "GAP as % of original",
                              "value": None if g is None or not g_orig else 100.0 * g / g_orig})
    res["cells"] = cells
    ctx.write_result("result", res)
