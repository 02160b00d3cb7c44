"""Section 5.5's directional claims (Lipschitz-regularised adversarial training), judged by the claims check.

Arms read the evaluations Tables 5.3 and Figure 5.4 plan (PGD-linf, bounded C&W, the certified evaluation's
natural accuracy, per-example input-Jacobian norms) on the CIFAR-10 arms (Fashion-MNIST stands in below paper
scale). Thesis lines from the claims catalogue in docs/claims.md.
"""

from ...claims.model import Arm, Claim

_PGD = {"kind": "pgd", "norm": "linf"}
_CW = {"kind": "cw_l2"}


def _arm(name: str, arm: str, evaluation, key, item: str = "table_5_3", reduce: str = "mean") -> Arm:
    return Arm(name=name, item=item, source="evaluation", key=key, evaluation=evaluation, reduce=reduce,
               labels={"dataset": "cifar10", "arm": arm})


CLAIMS = [
    Claim(id="atlipreg_beats_at_pgd", thesis_lines="L6170-6171, L6177-6178",
          text="AT+LipReg is more robust than AT under PGD-linf",
          statistic="difference", direction=">",
          arms=(_arm("AT+LipReg", "at_lipreg", _PGD, "accuracy"), _arm("AT", "at", _PGD, "accuracy"))),
    Claim(id="atlipreg_beats_at_cw", thesis_lines="L6177-6178, L6210",
          text="AT+LipReg is more robust than AT under bounded C&W-l2 (mean over the bounds)",
          statistic="difference", direction=">",
          arms=(_arm("AT+LipReg", "at_lipreg", _CW, "accuracy_at.*"), _arm("AT", "at", _CW, "accuracy_at.*"))),
    Claim(id="atlipreg_geq_atpm", thesis_lines="L6171-6172",
          text="AT+LipReg is more robust than AT+PM (power-method regulariser) under PGD-linf",
          statistic="difference", direction=">",
          arms=(_arm("AT+LipReg", "at_lipreg", _PGD, "accuracy"), _arm("AT+PM", "at_pm", _PGD, "accuracy")),
          note="CIFAR-10 only in the thesis; its C&W gaps are about one sd"),
    Claim(id="lipreg_thins_jacobian_tail", thesis_lines="L6217-6219",
          text="LipReg lowers the upper tail (90th percentile) of the input-Jacobian norm against the baseline",
          statistic="difference", direction="<",
          arms=(_arm("LipReg", "lipreg", {"kind": "jacobian_norm"}, "values", "fig_5_4", "quantile:0.9"),
                _arm("Baseline", "baseline", {"kind": "jacobian_norm"}, "values", "fig_5_4", "quantile:0.9")),
          note="the thesis says the median goes up while the tail goes down; the 90th percentile is our choice"),
    Claim(id="atlipreg_thins_jacobian_tail", thesis_lines="L6222-6223",
          text="AT+LipReg lowers the upper tail (90th percentile) of the input-Jacobian norm against AT",
          statistic="difference", direction="<",
          arms=(_arm("AT+LipReg", "at_lipreg", {"kind": "jacobian_norm"}, "values", "fig_5_4", "quantile:0.9"),
                _arm("AT", "at", {"kind": "jacobian_norm"}, "values", "fig_5_4", "quantile:0.9"))),
    Claim(id="atlipreg_natural_lower_cifar", thesis_lines="L6193, L6195 (Table 5.3); L6382-6383",
          text="on CIFAR, AT+LipReg has a lower natural accuracy than AT (Table 5.3; on ImageNet the thesis says "
               "higher, L6174-6176)",
          statistic="difference", direction="<",
          arms=(_arm("AT+LipReg", "at_lipreg", {"kind": "certified"}, "natural_accuracy"),
                _arm("AT", "at", {"kind": "certified"}, "natural_accuracy")),
          note="visible only in Table 5.3's numbers; the text never says it for CIFAR"),
]
