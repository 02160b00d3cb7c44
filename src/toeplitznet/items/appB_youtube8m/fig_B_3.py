"""Figure B.3: the robust DBoF of Eq. B.2 (n bags of k frames, each max-pooled, averaged) against DBoF with
max and with average pooling, held-out GAP vs epochs (audio + video; thesis L7214-7219, L7312-7313).

Our reading (the thesis does not say): the max / average pooling baselines pool over all frames of a video.
The table echoes the n and k of the robust DBoF network trained (thesis: 10 and 15, L7312).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

REFERENCE = "figB_3_robust_dbof_pooling_gap.csv"
SERIES = {"Robust DBoF": "dbof_robust", "DBoF w/max pooling": "dbof_max_pooling",
          "DBoF w/average pooling": "dbof_avg_pooling"}
SCHEMA = """
type: object
additionalProperties: false
required: [n_bags, frames_per_bag]
properties:
  n_bags: {$ref: "#/$defs/posint", description: "n of Eq. B.2 (thesis 10)"}
  frames_per_bag: {$ref: "#/$defs/posint", description: "k of Eq. B.2 (thesis 15)"}
"""
ITEM = Item(id="fig_B_3", kind="figure", title="robust DBoF pooling vs max and average pooling",
            thesis_lines="L7214-7313", status=IMPLEMENTED, schema=SCHEMA, uses=("yt8m_data", "yt8m_train"),
            renders=("figure", "table"), reference=(REFERENCE,))


def MODELS(p) -> list[Y.Row]:
    return [Y.Row("Robust DBoF", "frame", "fig_b3_robust", {"n_bags": int(p["n_bags"]),
                                                            "frames_per_bag": int(p["frames_per_bag"])}),
            Y.Row("DBoF w/max pooling", "frame", "fig_b3_max"),
            Y.Row("DBoF w/average pooling", "frame", "fig_b3_average")]


runs, inputs = Y.item_hooks(ITEM.id)


def run(ctx) -> None:
    p = ctx.params
    robust = f"yt8m_{MODELS(p)[0].name}"

    def extra(runs):
        # n and k of the robust DBoF network actually trained (studies.yt8m_train.shrink may divide the
        # section's values at smoke scale)
        m = (runs.get(robust) or {}).get("model") or {}
        n, k = int(m.get("n_bags", p["n_bags"])), int(m.get("frames_per_bag", p["frames_per_bag"]))
        notes = ["Max and average pooling run over all frames of a video (our reading; the thesis does not say).",
                 f"Robust DBoF trained with n = {n} bags of k = {k} frames (studies.fig_B_3: {p['n_bags']} x "
                 f"{p['frames_per_bag']}, divided by studies.yt8m_train.shrink)."]
        return notes, [{"row": "robust DBoF", "column": "n (number of samples)", "value": n},
                       {"row": "robust DBoF", "column": "k (sample size)", "value": k}]

    R.curve_result(ctx, ITEM.id, MODELS(p), SERIES, extra)


def plot(ctx) -> None:
    R.plot_curves(ctx, ITEM.id, "Figure B.3: robust DBoF vs max and average pooling (GAP@20 vs epochs)", REFERENCE)
