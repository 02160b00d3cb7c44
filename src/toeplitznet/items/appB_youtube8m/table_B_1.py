"""Table B.1: effect of compacting each layer of the frame-level model (video features only, L7232-7233):
dense model vs compact DBoF, compact FC and compact MoE (thesis L7220-7242, settings S3).

The same networks and runs as Table 4.4. CR is the paper networks' size reduction in % (``100 (1 - n /
n_dense)``, L7227), Diff. our GAP minus our dense model's. The 'dataset' row is the number of training videos
of the frame-level manifest (before the halving augmentation; the thesis: 4,822,555 = train + part of validate,
docs/youtube8m.md).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

ROWS = {"Dense Model": "table_b1_dense", "Compact DBoF": "table_b1_compact_dbof", "Compact FC": "table_b1_compact_fc",
        "Compact MoE": "table_b1_compact_moe"}
SCHEMA = """
type: object
additionalProperties: false
required: [rows]
properties:
  rows:
    type: array
    minItems: 1
    uniqueItems: true
    items: {enum: ["Dense Model", "Compact DBoF", "Compact FC", "Compact MoE"]}
"""
ITEM = Item(id="table_B_1", kind="table", title="effect of compacting each layer (video features)",
            thesis_lines="L7220-7242", status=IMPLEMENTED, schema=SCHEMA, uses=("yt8m_data", "yt8m_train"))


def MODELS(p) -> list[Y.Row]:
    labels = ["Dense Model"] + [r for r in p["rows"] if r != "Dense Model"]
    return [Y.Row(label, "frame", ROWS[label]) for label in labels]


runs, inputs = Y.item_hooks(ITEM.id)


def run(ctx) -> None:
    runs, counts, manifests = R.load(ctx.inputs)
    rows = MODELS(ctx.params)
    res = R.base_result(ITEM.id, runs, manifests, ctx.params, [
        "CR: 100 (1 - paper-size count / dense count); Diff.: our GAP - our dense model's GAP."])
    by = {row.label: (rid, m) for row, rid, m in R.run_of(rows, runs)}
    n_dense = counts.get(by["Dense Model"][0], {}).get("n_params")
    g_dense = (by["Dense Model"][1] or {}).get("gap")
    cells = []
    for row, rid, m in R.run_of(rows, runs):
        n = counts.get(rid, {}).get("n_params")
        cells.append(R.count_cell(row.label, "#Parameters", n, 1e6))
        cells.append(R.gap_cell(row.label, m))
        cells.append(R.trained_count_cell(row.label, m, 1e6, "#Parameters (trained network)"))
        if row.label != "Dense Model":
            cr = R.pct_reduction(n, n_dense)
            cells.append({"row": row.label, "column": "CR", "value": cr, "scale_independent": True})
            g = (m or {}).get("gap")
            cells.append({"row": row.label, "column": "Diff.",
                          "value": None if g is None or g_dense is None else g - g_dense})
            if row.label == "Compact FC":
                cells.append({"row": row.label, "column": "compression rate (prose)", "value": cr,
                              "scale_independent": True})
    cells.append({"row": "dataset", "column": "training examples (train + 70% val)",
                  "value": R.dataset_sizes(manifests.get("frame"))["train"]})
    res["cells"] = cells
    ctx.write_result("result", res)
