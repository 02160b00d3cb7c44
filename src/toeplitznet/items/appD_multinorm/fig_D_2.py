"""Figure D.2: where C&W-ℓ2 finds its adversarial examples, on an unprotected (left) and an AT-ℓ∞ (right)
model: inside the ℓ∞ ball of radius ε (blue), outside it but inside the ℓ2 ball of radius ε′ (red, the ℓ2
"cap"), outside the ℓ2 ball (grey), as ε′ goes from ε to ε√d (thesis L8255-8309, caption L8287-8292).

The C&W attack is foolbox's minimal-perturbation L2CarliniWagnerAttack
(:func:`toeplitznet.attacks.minimal_cw_l2`; one ``cw_regions`` evaluation per model), the models Table D.3's
Baseline and AT-ℓ∞. The caption's ε = 0.3 conflicts with CIFAR-10's 0.031 used everywhere else in Appendix D:
``eps`` is 0.031 at paper scale (0.3 is the option that redraws the thesis's figure); the thesis's curves
(its figure data, ε = 0.3, 10 000 examples) are drawn below ours. Which examples are counted is not stated:
``count: all`` (every attacked example; no adversarial found = outside) or ``successful``.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _report as R, _runs

REFERENCE = "figD_2_cw_adversarial_examples_by_region.csv"
SCHEMA = """
type: object
additionalProperties: false
required: [eps, n_radii, count, examples, cw]
properties:
  eps: {$ref: "#/$defs/posnum", description: "l_inf radius (thesis caption 0.3; CIFAR-10's 0.031 elsewhere)"}
  n_radii: {$ref: "#/$defs/posint", description: "points of eps' from eps to eps sqrt(d) (thesis data: 20)"}
  count: {enum: [all, successful], description: examples counted (thesis silent)}
  examples: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}], description: test examples attacked (null = all)}
  cw:
    type: object
    additionalProperties: false
    required: [binary_search_steps, steps, lr, initial_const, confidence]
    properties:
      binary_search_steps: {$ref: "#/$defs/posint"}
      steps: {$ref: "#/$defs/posint"}
      lr: {$ref: "#/$defs/posnum"}
      initial_const: {$ref: "#/$defs/posnum"}
      confidence: {type: number, minimum: 0}
"""
ITEM = Item(id="fig_D_2", kind="figure", title="C&W examples inside the ℓ∞ ball / the ℓ2 ball only / outside",
            thesis_lines="L8255-8309", status=IMPLEMENTED, schema=SCHEMA, uses=("appD_train",), reference=(REFERENCE,))
DEFENCES = ("baseline", "at_linf")
PANELS = {"baseline": ("left", "without adversarial training"), "at_linf": ("right", "with AT-linf")}
REGIONS = (("inside_linf", "inside_linf_ball", "inside the l_inf ball", "C0"),
           ("l2_cap", "l2_cap_outside_linf_inside_l2", "outside the l_inf ball, inside the l2 ball", "C3"),
           ("outside", "outside_l2_ball", "outside the l2 ball", "0.75"))


def _runs_of(config, paths=None):
    return _runs.specs(config, DEFENCES, paths)


def _evals(config):
    p = config["studies"][ITEM.id]
    spec = {"kind": "cw_regions", **{k: p["cw"][k] for k in p["cw"]}, "examples": p["examples"],
            "batch_size": int(config["studies"]["appD_train"]["eval_batch_size"])}
    return {rid: {_runs.CW_ID: dict(spec)} for rid in _runs_of(config)}


def _study(config):
    p = config["studies"][ITEM.id]
    return {"run_ids": _runs.run_ids(config, DEFENCES), "notes": [
        f"eps = {p['eps']:g} (the caption's 0.3 conflicts with CIFAR-10's 0.031; configurable), eps' in "
        f"{p['n_radii']} steps from eps to eps sqrt(d); examples counted: {p['count']}.",
        f"C&W-l2 (foolbox L2CarliniWagnerAttack, minimal perturbation): {p['cw']['binary_search_steps']} binary-search "
        f"steps, {p['cw']['steps']} steps, lr {p['cw']['lr']}, initial constant {p['cw']['initial_const']}, "
        f"confidence {p['cw']['confidence']} (not stated in Appendix D; Section 5.5's settings).",
        "Regions: inside the l_inf ball = ||d||_inf <= eps (whatever ||d||_2); l2 cap = ||d||_inf > eps and "
        "||d||_2 <= eps'; outside = the rest (and, with count: all, the examples C&W found no adversarial for)."]
        + _runs.reuse_notes(config)}


def run(ctx) -> None:
    col = R.Collected(ctx.inputs)
    p = ctx.params
    series = []
    for defence, rid in p["run_ids"].items():
        for rec in col.results(rid, _runs.CW_ID):  # one per seed
            rs = R.radii(float(p["eps"]), int(rec["dim"]), int(p["n_radii"]))
            series.append({"run": rid, "defence": defence, "label": _runs.label(defence), "dim": rec["dim"],
                           **R.region_counts(rec, float(p["eps"]), rs, p["count"])})
    res = R.base_result(ITEM.id, col, p["notes"])
    res["series"] = series
    res["cells"] = []
    ctx.write_result("result", res)


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, _evals, _study)


def plot(ctx) -> None:
    from ...report.figures import load_result, new_figure, read_reference_csv, save_figure

    src = ctx.input("result")
    res = load_result(src)
    ref_path = ctx.input("reference")
    ref = read_reference_csv(ref_path)
    fig, axes = new_figure(ncols=2, nrows=2, width=4.4, height=3.2)
    for j, defence in enumerate(DEFENCES):
        panel, title = PANELS[defence]
        ax = axes[0][j]
        for s in [s for s in res["series"] if s["defence"] == defence][:1]:  # the global seed's model
            found_out = [o - s["not_found"] for o in s["outside"]]
            ax.stackplot(s["radius"], s["inside_linf"], s["l2_cap"], found_out, [s["not_found"]] * len(s["radius"]),
                         labels=[lab for _, _, lab, _ in REGIONS] + ["no adversarial found"],
                         colors=[c for *_, c in REGIONS] + ["0.9"])
            ax.set_title(f"ours: {s['label']} ({s['run']}, n = {s['n']})", fontsize=8)
        ax_t = axes[1][j]
        rows = [r for r in ref if r["panel"] == panel]
        xs = sorted({float(r["x"]) for r in rows})
        ys = [[float(next(r["y"] for r in rows if r["series"] == name and float(r["x"]) == x)) for x in xs]
              for _, name, _, _ in REGIONS]
        ax_t.stackplot(xs, *ys, labels=[lab for _, _, lab, _ in REGIONS], colors=[c for *_, c in REGIONS])
        ax_t.set_title(f"thesis ({title}; eps = 0.3, its figure data)", fontsize=8)
        for a in (ax, ax_t):
            a.set_xlabel("l2 radius eps'")
            a.set_ylabel("C&W adversarial examples")
            a.legend(fontsize=5.5, loc="lower right")
    fig.suptitle("Figure D.2: C&W-l2 examples inside the l_inf ball / the l2 cap / outside", fontsize=9)
    save_figure(fig, ctx, item=ITEM.id, sources=[src], reference=[ref_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))
