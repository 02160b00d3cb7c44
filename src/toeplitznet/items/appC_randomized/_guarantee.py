"""What Figures C.2 and C.3 share: Theorem C.2's guaranteed accuracy vs the perturbation norm, one curve per sd,
from the Monte-Carlo ``guarantee`` evaluation of each randomised run (thesis L7870-7883: 10⁴ draws per image,
on a fixed set of test images, the same for every draw and every model). ε(α) and the bound:
:mod:`toeplitznet.robust.guarantee`; the derivation: ``docs/appendix_c.md``."""

from __future__ import annotations

from . import _report as R, _runs

SCHEMA = """
type: object
additionalProperties: false
required: [sds, draws, examples, alpha_max, alpha_points, renyi_order{extra_req}]
properties:
  sds: {{type: array, minItems: 1, uniqueItems: true, items: {{$ref: "#/$defs/posnum"}}, description: "[-1, 1] scale"}}
  draws: {{$ref: "#/$defs/posint", description: "Monte-Carlo draws per image (thesis 10^4)"}}
  examples: {{oneOf: [{{type: "null"}}, {{$ref: "#/$defs/posint"}}], description: fixed test images (the first of the test subset)}}
  alpha_max: {{$ref: "#/$defs/posnum", description: "largest perturbation norm drawn ([-1, 1] scale)"}}
  alpha_points: {{type: integer, minimum: 2}}
  renyi_order: {{type: number, minimum: 1, description: "lambda of Theorem C.1 (not stated; 1 = the KL limit, the smallest allowed)"}}
{extra}"""


def schema(extra_req: str = "", extra: str = "") -> str:
    return SCHEMA.format(extra_req=extra_req, extra=extra)


def runs_of(item_id: str, dist: str):
    def f(config, paths=None):
        return _runs.noise_runs(config, [dist], config["studies"][item_id]["sds"], paths)
    return f


def logical_evals_of(item_id: str, dist: str):
    def f(config):
        p = config["studies"][item_id]
        eid, spec = _runs.guarantee(config, p["draws"], p["examples"])
        return {rid: {eid: spec} for rid in runs_of(item_id, dist)(config)}
    return f


def notes_of(item_id: str, norm: str, eps_text: str):
    def f(config):
        p = config["studies"][item_id]
        images = "all" if p["examples"] is None else f"the first {p['examples']}"
        return [R.training_note(config),
                f"Guaranteed accuracy acc - 1 + exp(-eps(alpha)) E[exp(-H)] (Theorem C.2, L7786-7800), clipped at 0; "
                f"{norm} perturbations, {eps_text}, Renyi order lambda = {p['renyi_order']} (not stated). acc = the "
                "expected single-draw accuracy, H = the entropy of the empirical class frequencies over "
                f"{p['draws']} noisy passes per image (the author's compute_entropy.py), on {images} test images "
                "(the same images for every draw and every model).",
                "alpha and sd on the thesis's [-1, 1] scale (eps depends on alpha / sd only).",
                "The thesis's curves (dashed) are digitized from its PDF figures (reference/figure_data)."]
    return f


def series_of(col, evals, dist: str, alphas, *, renyi_order: float, laplace_form: str = "exponential_family"):
    from ...robust.guarantee import curve

    out = []
    for rid in col.runs():
        lab = col.labels(rid)
        for eid in evals.get(rid, {}):
            res = col.results(rid, eid)
            if not res:
                continue
            curves = [curve(r["accuracy"], r["mean_exp_neg_entropy"], dist, lab["sd"], alphas,
                            renyi_order=renyi_order, laplace_form=laplace_form) for r in res]
            mean = [sum(c[i] for c in curves) / len(curves) for i in range(len(alphas))]
            out.append({"run": rid, "sd": lab["sd"], "alphas": list(alphas), "guaranteed_accuracy": mean,
                        "accuracy": sum(r["accuracy"] for r in res) / len(res),
                        "mean_exp_neg_entropy": sum(r["mean_exp_neg_entropy"] for r in res) / len(res),
                        "mean_entropy": sum(r["mean_entropy"] for r in res) / len(res),
                        "draws": res[0]["draws"], "n": res[0]["n"], "n_seeds": len(res)})
    return sorted(out, key=lambda s: s["sd"])


def alphas_of(p) -> list[float]:
    k = int(p["alpha_points"])
    return [float(p["alpha_max"]) * i / (k - 1) for i in range(k)]


def run_item(ctx, item_id: str, dist: str, **kw) -> None:
    col = R.collect(ctx.inputs)
    res = R.base_result(item_id, col, ctx.params["notes"], ctx.params)
    res["series"] = series_of(col, ctx.params["evals"], dist, alphas_of(ctx.params),
                              renyi_order=float(ctx.params["renyi_order"]), **kw)
    res["cells"] = []
    ctx.write_result("result", res)


def plot_item(ctx, item_id: str, title: str, xlabel: str) -> None:
    from ...report.figures import load_result, new_figure, read_reference_csv, save_figure

    src, ref_path = ctx.input("result"), ctx.input("reference")
    res, ref = load_result(src), read_reference_csv(ref_path)
    fig, axes = new_figure(width=5.4, height=3.8)
    ax = axes[0][0]
    ours = {round(s["sd"], 6) for s in res["series"]}
    for i, s in enumerate(res["series"]):
        ax.plot(s["alphas"], s["guaranteed_accuracy"], color=f"C{i}", label=f"ours, sd = {s['sd']:g}")
        rows = sorted((float(r["x"]), float(r["y"])) for r in ref if abs(float(r["noise_sd"]) - s["sd"]) < 1e-9)
        if rows:
            ax.plot([x for x, _ in rows], [y for _, y in rows], "--", color=f"C{i}", alpha=0.6,
                    label=f"thesis, sd = {s['sd']:g}")
    others = sorted({float(r["noise_sd"]) for r in ref} - ours)
    for sd in others:
        rows = sorted((float(r["x"]), float(r["y"])) for r in ref if float(r["noise_sd"]) == sd)
        ax.plot([x for x, _ in rows], [y for _, y in rows], ":", color="0.6", lw=0.8)
    ax.plot([], [], ":", color="0.6", lw=0.8, label="thesis, other sds")
    ax.set_xlim(0, max([s["alphas"][-1] for s in res["series"]] or [1.0]))
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("guaranteed accuracy")
    ax.legend(fontsize=6, ncol=2)
    fig.suptitle(title, fontsize=9)
    save_figure(fig, ctx, item=item_id, sources=[src], reference=[ref_path], stand_in=res.get("stand_in"),
                notes=res.get("notes", []))
