"""Section 5.4's directional claims about LipBound, judged by the claims check. They are exact computations
(no training, no sampling): one value decides (statistic ``exact``)."""

from ...claims.model import Arm, Claim

CLAIMS = [
    Claim(id="lipbound_geq_sigma1", thesis_lines="L5736-5746, L5972-5997",
          text="LipBound is an upper bound: Gamma(n) = LipBound - sigma_1(M(n)) >= 0 for every kernel and size",
          statistic="exact", direction=">", threshold=-1e-9,
          arms=(Arm(name="min Gamma(n) over kernels and sizes", item="fig_5_2", source="result",
                    key="series.*.gamma", reduce="min"),),
          note="threshold -1e-9 absorbs the eigensolver's tolerance; the thesis's Table 5.1 ratios below 1 come "
               "from PolyGrid without its (1 - alpha)^-1 correction (docs/claims.md)"),
    Claim(id="polygrid_certified", thesis_lines="L5935-5952",
          text="PolyGrid's corrected maximum (Eq. 5.52) is at least the supremum on a fine grid, for every kernel",
          statistic="exact", direction=">", threshold=0.5,
          arms=(Arm(name="every panel's bound holds", item="fig_5_1", source="result",
                    key="panels.*.bound_holds", reduce="min"),),
          note="1 when the corrected bound holds on every panel, 0 otherwise"),
    Claim(id="gamma_decreases", thesis_lines="L5996-5997",
          text="the gap Gamma(n) decreases as the input size n grows",
          statistic="exact", direction=">", threshold=0.5,
          arms=(Arm(name="Gamma(n) non-increasing, every kernel", item="fig_5_2", source="cell",
                    key=("*", "Gamma(n) non-increasing in n"), reduce="min"),),
          note="an observation of the thesis (Figure 5.2), not a theorem"),
]
