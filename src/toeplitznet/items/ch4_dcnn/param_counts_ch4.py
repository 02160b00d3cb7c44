"""Parameter counts of the Chapter 4 networks at the thesis's input sizes, without training.

At the smoke scale the trained networks read 784-d Fashion-MNIST, so their counts differ from the thesis's;
this study builds the same architectures on 3072-d CIFAR-10 / 784-d MNIST inputs (what
:func:`toeplitznet.items.ch4_dcnn._runs.paper_architectures` lists) and counts their weights, so the count check
is visible at every scale. The counts are exact and do not depend on the scale: every result is flagged
``scale_independent``.

Counting conventions (those that reproduce the thesis's printed numbers):

* every trainable weight, biases included (DCNN with L layers on n inputs: (3L+1)n + 20, i.e. 21 524 and
  49 172 for L = 2, 5, the ``n_weights`` of the thesis's own Figure 4.2 data; INVENTORY section 8's
  (3L+1)n = 21 504 / 49 152 leaves out the 10 diagonal and 10 bias entries of the sliced output layer);
* scattering networks (Table 4.5): trainable weights + the batch norm's running mean and variance
  (``studies.table_4_5.count_bn_stats``); this is the convention that gives five of the six printed counts
  (124K, 217K, 140K, 420K, 388K; Toeplitz-like r = 1 counts 108 864 against "110K", which neither truncates
  nor rounds to it). INVENTORY section 8 explains the two DC rows as 124 416 / 217 728 instead (trainable
  batch norm + full-length output layer): we report that reading too. The running statistics are not
  trainable, whereas the thesis says "trainable parameters": the cells are marked fitted and the strictly
  trainable count has its own column.

Outputs: ``result`` (every counted network) and one result per table (``table_4_1``, ``table_4_2``,
``table_4_5``) whose cells sit in an extra column "#Parameters (paper architecture)" of the rendered table:
the count in the thesis's printed unit (K or M), compared with the thesis's printed count (``compare_with``)
by the count rule of :mod:`toeplitznet.report.verdicts` (equal after truncation or rounding at the printed
digit, as the thesis prints counts; the same rule as the trained count's, so one count never gets two
verdicts), scale-independent, so the check is visible at every scale. Counts whose architecture was chosen
to match the printed number carry ``fitted`` (the config keys): "matches by construction". The exact integer is kept in the cell (``exact_count``) and the
notes say whether it truncates or rounds to the printed value.
"""

from __future__ import annotations

import csv
import math

from ...reference import figure_data_path, thesis_cells
from ...registry import Study
from . import _runs as ch4_runs


OUTPUTS = {"result": "param_counts_ch4.json", "table_4_1": "table_4_1.json", "table_4_2": "table_4_2.json",
           "table_4_5": "table_4_5.json"}
#: JSON schema of ``studies.param_counts_ch4`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [items, scattering]
properties:
  scattering:
    description: scattering parameters of the paper architecture (Table 4.5), whatever the scale
    type: object
    additionalProperties: false
    required: [J, L]
    properties:
      J: {type: integer, minimum: 1, maximum: 4}
      L: {$ref: "#/$defs/posint"}
  items:
    type: array
    uniqueItems: true
    items: {enum: [fig_4_2, ecai_fig_2a, fig_4_4, fig_4_5, table_4_1, table_4_2, table_4_5]}
"""
STUDY = Study(name="param_counts_ch4", title="exact parameter counts of the Chapter 4 paper architectures",
              outputs=OUTPUTS, schema=SCHEMA,
              uses=("ch4_train", "table_4_1", "table_4_2", "table_4_5", "fig_4_2", "fig_4_5"))
REFERENCE = "fig4_2_dcnn_cifar10_leaky_relu_slope.csv"


def inputs(config, paths):
    return {"reference": paths.reference(REFERENCE)}


def job_config(config, paths):
    """Its section, the paper architectures of ``studies.param_counts_ch4.items`` and Table 4.5's counting
    convention."""
    from ...plan import study_config

    cfg = study_config(config, "param_counts_ch4")
    s = cfg["study"]
    items = list(s["items"])
    cfg["study"] = {"items": items, "count_bn_stats": bool(config["studies"]["table_4_5"]["count_bn_stats"]),
                    "scattering": dict(s["scattering"]),
                    "models": ch4_runs.paper_architectures(config, items, s["scattering"])}
    return cfg

COUNT_COLUMN = {"table_4_1": "#Parameters", "table_4_2": "#Params", "table_4_5": "#Parameters"}
#: config keys chosen to match a table's printed counts (its count cells are "matches by construction")
FITTED = {"table_4_2": "studies.table_4_2.depth, studies.table_4_2.width (fitted to ECAI Table 3's 25 620)",
          "table_4_5": "studies.param_counts_ch4.scattering (J, L), studies.table_4_5.count_bn_stats"}
EXACT_COLUMN = "(paper architecture, exact)"
PAPER_COLUMN = "(paper architecture)"


def printed_unit(unit: str) -> float:
    """Scale of a printed count: 'K params' -> 1e3, 'M params' -> 1e6."""
    u = unit.strip().upper()
    return 1e6 if u.startswith("M") else 1e3 if u.startswith("K") else 1.0


def compare(count: int, printed: float, unit: float) -> dict:
    """How an exact count relates to the thesis's printed (truncated or rounded) value."""
    value = count / unit
    return {"count": count, "printed": printed, "in_unit": value, "rel_diff": (value - printed) / printed,
            "truncates_to_printed": math.isclose(math.floor(value * 10) / 10 if printed % 1 else math.floor(value),
                                                 printed),
            "rounds_to_printed": math.isclose(round(value, 1) if printed % 1 else round(value), printed)}


