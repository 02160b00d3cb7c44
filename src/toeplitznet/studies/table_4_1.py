"""Table 4.1 (= ECAI Table 1): dense, DCNN (5 and 2 layers), LDR-TD and Toeplitz-like (r = 2, 3) networks on
flattened CIFAR-10: number of weights and test accuracy.

Thesis L4854-4877. DCNNs and the dense network use the Leaky-ReLU setting of the experiments (slope 0.5
after every layer; the DCNN runs are shared with Figures 4.2 and 4.5); the LDR rows follow Thomas et al.
(2018): one LDR layer (3072 -> 3072) + a dense layer to the logits (:func:`toeplitznet.models.ldr_net`),
with the activation of ``studies.table_4_1.ldr_activation`` between them. '#Parameters' counts every
trainable weight of the trained network, in the thesis's units (K; M for the dense row); the exact
counts of the paper architectures (3072-d input) are in the extra column rendered from
:mod:`toeplitznet.studies.param_counts_ch4`.
"""

from __future__ import annotations

from . import ch4_report, ch4_runs

OUTPUTS = {"result": "table_4_1.json"}
ITEM = "table_4_1"


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    p = ctx.params
    res = ch4_report.base_result(ITEM, runs, [
        f"Dense: {p['dense_depth']} hidden layer(s) of the input width; DCNN and dense: Leaky-ReLU slope {p['slope']} "
        f"after every layer; LDR rows: one LDR layer + {p['ldr_activation']} + a dense layer (Thomas et al. 2018).",
        "LDR-TD layers use tridiagonal operators with corners and the Krylov reconstruction (see "
        "toeplitznet.layers.ldr); counts differ from Thomas et al.'s by at most 4 weights."])
    cells = ch4_runs.table_cells(ITEM, runs)
    ratio = ch4_runs.weight_reduction(runs)
    if ratio is not None:
        cells.append({"row": "DCNN vs next best", "column": "weight reduction factor claimed", "value": ratio})
    res["cells"] = cells
    ctx.write_result("result", res)
