"""Table 4.5 (ECAI Table 2 without its ensemble row): scattering + batch norm + DC or LDR head on CIFAR-10.

Thesis L4997-5028: "2 depth scattering on the RGB images followed by a batch norm and LDR or DC layer";
the scattering parameters are not stated (J = 2, L = 8 reproduce the counts). The scattering features are
computed once (rule ``ch4_scattering``) and each head is trained on them with the shared settings.
'#Parameters' follows the counting convention that reproduces all six printed counts: trainable weights
plus the batch norm's running mean and variance (``count_bn_stats``; see
:mod:`toeplitznet.studies.param_counts_ch4`). Figure 4.6 draws the same runs.
"""

from __future__ import annotations

from . import ch4_report, ch4_runs

OUTPUTS = {"result": "table_4_5.json"}
ITEM = "table_4_5"


def run(ctx) -> None:
    runs = ch4_report.load_runs(ctx.inputs)
    p = ctx.params
    res = ch4_report.base_result(ITEM, runs, [
        f"Scattering J = {p['J']}, L = {p['L']} (order 2, fixed) -> BatchNorm1d -> head. DC heads: hidden DC layers "
        f"with Leaky-ReLU slope {p['slope']} + a DC layer sliced to the logits; LDR heads: one square LDR layer "
        "sliced to the logits.",
        "#Parameters = trainable weights" + (" + batch-norm running mean and variance" if p["count_bn_stats"] else "")
        + " (the convention that reproduces the six printed counts)."])
    if not p["count_bn_stats"]:
        runs = [dict(m, n_params_thesis=m["n_params"]) for m in runs]
    cells = ch4_runs.table_cells(ITEM, runs)
    best = ch4_runs.best_run([m for m in runs if m["labels"]["head"] == "dc"])
    if best is not None:
        cells.append({"row": "DC + scattering", "column": "accuracy (lower bound stated)",
                      "value": 100 * ch4_runs.final_accuracy(best)})
    res["cells"] = cells
    res["points"] = [{"label": ch4_runs.row_label(ITEM, m["labels"]), "head": m["labels"]["head"],
                      "n_weights": ch4_runs.n_weights(m), "accuracy": ch4_runs.accuracy_or_chance(m),
                      "diverged": ch4_runs.final_accuracy(m) is None, "run": m["run_id"]} for m in runs]
    ctx.write_result("result", res)
