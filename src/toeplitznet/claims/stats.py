"""Statistics of the claims check: intervals for seed-level effects and a three-way verdict.

A directional claim of the thesis ("A beats B", "accuracy falls with the Lipschitz constant") is judged
from the seed-level results of trained runs. Each helper returns an :class:`Interval` (estimate and a
two-sided confidence interval); :func:`verdict` turns it into ``"holds"``, ``"contradicted"`` or
``"inconclusive"`` with a one-sentence reason:

* :func:`welch_difference` - difference of means of two independent arms (Welch t interval).
* :func:`paired_difference` - mean of paired differences (paired t interval).
* :func:`slope` - OLS slope of ``y`` on ``x`` over seed-level points (t interval on ``n - 2`` df).
* :func:`bootstrap_difference` - paired bootstrap over test examples and seeds of a per-example
  correctness difference (percentile interval).
* :func:`exact_verdict` - a deterministic quantity (a computed bound): no sampling, holds or contradicted.

An interval is undefined (``low``/``high`` None) when the data cannot give one, e.g. a single seed per
arm: one seed never decides a claim, so the verdict is then ``"inconclusive"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as _st

HOLDS = "holds"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"

__all__ = [
    "HOLDS",
    "CONTRADICTED",
    "INCONCLUSIVE",
    "Interval",
    "welch_difference",
    "paired_difference",
    "slope",
    "bootstrap_difference",
    "verdict",
    "exact_verdict",
]

_DIRECTIONS = (">", "<")


def _json_float(v) -> float | None:
    """``float(v)``, or None for None / NaN / infinity (JSON has neither)."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided confidence interval at ``level``.

    ``estimate`` is None when the statistic is not computable (e.g. an empty arm); ``low`` and ``high``
    are None when no interval is defined (e.g. one seed per arm). ``n`` holds the sample sizes: per arm
    (Welch), number of pairs (paired), number of points (slope), or seeds per arm and test examples
    (bootstrap: ``(seeds_a, seeds_b, examples)``). ``df`` is the degrees of freedom of a t interval.
    """

    estimate: float | None
    low: float | None
    high: float | None
    level: float
    method: str
    n: tuple[int, ...]
    df: float | None = None

    @property
    def defined(self) -> bool:
        """True when estimate, low and high are all given."""
        return self.estimate is not None and self.low is not None and self.high is not None

    def as_dict(self) -> dict:
        """JSON-ready dict: floats or None (never NaN), ``n`` as a list of ints."""
        return {
            "estimate": _json_float(self.estimate),
            "low": _json_float(self.low),
            "high": _json_float(self.high),
            "level": float(self.level),
            "method": str(self.method),
            "n": [int(k) for k in self.n],
            "df": _json_float(self.df),
        }


# ----------------------------------------------------------------------------------------------- input


def _check_level(level: float) -> float:
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}") from None
    if not (0.0 < level < 1.0):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return level


def _vector(values, name: str) -> np.ndarray:
    """``values`` as a finite 1-D float array; ValueError naming ``name`` and the bad index otherwise."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}: non-finite value {arr[i]!r} at index {i}")
    return arr


def _var(x: np.ndarray) -> float:
    """Sample variance (ddof=1); exactly 0 for constant samples (no round-off residue)."""
    if np.ptp(x) == 0:
        return 0.0
    return float(np.var(x, ddof=1))


def _t_interval(est: float, se: float, df: float | None, level: float) -> tuple[float, float]:
    if se == 0.0:
        return est, est
    q = float(_st.t.ppf(0.5 + level / 2.0, df))
    return est - q * se, est + q * se


# ----------------------------------------------------------------------------------------- intervals


