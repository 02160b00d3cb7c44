"""Table C.2: randomised WRNs (Normal / Laplace noise, sd 0.32 and 0.5) beside adversarial training (Madry et
al. 2018) on CIFAR-10: natural accuracy, PGD-ℓ∞ (20 steps, ε 0.06, step 0.006 on [-1, 1]) and C&W-ℓ2 (30 steps,
9 binary-search steps, lr 0.01), EoT over 80 draws (thesis L7914-7941, caption L7922-7927).

The "Madry et al." column is probably quoted from Madry et al. (0.873 is their natural accuracy; INVENTORY 26):
its cells are the thesis's, marked cited; beside it our own adversarially trained WRN, Section 5.5's run
``ch5_cifar10_at`` (the same method, reused, not retrained), under the same attacks. Not in the thesis:
AutoAttack ``rand`` (APGD-CE / APGD-DLR with EoT, repeated over noise draws keeping the worst) and Cohen et
al.'s randomised-smoothing certificate of the Gaussian models (Clopper-Pearson, ``smoothing``).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import AUTOATTACK, CW, PGD, _report as R, _runs, item_schema

SMOOTHING = """
description: not in thesis - Cohen et al. (2019) certificate of the Gaussian models (null = not run)
oneOf:
  - {type: "null"}
  - type: object
    additionalProperties: false
    required: [n0, n, alpha, radii, examples]
    properties:
      n0: {$ref: "#/$defs/posint", description: selection draws (Cohen 100)}
      n: {$ref: "#/$defs/posint", description: estimation draws (Cohen 100000)}
      alpha: {type: number, exclusiveMinimum: 0, exclusiveMaximum: 1}
      radii: {type: array, minItems: 1, items: {type: number, minimum: 0}, description: "l2 radii, [-1, 1] scale"}
      examples: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
"""
SCHEMA = item_schema("""
type: object
additionalProperties: false
required: [dists, sds, examples, eot_samples, pgd, cw, at_model, autoattack, smoothing]
properties:
  dists: {type: array, minItems: 1, uniqueItems: true, items: {enum: [gaussian, laplace]}}
  sds: {type: array, minItems: 1, uniqueItems: true, items: {$ref: "#/$defs/posnum"}, description: "[-1, 1] scale"}
  examples: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  eot_samples: {$ref: "#/$defs/posint"}
  at_model: {type: boolean, description: "show Section 5.5's AT model (ch5_cifar10_at) beside the cited column"}
  pgd: PGD
  cw: CW
  autoattack: AA
  smoothing: SM
