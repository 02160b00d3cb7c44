"""Appendix D's directional claims (multi-norm defences), judged by the claims check on the ``pgd_multinorm``
evaluations of Table D.3 (PGD-linf and PGD-l2 on the same images, and their union)."""

from ...claims.model import Arm, Claim

_MN = {"kind": "adv_norms"}


def _arm(name: str, key: str, **labels) -> Arm:
    return Arm(name=name, item="table_D_3", source="evaluation", evaluation=_MN, key=key,
               labels={"dataset": "cifar10", **labels})


_AT_LINF = {"arm": "at"}  # Section 5.5's AT run is Appendix D's AT-linf
_AT_L2 = {"defence": "at_l2"}

CLAIMS = [
    Claim(id="l2_training_wins_l2_attack", thesis_lines="L7974-7975, L8361-8362",
          text="an l2-trained model is more accurate under PGD-l2 than an linf-trained one",
          statistic="difference", direction=">",
          arms=(_arm("AT-l2", "attacks.pgd_l2.accuracy", **_AT_L2), _arm("AT-linf", "attacks.pgd_l2.accuracy",
                                                                          **_AT_LINF))),
    Claim(id="linf_training_wins_linf_attack", thesis_lines="L7974-7975, L8361-8362",
          text="an linf-trained model is more accurate under PGD-linf than an l2-trained one",
          statistic="difference", direction=">",
          arms=(_arm("AT-linf", "attacks.pgd_linf.accuracy", **_AT_LINF),
                _arm("AT-l2", "attacks.pgd_linf.accuracy", **_AT_L2))),
    *[Claim(id=f"{mat}_improves_worst_case", thesis_lines="L8410-8412, L8464-8465",
            text=f"{label} is more accurate than AT-linf against the worst of PGD-linf and PGD-l2 (union)",
            statistic="difference", direction=">",
            arms=(_arm(label, "union_accuracy", defence=mat), _arm("AT-linf", "union_accuracy", **_AT_LINF)),
            note="the thesis says MAT beats AT against each attack, which its Table D.3 contradicts for PGD-linf; "
                 "the worst case over the two norms is the reading its numbers support")
      for mat, label in (("mat_max", "MAT-Max"), ("mat_rand", "MAT-Rand"))],
]
