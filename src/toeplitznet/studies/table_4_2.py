"""Table 4.2 (part of ECAI Table 3): MNIST test error of a DCNN beside compression methods.

The LeNet, HashNet and Dark Knowledge rows are quoted from other papers: the renderer marks them "cited,
not reproduced". The DCNN's architecture is not stated in the thesis; ECAI Table 3 gives its exact size,
25 620 weights, which is 8 DC layers of width 1024 on the 784 pixels (the first one zero-pads 784 -> 1024)
and a DC output layer sliced to the 10 logits: (3 * 8 + 1) * 1024 + 20. Depth, width and activation:
``studies.table_4_2``; training: ``studies.ch4_train`` (the thesis gives no MNIST training settings; the
CIFAR-10 ones are used). The input size is the same at both scales (Fashion-MNIST stands in for MNIST at
the smoke scale), so the parameter count is the paper's at every scale.
"""

from __future__ import annotations

from . import ch4_report, ch4_runs

OUTPUTS = {"result": "table_4_2.json"}
ITEM = "table_4_2"


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    p = ctx.params
    res = ch4_report.base_result(ITEM, runs, [
        f"DCNN: {p['depth']} DC layers of width {p['width']} + sliced DC output layer, Leaky-ReLU slope {p['slope']} "
        "(architecture inferred from ECAI Table 3's 25 620 weights); error = 100 x (1 - test accuracy).",
        "LeNet, HashNet and Dark Knowledge are cited from their papers (not reproduced)."])
    res["cells"] = ch4_runs.table_cells(ITEM, runs)
    ctx.write_result("result", res)
