"""Table B.2: number of DC factors of the compact FC layer (audio + video, DBoF embedding): the FC layer's
parameters, its CR and the model's GAP (thesis L7243-7258, settings S3).

'FC Layer #Parameters' counts the FC blocks' projection weights of the paper network (video 8192 -> 512 and
audio 4096 -> 512: 6,291,456 dense; 24,576 per DC factor). The thesis prints 12K for one factor, out of line
with its 73K / 147K for 3 / 6 factors (docs/youtube8m.md): that cell deviates.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

SCHEMA = """
type: object
additionalProperties: false
required: [factors]
properties:
  factors: {type: array, minItems: 1, uniqueItems: true, items: {enum: [1, 3, 6]}}
"""
ITEM = Item(id="table_B_2", kind="table", title="#params and GAP vs number of DC factors in the FC layer",
            thesis_lines="L7243-7258", status=IMPLEMENTED, schema=SCHEMA, uses=("yt8m_data", "yt8m_train"))
DENSE = "#Factors=- (dense FC)"


def MODELS(p) -> list[Y.Row]:
    out = [Y.Row(DENSE, "frame", "table_b2_dense")]
    out += [Y.Row(f"#Factors={k}", "frame", f"table_b2_factors_{k}") for k in sorted(p["factors"])]
    return out


runs, inputs = Y.item_hooks(ITEM.id)


def run(ctx) -> None:
    runs, counts, manifests = R.load(ctx.inputs)
    rows = MODELS(ctx.params)
    res = R.base_result(ITEM.id, runs, manifests, ctx.params, [
        "FC Layer CR: 100 (1 - FC-layer weights / dense FC-layer weights), paper sizes."])
    fc_dense = counts.get(f"yt8m_{rows[0].name}", {}).get("fc_params")
    cells = []
    for row, rid, m in R.run_of(rows, runs):
        fc = counts.get(rid, {}).get("fc_params")
        cells.append(R.count_cell(row.label, "FC Layer #Parameters", fc, 1e6 if row.label == DENSE else 1e3))
        cells.append(R.gap_cell(row.label, m))
        if row.label != DENSE:
            cells.append({"row": row.label, "column": "FC Layer CR", "value": R.pct_reduction(fc, fc_dense),
                          "scale_independent": True})
    res["cells"] = cells
    ctx.write_result("result", res)
