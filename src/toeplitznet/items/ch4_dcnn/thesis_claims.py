"""Chapter 4's directional claims (DCNNs), judged by the claims check (:mod:`toeplitznet.items.claims`).

Every arm reads a run's final test accuracy (``metrics.json``) through the runs of an existing item, so the
claims check trains nothing of its own. ``$max`` / ``$min`` pick the deepest / shallowest network of a family
in the config. Thesis lines from the claims catalogue in docs/claims.md.
"""

from ...claims.model import Arm, Claim

ACC = "final_eval.test.accuracy"


def _acc(name: str, item: str, **labels) -> Arm:
    return Arm(name=name, item=item, source="metrics", key=ACC, labels=labels)


_DCNN_DEEP = {"family": "dcnn", "depth": "$max", "activation": "leaky_relu"}

CLAIMS = [
    Claim(id="dcnn_near_dense", thesis_lines="L4850-4852, E213",
          text="the deepest DCNN is as accurate as the dense network (within 2 points) with a small fraction of "
               "its weights",
          statistic="difference", direction=">", threshold=-0.02,
          arms=(_acc("DCNN (deepest)", "fig_4_5", **_DCNN_DEEP), _acc("dense", "fig_4_5", family="dense")),
          note="'as good as' read as a 2-point margin (the thesis: 0.56 vs 0.562, no seeds)"),
    *[Claim(id=f"dcnn_beats_{fam}", thesis_lines="L4852-4853, E249",
            text=f"DCNN is more accurate than the {label} network (the deepest of each family in the config)",
            statistic="difference", direction=">",
            arms=(_acc("DCNN (deepest)", "fig_4_5", **_DCNN_DEEP),
                  _acc(f"{label} (largest)", "fig_4_5", family=fam, **({"rank": "$max"} if fam == "lowrank"
                                                                        else {"depth": "$max"}))),
            note="the thesis states it only as 'the others do not reach dense accuracy' and ECAI's caption "
                 "'DCNNs outperform alternative structured approaches'; weights differ between the arms "
                 "(recorded in their metrics)")
      for fam, label in (("dtnn", "DTNN"), ("toeplitz", "Toeplitz"), ("lowrank", "low-rank"))],
    Claim(id="slope_helps_deep_dcnn", thesis_lines="L4767-4769, E155",
          text="a larger Leaky-ReLU slope helps the deepest DCNN (accuracy increases with the slope)",
          statistic="trend", direction=">",
          arms=(Arm(name="DCNN (deepest), every slope", item="fig_4_2", source="metrics", key=ACC,
                    labels={"family": "dcnn", "depth": "$max"}, x_label="slope"),),
          note="the thesis's criterion is 'convergence'; ours is final test accuracy"),
    Claim(id="relu_every_three_best", thesis_lines="E189-191",
          text="one ReLU every three layers beats one ReLU after every layer in a deep DCNN (ECAI only)",
          statistic="difference", direction=">",
          arms=(_acc("ReLU every 3 layers", "ecai_fig_2a", family="dcnn", activation="relu", relu_every=3,
                     depth="$max"),
                _acc("ReLU every layer", "ecai_fig_2a", family="dcnn", activation="relu", relu_every=1,
                     depth="$max")),
          note="ECAI Figure 2(a) only; the thesis announces the study (L3371-3372) but does not show it"),
    *[Claim(id=f"dcnn_beats_{kind}", thesis_lines="L4875-4877, E215",
            text=f"the smallest DCNN of Table 4.1 beats the smallest {label} network (with fewer weights)",
            statistic="difference", direction=">",
            arms=(_acc("DCNN (shallowest)", "table_4_1", family="dcnn", depth="$min"),
                  Arm(name=f"{label} (lowest rank)", item="table_4_1", source="metrics", key=ACC,
                      labels={"family": "ldr_net", "kind": ldr, "rank": "$min"})))
      for kind, ldr, label in (("ldr_td", "tridiagonal", "LDR-TD"), ("toeplitz_like", "toeplitz", "Toeplitz-like"))],
    Claim(id="dcnn_trains_where_acdc_struggles", thesis_lines="L4807-4808, L4820-4821, E245",
          text="a deep DCNN with ReLU is more accurate than an ACDC network of the same depth",
          statistic="difference", direction=">",
          arms=(_acc("DCNN (deepest)", "fig_4_4", family="dcnn", depth="$max"),
                _acc("ACDC (deepest)", "fig_4_4", family="acdc", depth="$max")),
          note="Figure 4.4's setting (ReLU networks on the stand-in data); Figure 4.3's linear regression has one "
               "seed and is not judged here"),
]