def welch_difference(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval:
    """``mean(a) - mean(b)`` with a Welch t interval (Welch-Satterthwaite df).

    The interval is None (the estimate is still given) when either arm has fewer than 2 values; the
    estimate is None when an arm is empty. When both sample variances are 0 (n >= 2 each) the interval
    has zero width at the estimate and ``df`` is None (0/0).
    """
    level = _check_level(level)
    a, b = _vector(a, "arm a"), _vector(b, "arm b")
    na, nb = a.size, b.size
    if na == 0 or nb == 0:
        return Interval(None, None, None, level, "welch-t", (na, nb))
    est = float(a.mean() - b.mean())
    if na < 2 or nb < 2:
        return Interval(est, None, None, level, "welch-t", (na, nb))
    va, vb = _var(a) / na, _var(b) / nb
    if va + vb == 0.0:
        return Interval(est, est, est, level, "welch-t", (na, nb), None)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    low, high = _t_interval(est, math.sqrt(va + vb), df, level)
    return Interval(est, low, high, level, "welch-t", (na, nb), float(df))


def paired_difference(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval:
    """``mean(a_i - b_i)`` with a paired t interval on ``n - 1`` df (``a`` and ``b`` of equal length).

    The interval is None for a single pair; zero width when all differences are equal.
    """
    level = _check_level(level)
    a, b = _vector(a, "arm a"), _vector(b, "arm b")
    if a.size != b.size:
        raise ValueError(f"paired_difference needs equal lengths, got len(a)={a.size} and len(b)={b.size}")
    n = a.size
    if n == 0:
        return Interval(None, None, None, level, "paired-t", (n,))
    d = a - b
    est = float(d.mean())
    if n < 2:
        return Interval(est, None, None, level, "paired-t", (n,))
    df = n - 1
    low, high = _t_interval(est, math.sqrt(_var(d) / n), df, level)
    return Interval(est, low, high, level, "paired-t", (n,), float(df))


def slope(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Interval:
    """OLS slope of ``y`` on ``x`` over all points, with a t interval on ``n - 2`` df.

    Several ``y`` per ``x`` are allowed (seed-level points). The estimate is None with fewer than 2
    distinct ``x``; the interval is None with fewer than 3 points; zero width for a perfect fit.
    """
    level = _check_level(level)
    x, y = _vector(x, "x"), _vector(y, "y")
    if x.size != y.size:
        raise ValueError(f"slope needs equal lengths, got len(x)={x.size} and len(y)={y.size}")
    n = x.size
    if n < 2 or np.ptp(x) == 0:
        return Interval(None, None, None, level, "ols-slope-t", (n,))
    xc = x - x.mean()
    sxx = float(xc @ xc)
    est = float(xc @ (y - y.mean()) / sxx)
    if n < 3:
        return Interval(est, None, None, level, "ols-slope-t", (n,))
    resid = (y - y.mean()) - est * xc
    sse = float(resid @ resid)
    df = n - 2
    low, high = _t_interval(est, math.sqrt(sse / df / sxx), df, level)
    return Interval(est, low, high, level, "ols-slope-t", (n,), float(df))


def _correctness(arrays, name: str) -> np.ndarray:
    """Per-seed per-example arrays as a ``(seeds, examples)`` float matrix, validated."""
    rows = []
    for s, arr in enumerate(arrays):
        rows.append(_vector(arr, f"{name} seed {s}"))
    lengths = {r.size for r in rows}
    if len(lengths) > 1:
        raise ValueError(f"{name}: per-seed arrays differ in length: {[r.size for r in rows]}")
    if not rows:
        return np.zeros((0, 0))
    return np.stack(rows)


def bootstrap_difference(a_correct, b_correct, level: float = 0.95, n_boot: int = 2000,
                         seed: int = 0) -> Interval:
    """Paired bootstrap of ``mean(a) - mean(b)`` over test examples and seeds (percentile interval).

    ``a_correct`` / ``b_correct``: one array per seed of per-example correctness (0/1) on the same test
    examples (example ``i`` is the same in every array, both arms). Each replicate draws the example
    indices with replacement once for both arms (paired over examples) and the seeds with replacement:
    one draw shared by both arms when they have equally many seeds (seed ``i`` of ``a`` pairs with seed
    ``i`` of ``b``), independent draws otherwise. The interval is None when an arm has a single seed (one
    seed never decides); ``n = (seeds_a, seeds_b, examples)``. Deterministic for a given ``seed``.
    """
    level = _check_level(level)
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot!r}")
    n_boot = int(n_boot)
    A = _correctness(a_correct, "arm a")
    B = _correctness(b_correct, "arm b")
    sa, sb = A.shape[0], B.shape[0]
    if sa and sb and A.shape[1] != B.shape[1]:
        raise ValueError(f"arms differ in number of test examples: a has {A.shape[1]}, b has {B.shape[1]}")
    m = A.shape[1] if sa else (B.shape[1] if sb else 0)
    n = (sa, sb, m)
    if sa == 0 or sb == 0 or m == 0:
        return Interval(None, None, None, level, "bootstrap", n)
    est = float(A.mean() - B.mean())
    if sa < 2 or sb < 2:
        return Interval(est, None, None, level, "bootstrap", n)
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for k in range(n_boot):
        w = np.bincount(rng.integers(0, m, m), minlength=m).astype(float)  # example multiplicities
        ia = rng.integers(0, sa, sa)
        ib = ia if sa == sb else rng.integers(0, sb, sb)
        pa, pb = A @ w / m, B @ w / m  # per-seed accuracy on the resampled examples
        boots[k] = pa[ia].mean() - pb[ib].mean()
    alpha = 1.0 - level
    low, high = np.quantile(boots, [alpha / 2.0, 1.0 - alpha / 2.0])
    return Interval(est, float(low), float(high), level, "bootstrap", n)


# ------------------------------------------------------------------------------------------- verdicts


def _g(v: float) -> str:
    return f"{v:.3g}"


def _check_direction(direction: str) -> None:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be '>' or '<', got {direction!r}")


def _why_undefined(iv: Interval) -> str:
    """Short reason an interval (or its estimate) is undefined."""
    if iv.method == "ols-slope-t":
        if iv.estimate is None:
            return f"fewer than 2 distinct x values (n={iv.n[0]}): no slope"
        return f"fewer than 3 points (n={iv.n[0]}): no interval"
    arms = iv.n[:2] if iv.method == "bootstrap" else iv.n
    if iv.estimate is None:
        return f"no data (n={tuple(iv.n)}): no estimate"
    if iv.method == "paired-t":
        return "one pair: no interval"
    if all(k == 1 for k in arms):
        return "one seed per arm: no interval"
    if any(k < 2 for k in arms):
        return f"an arm has a single seed (n={tuple(arms)}): no interval"
    return "no interval"


def verdict(interval: Interval, direction: str, threshold: float = 0.0) -> tuple[str, str]:
    """Judge the claim ``statistic <direction> threshold`` (``direction`` is ``">"`` or ``"<"``).

    ``"holds"`` when the whole interval lies strictly on the asserted side of ``threshold``,
    ``"contradicted"`` when it lies strictly on the other side, ``"inconclusive"`` otherwise (it contains
    or touches the threshold, or is undefined). Returns ``(verdict, reason)``.
    """
    _check_direction(direction)
    t = float(threshold)
    claim = f"claim {direction} {_g(t)}"
    if not interval.defined:
        why = _why_undefined(interval)
        if interval.estimate is not None:
            why += f" (estimate {_g(interval.estimate)})"
        return INCONCLUSIVE, f"{why}: {claim} undecided."
    est, low, high = interval.estimate, interval.low, interval.high
    ci = f"estimate {_g(est)}, {_g(100 * interval.level)}% CI [{_g(low)}, {_g(high)}] ({interval.method})"
    above, below = low > t, high < t
    if (direction == ">" and above) or (direction == "<" and below):
        return HOLDS, f"{ci} lies entirely {'above' if above else 'below'} {_g(t)}: {claim} holds."
    if above or below:
        return CONTRADICTED, f"{ci} lies entirely {'above' if above else 'below'} {_g(t)}: {claim} contradicted."
    return INCONCLUSIVE, f"{ci} contains or touches {_g(t)}: {claim} undecided."


def exact_verdict(value: float, direction: str, threshold: float = 0.0) -> tuple[Interval, tuple[str, str]]:
    """Judge a deterministic claim (a computed bound, no sampling): ``value <direction> threshold``.

    Returns a zero-width ``"exact"`` interval (level 1) and ``(verdict, reason)``, ``"holds"`` or
    ``"contradicted"`` only (equality contradicts the strict claim). ValueError for a non-finite value.
    """
    _check_direction(direction)
    v = float(_vector([value], "value")[0])
    t = float(threshold)
    iv = Interval(v, v, v, 1.0, "exact", (1,))
    holds = v > t if direction == ">" else v < t
    rel = "above" if v > t else ("below" if v < t else "equal to")
    claim = f"claim {direction} {_g(t)}"
    return iv, (HOLDS if holds else CONTRADICTED,
                f"exact value {_g(v)} is {rel} {_g(t)}: {claim} {'holds' if holds else 'contradicted'}.")