""", pgd=PGD, cw=CW, autoattack=AUTOATTACK, smoothing=SMOOTHING)
ITEM = Item(id="table_C_2", kind="table", title="randomised networks vs Madry et al.'s adversarial training",
            thesis_lines="L7914-7941", status=IMPLEMENTED, schema=SCHEMA, uses=(_runs.SECTION, "ch5_robust_train"))
ROWS = {"natural": "No attack [- -]", "pgd_linf": "linf - PGD 20", "cw_l2": "l2 - C&W 30",
        "autoattack": "linf - AutoAttack rand (not in thesis)"}
AT_COLUMN = "AT, ours (ch5_cifar10_at; not in thesis)"


def _runs_of(config, paths=None):
    p = config["studies"][ITEM.id]
    out = _runs.noise_runs(config, p["dists"], p["sds"], paths)
    if p["at_model"]:
        out.update(_runs.at_runs(config, paths))
    return out


def logical_evals(config):
    p = config["studies"][ITEM.id]
    n, k = p["examples"], int(p["eot_samples"])
    base = dict([_runs.natural(config), _runs.pgd(config, p["pgd"], k, n), _runs.cw(config, p["cw"], k, n)])
    out = {}
    for rid, spec in _runs_of(config).items():
        ev = dict(base)
        noise = spec["model"].get("noise")
        if noise and p["autoattack"]:
            ev.update([_runs.autoattack(config, p["autoattack"], n)])
        if noise and noise["dist"] == "gaussian" and p["smoothing"]:
            ev.update([_runs.smoothing(config, p["smoothing"], p["smoothing"]["examples"])])
        out[rid] = ev
    return out


def column_of(lab) -> str:
    return f"{_runs.DIST_ROW[lab['dist']]} sd {lab['sd']:g}" if lab.get("dist") else AT_COLUMN


def cells_of(col, evals) -> list[dict]:
    cells = []
    for rid in col.runs():
        column = column_of(col.labels(rid))
        for eid, spec in evals.get(rid, {}).items():
            if spec["kind"] == "smoothing":
                for r in spec["radii"]:
                    rr = 2 * r  # back to the [-1, 1] scale of the config
                    v = col.value(rid, eid, lambda res, r=r: (res.get("certified_accuracy") or {}).get(f"{float(r):g}"))
                    if v is not None:
                        cells.append({"row": f"Cohen et al. certified l2 r={rr:g} (not in thesis)", "column": column, **v})
                continue
            v = col.value(rid, eid, R.accuracy)
            if v is not None:
                key = "natural" if spec["kind"] == "noisy_accuracy" else spec["attack"]
                cells.append({"row": ROWS[key], "column": column, **v})
    return cells


def notes_of(config):
    p = config["studies"][ITEM.id]
    g, c = p["pgd"], p["cw"]
    out = [R.training_note(config), R.prediction_note(config),
           f"Attacks (on [-1, 1]; L7922-7927) on {'all' if p['examples'] is None else 'the first ' + str(p['examples'])} "
           f"test images, EoT over {p['eot_samples']} draws: PGD-linf eps {g['eps']}, step {g['step']}, {g['steps']} "
           f"steps, true labels; C&W-l2 {c['binary_search_steps']} x {c['steps']} steps, lr {c['lr']}, bound {c['bound']} "
           "(null = unbounded).",
           "Madry et al.: the thesis's numbers, probably quoted from Madry et al. 2018 (0.873 is their natural accuracy) "
           "- cited, not reproduced. Beside them our AT model, Section 5.5's ch5_cifar10_at (PGD-linf adversarial "
           "training, settings of studies.ch5_robust_train), under the same attacks (deterministic: no EoT needed)."]
    if p["autoattack"]:
        a = p["autoattack"]
        out.append(f"AutoAttack rand (not in thesis): APGD-CE + APGD-DLR, eps {a['eps']}, {a['steps']} iterations, EoT "
                   f"{a['eot_iter']}; repeated over {a['repeats']} noise draws, an image counts as robust only if it "
                   "survives every repetition.")
    if p["smoothing"]:
        s = p["smoothing"]
        out.append(f"Cohen et al. 2019 certificate (not in thesis) of the Gaussian models, read as base classifiers: "
                   f"N0 = {s['n0']}, N = {s['n']}, alpha = {s['alpha']} (one-sided Clopper-Pearson), radius "
                   "sd Phi^-1(pA_lower) (radii on [-1, 1]); certified accuracy = correct and radius >= r.")
    return out


def setting_cells(p) -> list[dict]:
    """The caption's settings (L7922-7927) echoed from the config (on [-1, 1])."""
    return [{"row": "PGD", "column": "epsilon", "value": p["pgd"]["eps"]},
            {"row": "PGD", "column": "step size", "value": p["pgd"]["step"]},
            {"row": "C&W", "column": "binary search steps", "value": p["cw"]["binary_search_steps"]},
            {"row": "C&W", "column": "learning rate", "value": p["cw"]["lr"]}]


def run(ctx) -> None:
    col = R.collect(ctx.inputs)
    res = R.base_result(ITEM.id, col, ctx.params["notes"], ctx.params)
    res["cells"] = cells_of(col, ctx.params["evals"]) + setting_cells(ctx.params)
    ctx.write_result("result", res)


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, logical_evals, notes_of)
