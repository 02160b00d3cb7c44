"""Judge one claim from its arms' seed-level values: the statistic, its interval and a three-way verdict.

``holds`` when the whole confidence interval lies on the side the thesis asserts, ``contradicted`` when it lies
wholly on the other side, ``inconclusive`` otherwise; an arm with one seed gives no interval, so one seed never
decides (:mod:`toeplitznet.claims.stats`). Derivations and the choice of tests: docs/claims.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import stats as S
from .model import Claim

__all__ = ["judge_claim", "METHODS"]

#: interval of a two-arm difference over seed-level values
METHODS = ("welch", "paired")


def _clean(vals: Sequence[float | None]) -> list[float]:
    return [float(v) for v in vals if v is not None]


def _difference(a: Sequence[float], b: Sequence[float], level: float, method: str) -> S.Interval:
    if method == "paired" and len(a) == len(b) and len(a) >= 2:
        return S.paired_difference(a, b, level)
    return S.welch_difference(a, b, level)


def judge_claim(claim: Claim, values: Sequence[Sequence[float | None]], *, level: float = 0.95,
                method: str = "welch", xs: Sequence[Sequence[float | None]] | None = None) -> dict[str, Any]:
    """``values[k]``: the per-seed values of arm ``k`` (None = a diverged run, dropped and counted); ``xs[k]``
    the abscissa of each of them in a trend claim (default: the arm's ``x``).

    Returns a JSON-ready dict: ``estimate``, ``low``, ``high``, ``level``, ``method``, ``n`` (values per arm),
    ``verdict``, ``reason``, ``arms`` (name, values, mean, dropped, x) and, for orderings, ``pairs``."""
    if method not in METHODS:
        raise ValueError(f"claims method must be one of {METHODS}, got {method!r}")
    if len(values) != len(claim.arms):
        raise ValueError(f"claim {claim.id}: {len(values)} value lists for {len(claim.arms)} arms")
    xs = [list(x) for x in xs] if xs is not None else [[a.x] * len(v) for a, v in zip(claim.arms, values)]
    if [len(x) for x in xs] != [len(v) for v in values]:
        raise ValueError(f"claim {claim.id}: xs and values differ in length")
    clean = [_clean(v) for v in values]
    arms = [{"name": a.name, "values": list(v), "x": list(x), "mean": (sum(c) / len(c)) if c else None,
             "dropped": len(v) - len(c)} for a, v, x, c in zip(claim.arms, values, xs, clean)]
    out: dict[str, Any] = {"claim": claim.id, "statistic": claim.statistic, "direction": claim.direction,
                           "threshold": claim.threshold, "arms": arms}
    if any(not c for c in clean):
        empty = [a.name for a, c in zip(claim.arms, clean) if not c]
        iv = S.Interval(None, None, None, level, "none", tuple(len(c) for c in clean))
        out.update(iv.as_dict(), verdict=S.INCONCLUSIVE, reason=f"no value for arm(s) {', '.join(empty)}")
        return out
    if claim.statistic == "exact":
        vals = clean[0]
        worst = min(vals) if claim.direction == ">" else max(vals)  # every value must satisfy the claim
        iv, (verdict, reason) = S.exact_verdict(worst, claim.direction, claim.threshold)
    elif claim.statistic == "difference":
        iv = _difference(clean[0], clean[1], level, method)
        verdict, reason = S.verdict(iv, claim.direction, claim.threshold)
    elif claim.statistic == "trend":
        pts = [(float(x), float(v)) for xk, vk in zip(xs, values) for x, v in zip(xk, vk) if v is not None]
        iv = S.slope([p[0] for p in pts], [p[1] for p in pts], level)
        verdict, reason = S.verdict(iv, claim.direction, claim.threshold)
    else:  # ordering: arm k beats arm k+1 in the claim's direction, for every k
        pairs = []
        for k in range(len(clean) - 1):
            piv = _difference(clean[k], clean[k + 1], level, method)
            pv, pr = S.verdict(piv, claim.direction, claim.threshold)
            pairs.append({"arms": [claim.arms[k].name, claim.arms[k + 1].name], **piv.as_dict(), "verdict": pv,
                          "reason": pr})
        out["pairs"] = pairs
        ests = [p["estimate"] for p in pairs]
        k_worst = (min if claim.direction == ">" else max)(range(len(ests)), key=lambda i: ests[i])
        w = pairs[k_worst]
        iv = S.Interval(w["estimate"], w["low"], w["high"], level, w["method"] + " (weakest adjacent pair)",
                        tuple(len(c) for c in clean), w.get("df"))
        verdicts = [p["verdict"] for p in pairs]
        if S.CONTRADICTED in verdicts:
            bad = pairs[verdicts.index(S.CONTRADICTED)]
            verdict, reason = S.CONTRADICTED, f"{bad['arms'][0]} vs {bad['arms'][1]}: {bad['reason']}"
        elif all(v == S.HOLDS for v in verdicts):
            verdict, reason = S.HOLDS, f"every adjacent pair holds; weakest {w['arms'][0]} vs {w['arms'][1]}: " \
                                       f"{w['reason']}"
        else:
            und = pairs[verdicts.index(S.INCONCLUSIVE)]
            verdict, reason = S.INCONCLUSIVE, f"{und['arms'][0]} vs {und['arms'][1]}: {und['reason']}"
    out.update(iv.as_dict(), verdict=verdict, reason=reason)
    return out