def fig_4_2_weights() -> dict[int, int]:
    """``depth -> n_weights`` of the thesis's own Figure 4.2 data (DCNN on flattened CIFAR-10)."""
    with open(figure_data_path("fig4_2_dcnn_cifar10_leaky_relu_slope.csv"), newline="") as fh:
        return {int(r["x"]): int(r["n_weights"]) for r in csv.DictReader(fh)}


def count_model(spec: dict, bn_stats: bool) -> dict:
    from ...models import build_model, count_parameters

    model = build_model(spec)
    out = {"trainable": count_parameters(model)}
    if spec["family"] == "scattering":
        out["with_bn_stats"] = count_parameters(model, include_bn_stats=True)
        if spec.get("head") == "dc":  # INVENTORY section 8 reading: full-length output layer, BN stats not counted
            alt = build_model(dict(spec, trim_unused=False))
            out["inventory_reading"] = count_parameters(alt)
        out["thesis"] = out["with_bn_stats"] if bn_stats else out["trainable"]
    else:
        out["thesis"] = out["trainable"]
    return out


def run(ctx) -> None:
    p = ctx.params
    if "models" not in p:
        raise ValueError("param_counts_ch4's config is param_counts_ch4.job_config(config, paths); build it "
                         "through Snakemake (rule param_counts_ch4)")
    bn_stats = bool(p["count_bn_stats"])
    fig42 = fig_4_2_weights()
    counted, by_item = {}, {}
    for item, runs in p["models"].items():
        for rid, spec in runs.items():
            if rid not in counted:
                counted[rid] = {"labels": spec["labels"], "input_shape": spec["model"]["input_shape"],
                                **count_model(spec["model"], bn_stats)}
            by_item.setdefault(item, []).append(rid)
    checks = []
    for rid, c in counted.items():
        lab = c["labels"]
        if lab["family"] == "dcnn" and lab.get("width") is None and c["input_shape"] == [3, 32, 32] \
                and lab["depth"] in fig42:
            checks.append({"run": rid, "against": "Figure 4.2 data n_weights", "ours": c["thesis"],
                           "thesis": fig42[lab["depth"]], "equal": c["thesis"] == fig42[lab["depth"]]})
    ctx.write_result("result", {"item": "param_counts_ch4", "scale_independent": True, "counted": counted,
                                "items": by_item, "checks": checks, "cells": []})

    for item in ("table_4_1", "table_4_2", "table_4_5"):
        if item not in by_item:
            ctx.write_result(item, {"item": item, "scale_independent": True, "seeds": [], "cells": [], "notes": []})
            continue
        printed = {c.row: c for c in thesis_cells(item) if c.column == COUNT_COLUMN[item]}
        cells, notes = [], []
        for rid in by_item[item]:
            c = counted[rid]
            row = ch4_runs.row_label(item, c["labels"])
            th = printed.get(row)
            if th is not None and isinstance(th.value, float):
                cmp = compare(c["thesis"], th.value, printed_unit(th.unit))
                # compared with the thesis's printed count, in its unit (K or M), by the count rule (truncated
                # or rounded at the printed digit)
                cell = {"row": row, "column": f"{COUNT_COLUMN[item]} {PAPER_COLUMN}",
                        "value": cmp["in_unit"], "exact_count": c["thesis"],
                        "compare_with": COUNT_COLUMN[item], "scale_independent": True}
                if FITTED.get(item):
                    cell["fitted"] = FITTED[item]
                cells.append(cell)
                if "with_bn_stats" in c and c["thesis"] != c["trainable"]:
                    cells.append({"row": row, "column": f"{COUNT_COLUMN[item]} (strictly trainable, paper architecture)",
                                  "value": c["trainable"] / printed_unit(th.unit), "exact_count": c["trainable"],
                                  "compare_with": COUNT_COLUMN[item], "scale_independent": True})
                how = ("truncates" if cmp["truncates_to_printed"] else "rounds" if cmp["rounds_to_printed"]
                       else "does not truncate or round")
                notes.append(f"{row}: {c['thesis']:,} weights at the thesis's input size {how} to the printed "
                             f"{th.value:g}{th.unit.split()[0]} (relative difference {100 * cmp['rel_diff']:+.2f}%).")
            else:
                cells.append({"row": row, "column": f"{COUNT_COLUMN[item]} {EXACT_COLUMN}", "value": c["thesis"]})
            if "inventory_reading" in c:
                notes.append(f"{row}: INVENTORY section 8's reading (trainable batch norm + full-length DC output "
                             f"layer) gives {c['inventory_reading']:,}; trainable weights only: {c['trainable']:,}.")
        notes.append("Paper-architecture counts are exact and scale-independent (no training; results/<scale>/"
                     "param_counts_ch4/): they check the architecture against the thesis at every scale.")
        if item == "table_4_5":
            notes.append(f"Paper architecture: 32x32 RGB input, scattering J = {p['scattering']['J']}, "
                         f"L = {p['scattering']['L']} (15 552 features), whatever the scale's own scattering.")
        ctx.write_result(item, {"item": item, "scale_independent": True, "seeds": [], "cells": cells, "notes": notes})
