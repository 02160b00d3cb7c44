"""Appendix C's directional claims (noise injection), judged by the claims check on the runs and the
``appC_suite`` evaluations of Figure C.1 and Table C.1 (Gaussian noise). Theorem C.2's guarantee against the
empirical accuracy under attack (L7879-7881) is not judged: the two are at different perturbation norms, and
the thesis prints no value of the bound (docs/claims.md)."""

from ...claims.model import Arm, Claim

_SUITE = {"kind": "suite"}

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
                    key="parts.pgd_linf_*.accuracy", labels={"dataset": "cifar10", "dist": "gaussian", "sd": "$max"}),
                Arm(name="undefended", item="table_C_1", source="evaluation", evaluation=_SUITE,
                    key="parts.pgd_linf_*.accuracy", labels={"dataset": "cifar10", "arm": "baseline"}))),
]
