"""Appendix C's directional claims (noise injection), judged by the claims check on the runs and the
``appC_suite`` evaluations of Figures C.1, C.2 and Table C.1 (Gaussian noise). Theorem C.2's guarantee is compared
with the empirical accuracy under the C&W-ℓ2 attack projected onto the ball of the same norm α
(``studies.table_C_1.cw.bound``), so it is judged only in a config that bounds that attack (the medium one); with
the thesis's unbounded C&W (``bound: null``) the claim is listed as not planned (docs/claims.md)."""

from ...claims.model import Arm, Claim

_SUITE = {"kind": "suite"}
#: the true-label EoT PGD-linf part of a suite (the author's-labels variant ends in "_pred"); a suite holds the
#: union of the appendix's evaluations, so patterns are anchored and read with reduce="only"
_PGD = "parts.pgd_linf_*[0-9].accuracy"

CLAIMS = [
    Claim(id="noise_lowers_natural_accuracy", thesis_lines="L7863-7864",
          text="natural accuracy decreases as the sd of the injected Gaussian noise grows",
          statistic="trend", direction="<",
          arms=(Arm(name="Gaussian noise, every sd", item="fig_C_1", source="evaluation", evaluation=_SUITE,
                    key="parts.natural_*.accuracy", labels={"dataset": "cifar10", "dist": "gaussian"},
                    x_label="sd"),)),
    Claim(id="noise_beats_undefended_eot_pgd", thesis_lines="L7910-7912 (Table C.1)",
          text="the model with the largest Gaussian noise keeps more accuracy under EoT PGD-linf than the "
               "undefended model",
          statistic="difference", direction=">",
          arms=(Arm(name="Gaussian noise (largest sd)", item="table_C_1", source="evaluation", evaluation=_SUITE,
                    key=_PGD, reduce="only", labels={"dataset": "cifar10", "dist": "gaussian", "sd": "$max"}),
                Arm(name="undefended", item="table_C_1", source="evaluation", evaluation=_SUITE,
                    key=_PGD, reduce="only", labels={"dataset": "cifar10", "arm": "baseline"}))),
    Claim(id="guarantee_below_empirical_accuracy", thesis_lines="L7877-7881 (Figure C.2, Table C.1)",
          text="the guaranteed accuracy of Theorem C.2 at an l2 norm alpha lies below the accuracy the randomised "
               "model keeps under an EoT C&W-l2 attack bounded by the same alpha",
          statistic="difference", direction=">",
          note="largest Gaussian sd; alpha = studies.table_C_1.cw.bound ([-1, 1] scale), the guarantee with "
               "studies.fig_C_2.renyi_order; both on the first test images of each item's 'examples'",
          arms=(Arm(name="accuracy under C&W-l2 (bounded at alpha, EoT)", item="table_C_1", source="evaluation",
                    evaluation=_SUITE, key="parts.cw_l2_b[0-9]*.accuracy", reduce="only",
                    labels={"dataset": "cifar10", "dist": "gaussian", "sd": "$max"}),
                Arm(name="Theorem C.2 guarantee at alpha", item="fig_C_2", source="evaluation", evaluation=_SUITE,
                    key="parts.guarantee_*", labels={"dataset": "cifar10", "dist": "gaussian", "sd": "$max"},
                    derive="thm_c2_guarantee",
                    derive_args={"alpha": "$config:studies.table_C_1.cw.bound",
                                 "renyi_order": "$config:studies.fig_C_2.renyi_order"}))),
]
