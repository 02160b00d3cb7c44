"""Table B.3: dense vs circulant (compact) FC layer after a DBoF, NetVLAD or NetFV embedding (audio + video;
thesis L7270-7289, settings S3). The same runs draw Figures B.6-B.8.

CR: the paper networks' size reduction in % against the dense row of the same embedding. Our DBoF CR is 9.52
against the printed 9.56 (no consistent architecture gives 9.56; docs/youtube8m.md).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

NAMES = {"dbof": "DBoF", "netvlad": "NetVLAD", "netfv": "NetFisher"}
SCHEMA = """
type: object
additionalProperties: false
required: [embeddings]
properties:
  embeddings: {type: array, minItems: 1, uniqueItems: true, items: {enum: [dbof, netvlad, netfv]}}
"""
ITEM = Item(id="table_B_3", kind="table", title="FC compression with DBoF / NetVLAD / NetFV embeddings",
            thesis_lines="L7270-7289", status=IMPLEMENTED, schema=SCHEMA, uses=("yt8m_data", "yt8m_train"))


def MODELS(p) -> list[Y.Row]:
    out = []
    for e in p["embeddings"]:
        out += [Y.Row(f"{NAMES[e]} / FC Dense", "frame", f"table_b3_{e}_dense"),
                Y.Row(f"{NAMES[e]} / FC Circulant", "frame", f"table_b3_{e}_circulant")]
    return out


runs, inputs = Y.item_hooks(ITEM.id)


def run(ctx) -> None:
    runs, counts, manifests = R.load(ctx.inputs)
    rows = MODELS(ctx.params)
    res = R.base_result(ITEM.id, runs, manifests, ctx.params, [
        "CR: 100 (1 - circulant count / dense count of the same embedding), paper sizes."])
    cells, dense = [], None
    for row, rid, m in R.run_of(rows, runs):
        n = counts.get(rid, {}).get("n_params")
        cells.append(R.count_cell(row.label, "#Parameters", n, 1e6))
        cells.append(R.gap_cell(row.label, m))
        cells.append(R.trained_count_cell(row.label, m, 1e6, "#Parameters (trained network)"))
        if row.label.endswith("Dense"):
            dense = n
        else:
            cells.append({"row": row.label, "column": "CR", "value": R.pct_reduction(n, dense),
                          "scale_independent": True})
    res["cells"] = cells
    ctx.write_result("result", res)
