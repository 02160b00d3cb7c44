"""The result type every attack of :mod:`toeplitznet.attacks` returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = ["AttackResult"]


@dataclass
class AttackResult:
    """Outcome of an attack on a batch ``(x, y)`` of ``N`` examples.

    ``x_adv`` (same shape as ``x``) holds the point kept per example, inside the threat model's ball and
    [0, 1]; ``robust`` (bool, ``(N,)``) is True where no evaluated point of the ball was misclassified, i.e.
    False = broken within the budget (a clean misclassification counts as broken). ``robust_at`` (PGD only) maps
    an iteration count ``k`` to the per-example robustness against every iterate up to ``k`` of every restart;
    it is non-increasing in ``k``. ``extra`` carries attack-specific diagnostics (documented per attack).
    """

    x_adv: Tensor
    robust: Tensor
    robust_at: dict[int, Tensor] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        """Robust accuracy: the fraction of examples with ``robust`` True (NaN for an empty batch)."""
        if self.robust.numel() == 0:
            return float("nan")
        return float(self.robust.float().mean())

    @property
    def accuracy_at(self) -> dict[int, float]:
        """``{k: robust accuracy against iterates up to k}`` from ``robust_at``."""
        return {k: float(v.float().mean()) for k, v in sorted(self.robust_at.items())}

    def to(self, device: torch.device | str) -> AttackResult:
        """A copy with every tensor (also in ``robust_at``) moved to ``device``; ``extra`` is shallow-copied."""
        return AttackResult(self.x_adv.to(device), self.robust.to(device),
                            {k: v.to(device) for k, v in self.robust_at.items()}, dict(self.extra))
