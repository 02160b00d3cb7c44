"""Figure C.2: Theorem C.2's guaranteed accuracy against the ℓ2 norm of the adversarial perturbation for
randomised WRNs with Gaussian noise of several sds (thesis L7870-7883, caption L7888-7889).

ε(α) = λ α² / (2 sd²) (Theorem C.1, Gaussian case, noise on the image: the sensitivity of the identity is α).
Shared machinery: :mod:`._guarantee`.
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from . import _guarantee as G, _report as R, _runs

REFERENCE = "figC_2_gaussian_noise_certified_accuracy_vs_l2_radius_DIGITIZED_from_pdf.csv"
SCHEMA = G.schema()
ITEM = Item(id="fig_C_2", kind="figure", title="guaranteed accuracy (Thm C.2) vs perturbation norm, Gaussian noise",
            thesis_lines="L7870-7889", status=IMPLEMENTED, schema=SCHEMA, uses=(_runs.SECTION,),
            reference=(REFERENCE,))
DIST = "gaussian"

_runs_of = G.runs_of(ITEM.id, DIST)
logical_evals = G.logical_evals_of(ITEM.id, DIST)
notes_of = G.notes_of(ITEM.id, "l2", "eps = lambda alpha^2 / (2 sd^2)")


def run(ctx) -> None:
    G.run_item(ctx, ITEM.id, DIST)


def plot(ctx) -> None:
    G.plot_item(ctx, ITEM.id, "Figure C.2: guaranteed accuracy (Theorem C.2), Gaussian noise (CIFAR-10)",
                "l2 norm of the adversarial perturbation ([-1, 1] scale)")


runs, evaluations, inputs, job_config = R.item_hooks(ITEM.id, _runs_of, logical_evals, notes_of)
