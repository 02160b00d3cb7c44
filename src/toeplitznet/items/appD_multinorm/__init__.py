"""Appendix D: robustness to several norms (Theorem D.1's volume bound; ℓ2 vs ℓ∞ adversarial training,
MAT, noise injection, RAT). Table D.1 is built; the trained items are pending."""

from ...registry import Item

PENDING = [
    Item(id="table_D_2", kind="table", title="average ℓ2 / ℓ∞ norms of PGD adversarial examples", thesis_lines="L8219-8245"),
    Item(id="fig_D_2", kind="figure", title="C&W examples inside the ℓ∞ ball / the ℓ2 ball only / outside",
         thesis_lines="L8255-8309"),
    Item(id="table_D_3", kind="table", title="defences (AT, MAT, NI, RAT) against ℓ2 and ℓ∞ PGD", thesis_lines="L8310-8451"),
]
