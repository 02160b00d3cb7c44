"""Table 4.1 (= ECAI Table 1): dense, DCNN (5 and 2 layers), LDR-TD and Toeplitz-like (r = 2, 3) networks on
flattened CIFAR-10: number of weights and test accuracy.

Thesis L4854-4877. DCNNs and the dense network use the Leaky-ReLU setting of the experiments (slope 0.5
after every layer; the DCNN runs are shared with Figures 4.2 and 4.5); the LDR rows follow Thomas et al.
(2018): one LDR layer (3072 -> 3072) + a dense layer to the logits (:func:`toeplitznet.models.ldr_net`),
with the activation of ``studies.table_4_1.ldr_activation`` between them. '#Parameters' counts every
trainable weight of the trained network, in the thesis's units (K; M for the dense row); the exact
counts of the paper architectures (3072-d input) are in the extra column rendered from
:mod:`toeplitznet.items.ch4_dcnn.param_counts_ch4`.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as ch4_report, _runs as ch4_runs


#: JSON schema of ``studies.table_4_1`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [slope, dense_depth, dcnn_depths, ldr_td_ranks, toeplitz_like_ranks, ldr_activation]
properties:
  slope: {type: number, minimum: 0, maximum: 1}
  dense_depth: {$ref: "#/$defs/posint"}
  dcnn_depths: {type: array, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  ldr_td_ranks: {type: array, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  toeplitz_like_ranks: {type: array, uniqueItems: true, items: {$ref: "#/$defs/posint"}}
  ldr_activation: {enum: [relu, leaky_relu, identity]}
"""
ITEM = Item(id="table_4_1", kind="table", title="dense / DCNN / LDR on flattened CIFAR-10",
            thesis_lines="L4854-4877", status=IMPLEMENTED, schema=SCHEMA, uses=("ch4_train",))
DATASET = "cifar10"


def labels(p) -> list[dict]:
    """Dense and DCNN rows (Leaky-ReLU), then the LDR-TD and Toeplitz-like rows (Thomas et al. 2018)."""
    out = [ch4_runs.mlp_labels("dense", p["dense_depth"], "leaky_relu", p["slope"])]
    out += [ch4_runs.mlp_labels("dcnn", d, "leaky_relu", p["slope"]) for d in p["dcnn_depths"]]
    for kind, key in (("tridiagonal", "ldr_td_ranks"), ("toeplitz", "toeplitz_like_ranks")):
        for r in p[key]:
            out.append({"family": "ldr_net", "kind": kind, "rank": int(r), "activation": p["ldr_activation"],
                        "slope": None})
    return out


def row_label(lab) -> str:
    """The thesis's row label of a run (``reference/thesis_values.csv``)."""
    if lab["family"] == "dense":
        return "Dense"
    if lab["family"] == "dcnn":
        return f"DCNN ({lab['depth']} layers)"
    if lab["family"] == "ldr_net":
        name = {"tridiagonal": "LDR-TD", "toeplitz": "Toeplitz-like", "subdiagonal": "LDR-SD"}[lab["kind"]]
        return f"{name} (r = {lab['rank']})"
    raise ValueError(f"no table_4_1 row for a run labelled {dict(lab)}")


def runs(config, paths):
    return ch4_runs.item_specs(config, ITEM.id, paths)


def inputs(config, paths):
    return ch4_runs.metrics_inputs(config, ITEM.id, paths)


def table_sources(config, paths):
    """Our runs, and the exact counts of the paper architectures (study ``param_counts_ch4``)."""
    return [paths.result(ITEM.id), paths.result("param_counts_ch4", ITEM.id)]


def weight_reduction(runs: list[dict]) -> float | None:
    """Table 4.1 claim "2x fewer weights": smallest non-DCNN structured network / smallest DCNN."""
    dc = [ch4_runs.n_weights(m) for m in runs if m["labels"]["family"] == "dcnn"]
    other = [ch4_runs.n_weights(m) for m in runs if m["labels"]["family"] == "ldr_net"]
    if not dc or not other:
        return None
    return min(other) / min(dc)


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    p = ctx.params
    res = ch4_report.base_result(ITEM.id, runs, [
        f"Dense: {p['dense_depth']} hidden layer(s) of the input width; DCNN and dense: Leaky-ReLU slope {p['slope']} "
        f"after every layer; LDR rows: one LDR layer + {p['ldr_activation']} + a dense layer (Thomas et al. 2018).",
        "LDR-TD layers use tridiagonal operators with corners and the Krylov reconstruction (see "
        "toeplitznet.layers.ldr); counts differ from Thomas et al.'s by at most 4 weights."])
    cells = ch4_runs.table_cells(ITEM.id, runs)
    ratio = weight_reduction(runs)
    if ratio is not None:
        cells.append({"row": "DCNN vs next best", "column": "weight reduction factor claimed", "value": ratio})
    res["cells"] = cells
    ctx.write_result("result", res)
