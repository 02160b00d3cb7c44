"""The claims check: the thesis's directional claims as data, judged on seed-level results with confidence
intervals and a three-way verdict (holds / contradicted / inconclusive). See docs/claims.md.

- :mod:`.model`: :class:`Claim` and :class:`Arm` (declared in the chapter packages' ``CLAIMS``);
- :mod:`.stats`: Welch / paired / slope t intervals, a paired bootstrap, the verdict rule;
- :mod:`.select`: from an arm to the run, evaluation or result file, and to one value per seed;
- :mod:`.judge`: one claim's statistic, interval and verdict.

No torch import.
"""

from .judge import judge_claim
from .model import Arm, Claim, ClaimError
from .stats import CONTRADICTED, HOLDS, INCONCLUSIVE, Interval, verdict

__all__ = ["Arm", "Claim", "ClaimError", "judge_claim", "Interval", "verdict", "HOLDS", "CONTRADICTED",
           "INCONCLUSIVE"]
