"""Figure C.3: Theorem C.2's guaranteed accuracy against the ℓ1 norm of the adversarial perturbation for
randomised WRNs with Laplace noise of several sds (thesis L7870-7883, caption L7890-7891).

Laplace scale b = sd / √2; ε(α) = α / b (``laplace_form: exponential_family``, Theorem C.1's exponential-family
case = the max-divergence, valid for every λ) or the exact order-λ Rényi divergence (``renyi``); derivation in
``docs/appendix_c.md``. Shared machinery: :mod:`._guarantee`.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _guarantee as G, _report as R, _runs

REFERENCE = "figC_3_laplace_noise_certified_accuracy_vs_l1_radius_DIGITIZED_from_pdf.csv"
SCHEMA = G.schema(", laplace_form", '  laplace_form: {enum: [exponential_family, renyi], description: '
                  '"eps(alpha) - alpha sqrt(2) / sd (Theorem C.1, exponential family) or the exact Renyi divergence"}\n')
ITEM = Item(id="fig_C_3", kind="figure", title="guaranteed accuracy (Thm C.2) vs perturbation norm, Laplace noise",
            thesis_lines="L7870-7891", status=IMPLEMENTED, schema=SCHEMA, uses=(_runs.SECTION,),
            reference=(REFERENCE,))
DIST = "laplace"

_runs_of = G.runs_of(ITEM.id, DIST)
logical_evals = G.logical_evals_of(ITEM.id, DIST)


def notes_of(config):
    form = config["studies"][ITEM.id]["laplace_form"]
    text = ("eps = alpha sqrt(2) / sd (Theorem C.1, exponential-family case)" if form == "exponential_family" else
            "eps = the exact order-lambda Renyi divergence of an l1 shift alpha (worst case: one coordinate)")
    return G.notes_of(ITEM.id, "l1", text)(config)


def run(ctx) -> None:
    G.run_item(ctx, ITEM.id, DIST, laplace_form=ctx.params["laplace_form"])


def plot(ctx) -> None:
    G.plot_item(ctx, ITEM.id, "Figure C.3: guaranteed accuracy (Theorem C.2), Laplace noise (CIFAR-10)",
                "l1 norm of the adversarial perturbation ([-1, 1] scale)")


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, logical_evals, notes_of)
