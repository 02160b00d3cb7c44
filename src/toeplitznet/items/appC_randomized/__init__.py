"""Appendix C: randomised networks (noise injection, EoT attacks, the Theorem C.2 guarantee). Pending."""

from ...registry import Item

PENDING = [
    Item(id="fig_C_1", kind="figure", title="accuracy vs sd of injected Gaussian / Laplace noise", thesis_lines="L7862-7887"),
    Item(id="fig_C_2", kind="figure", title="guaranteed accuracy (Thm C.2) vs perturbation norm, Gaussian noise",
         thesis_lines="L7870-7889"),
    Item(id="fig_C_3", kind="figure", title="guaranteed accuracy (Thm C.2) vs perturbation norm, Laplace noise",
         thesis_lines="L7870-7891"),
    Item(id="table_C_1", kind="table", title="randomised WRN under EAD / C&W / PGD (EoT)", thesis_lines="L7884-7912"),
    Item(id="table_C_2", kind="table", title="randomised networks vs Madry et al.'s adversarial training",
         thesis_lines="L7914-7941"),
]
