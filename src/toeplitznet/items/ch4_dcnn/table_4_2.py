"""Table 4.2 (part of ECAI Table 3): MNIST test error of a DCNN beside compression methods.

The LeNet, HashNet and Dark Knowledge rows are quoted from other papers: the renderer marks them "cited,
not reproduced". The DCNN's architecture is not stated in the thesis; ECAI Table 3 gives its exact size,
25 620 weights, which is 8 DC layers of width 1024 on the 784 pixels (the first one zero-pads 784 -> 1024)
and a DC output layer sliced to the 10 logits: (3 * 8 + 1) * 1024 + 20. Depth, width and activation:
``studies.table_4_2``; training: ``studies.ch4_train`` (the thesis gives no MNIST training settings; the
CIFAR-10 ones are used). The input size is the same at both scales (Fashion-MNIST stands in for MNIST at
the smoke scale), so the parameter count is the paper's at every scale. Depth and width were chosen to match
that count: the '#Params' cell is "matches by construction" (``fitted``), not a reproduced result.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as ch4_report, _runs as ch4_runs


#: JSON schema of ``studies.table_4_2`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [depth, width, slope]
properties:
  depth: {$ref: "#/$defs/posint"}
  width: {type: integer, minimum: 10}
  slope: {type: number, minimum: 0, maximum: 1}
"""
ITEM = Item(id="table_4_2", kind="table", title="DCNN on MNIST beside compression methods (3 cited rows)",
            thesis_lines="L4879-4901", status=IMPLEMENTED, schema=SCHEMA, uses=("ch4_train",))
DATASET = "mnist"
#: the config keys chosen to match the printed count
FITTED = "studies.table_4_2.depth, studies.table_4_2.width (fitted to ECAI Table 3's 25 620)"


def labels(p) -> list[dict]:
    return [ch4_runs.mlp_labels("dcnn", p["depth"], "leaky_relu", p["slope"], width=p["width"])]


def row_label(lab) -> str:
    if lab["family"] == "dcnn":
        return "DCNN"
    raise ValueError(f"no table_4_2 row for a run labelled {dict(lab)}")


def runs(config, paths):
    return ch4_runs.item_specs(config, ITEM.id, paths)


def inputs(config, paths):
    return ch4_runs.metrics_inputs(config, ITEM.id, paths)


def table_sources(config, paths):
    return [paths.result(ITEM.id), paths.result("param_counts_ch4", ITEM.id)]


def cells(runs: list[dict], count_unit: float = 1e3) -> list[dict]:
    """'#Params' (K) and 'Error (%)' = 100 x (1 - test accuracy) per run."""
    out = []
    for m in runs:
        row, acc = row_label(m["labels"]), ch4_runs.final_accuracy(m)
        out.append({"row": row, "column": "#Params", "value": ch4_runs.n_weights(m) / count_unit, "fitted": FITTED})
        out.append({"row": row, "column": "Error (%)", "value": None if acc is None else 100.0 * (1.0 - acc),
                    **ch4_runs.seed_stats(m, 100.0)})
    return out


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    p = ctx.params
    res = ch4_report.base_result(ITEM.id, runs, [
        f"DCNN: {p['depth']} DC layers of width {p['width']} + sliced DC output layer, Leaky-ReLU slope {p['slope']} "
        "(architecture inferred from ECAI Table 3's 25 620 weights); error = 100 x (1 - test accuracy).",
        "LeNet, HashNet and Dark Knowledge are cited from their papers (not reproduced)."])
    res["cells"] = cells(runs)
    ctx.write_result("result", res)
