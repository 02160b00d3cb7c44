"""Randomised-smoothing certificates of Cohen, Rosenfeld & Kolter (ICML 2019) for the Gaussian models of
Appendix C (not in the thesis; shown beside Theorem C.2's guarantee as today's standard certificate).

A network trained with Gaussian noise of sd σ on its input *is* the base classifier ``f(x + δ)``, δ ~ N(0, σ²I),
of the smoothed classifier ``g(x) = argmax_c P(f(x + δ) = c)``. CERTIFY (Cohen et al., Alg. 1): guess the top
class ``c_A`` from ``n0`` draws, count it in ``n`` fresh draws, bound ``p_A`` from below by the one-sided
Clopper-Pearson bound at level ``alpha``; if ``p_A_lower > 1/2`` then ``g`` returns ``c_A`` and is constant on
the ℓ2 ball of radius ``σ Φ⁻¹(p_A_lower)`` with probability ≥ 1 − alpha; otherwise it abstains.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["clopper_pearson_lower", "certify", "certified_accuracy"]

ABSTAIN = -1


def clopper_pearson_lower(k: int, n: int, alpha: float) -> float:
    """One-sided (1 − alpha) Clopper-Pearson lower bound of a binomial proportion with ``k`` successes in ``n``:
    the ``alpha`` quantile of Beta(k, n − k + 1) (0 for k = 0)."""
    from scipy.stats import beta

    k, n = int(k), int(n)
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return 0.0 if k == 0 else float(beta.ppf(alpha, k, n - k + 1))


def certify(noisy_model, x, *, sd: float, n0: int, n: int, alpha: float, batch_size: int = 100,
            n_classes: int | None = None) -> tuple[list[int], list[float]]:
    """CERTIFY per image of ``x``: ``(predictions, radii)``, prediction ``-1`` (abstain, radius 0) when
    ``p_A_lower <= 1/2``. ``noisy_model`` draws its own N(0, sd²) noise at every pass; ``sd`` and the radii are in
    the units of ``x``."""
    from scipy.stats import norm

    from .guarantee import class_counts

    sel = class_counts(noisy_model, x, n0, batch_size=batch_size, n_classes=n_classes)
    est = class_counts(noisy_model, x, n, batch_size=batch_size, n_classes=sel.shape[1])
    preds, radii = [], []
    for i in range(len(x)):
        c = int(sel[i].argmax())
        p_low = clopper_pearson_lower(int(est[i, c]), int(n), float(alpha))
        if p_low > 0.5:
            preds.append(c)
            radii.append(float(sd) * float(norm.ppf(p_low)))
        else:
            preds.append(ABSTAIN)
            radii.append(0.0)
    return preds, radii


def certified_accuracy(preds: Sequence[int], radii: Sequence[float], y: Sequence[int], at: Sequence[float]
                       ) -> dict[float, float]:
    """Fraction of images certified correct at radius ``r`` (prediction = label and radius ≥ r) for each r."""
    n = len(y)
    return {float(r): sum(1 for p, rad, t in zip(preds, radii, y) if p == int(t) and rad >= r) / n for r in at}
