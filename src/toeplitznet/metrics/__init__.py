"""Evaluation metrics.

* :func:`global_average_precision`, :class:`GAPCalculator` -- the YouTube-8M GAP@k (thesis Eq. B.4, L7203-7213;
  Tables 4.3, 4.4, B.1-B.3).
"""

from .gap import GAPCalculator, global_average_precision

__all__ = ["GAPCalculator", "global_average_precision"]
