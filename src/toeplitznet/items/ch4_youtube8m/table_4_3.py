"""Table 4.3 (= ECAI Table 4): DCNNs on YouTube-8M's aggregated (video-level) features: dense baseline vs
"4 DC", "32 DC" and "4 DC + 1 FC" (thesis L4896-4933, settings S2).

Networks: :mod:`toeplitznet.models.yt8m_video` (exact counts 5,781,142 / 25,410 / 122,178 / 4,466,710 at 3862
classes). '#Weights' is the paper network's count in the thesis's unit (M or K) at every scale; GAP@20 is our
run's on the held-out videos. The 'dataset' rows echo the data the runs read (the thesis: 3.8M training
examples, 8M labelled videos, features aggregated over 300 frames).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

ROWS = {"Baseline": "baseline", "4 DC": "4dc", "32 DC": "32dc", "4 DC + 1 FC": "4dc_1fc"}
UNITS = {"Baseline": 1e6, "4 DC": 1e3, "32 DC": 1e3, "4 DC + 1 FC": 1e6}
SCHEMA = """
type: object
additionalProperties: false
required: [rows]
properties:
  rows: {type: array, minItems: 1, uniqueItems: true, items: {enum: ["Baseline", "4 DC", "32 DC", "4 DC + 1 FC"]}}
"""
ITEM = Item(id="table_4_3", kind="table", title="YouTube-8M aggregated: GAP of DCNN heads", thesis_lines="L4896-4933",
            status=IMPLEMENTED, schema=SCHEMA, uses=("yt8m_data", "yt8m_train"))


def MODELS(p) -> list[Y.Row]:
    return [Y.Row(label, "video", ROWS[label]) for label in p["rows"]]


runs, inputs = Y.item_hooks(ITEM.id)


def run(ctx) -> None:
    runs, counts, manifests = R.load(ctx.inputs)
    rows = MODELS(ctx.params)
    res = R.base_result(ITEM.id, runs, manifests, ctx.params, [
        "Video-level models: 1152-d input (mean_rgb + mean_audio, no normalisation), Leaky ReLU 0.5 between DC "
        "layers, sigmoid outputs, cross-entropy over the labels (toeplitznet.models.yt8m_video)."])
    cells = []
    for row, rid, m in R.run_of(rows, runs):
        unit = UNITS[row.label]
        cells.append(R.count_cell(row.label, "#Weights", counts.get(rid, {}).get("n_params"), unit))
        cells.append(R.gap_cell(row.label, m))
        cells.append(R.trained_count_cell(row.label, m, unit, "#Weights (trained network)"))
    size = R.dataset_sizes(manifests.get("video"))
    cells += [{"row": "dataset", "column": "training examples",
               "value": None if size["train"] is None else size["train"] / 1e6},
              {"row": "dataset", "column": "labelled videos",
               "value": None if size["total"] is None else size["total"] / 1e6},
              {"row": "dataset", "column": "aggregation window", "value": 300
               if (manifests.get("video") or {}).get("source") == "download" else None}]
    res["cells"] = cells
    ctx.write_result("result", res)
