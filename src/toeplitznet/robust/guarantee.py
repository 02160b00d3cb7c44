"""The accuracy guarantee of thesis Theorem C.2 (L7786-7800) for a network with noise injected on the image.

Theorem C.2: if the randomised classifier ``M`` is ``d_{R,λ}-(α, ε)`` robust (λ ≥ 1), then
``|Risk_α(M) − Risk(M)| ≤ 1 − e^{−ε} E_x[e^{−H(M(x))}]`` with ``H`` the Shannon entropy of the output
distribution. Hence the *guaranteed accuracy* under any attack of norm ≤ α,
``acc_α ≥ acc − 1 + e^{−ε(α)} E_x[e^{−H(M(x))}]``, where ``acc = 1 − Risk(M) = E_x P(M(x) = y)`` is the
expected single-draw accuracy.

ε(α) for noise on the image (the truncated network ``N|0`` is the identity, so its sensitivity is α;
Theorem C.1, L7700-7725; derivation in ``docs/appendix_c.md``), with α and sd in the same units:

* Gaussian N(0, sd² I), ℓ2 attacks: ``ε = λ α² / (2 sd²)`` (Theorem C.1, second case: the Rényi divergence of
  order λ between two Gaussians shifted by ≤ α).
* Laplace with scale ``b = sd / √2`` per coordinate, ℓ1 attacks: ``exponential_family`` (default, the
  exponential-family case of Theorem C.1: ``‖θ‖_∞ ω_t(α) = α / b``, the max-divergence, valid for every λ);
  ``renyi``: the exact order-λ Rényi divergence of a shift of ℓ1 norm α, worst case over the ℓ1 ball
  (all of α on one coordinate, the divergence being convex in the shift).

The entropy term is estimated by Monte Carlo (L7872-7873: 10⁴ draws): the output distribution of an image is
the empirical class frequency over ``draws`` noisy forward passes (as in the author's ``compute_entropy.py``),
on a fixed set of images. Only :func:`class_counts` needs torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["epsilon", "guaranteed_accuracy", "curve", "class_counts", "entropy_stats", "LAPLACE_FORMS"]

LAPLACE_FORMS = ("exponential_family", "renyi")


def _laplace_renyi(delta: float, b: float, lam: float) -> float:
    """Rényi divergence of order ``lam`` between Laplace(0, b) and Laplace(delta, b) (``lam = 1``: KL)."""
    t = abs(delta) / b
    if t == 0:
        return 0.0
    if lam == 1.0:
        return t + math.exp(-t) - 1.0
    # 1/(λ-1) log[ λ/(2λ-1) e^{(λ-1)t} + (λ-1)/(2λ-1) e^{-λt} ], evaluated stably
    a = math.log(lam / (2 * lam - 1)) + (lam - 1) * t
    c = math.log((lam - 1) / (2 * lam - 1)) - lam * t
    m = max(a, c)
    return (m + math.log(math.exp(a - m) + math.exp(c - m))) / (lam - 1)


def epsilon(dist: str, alpha: float, sd: float, *, renyi_order: float = 1.0,
            laplace_form: str = "exponential_family") -> float:
    """ε of Theorem C.1 for noise ``dist`` of standard deviation ``sd`` on the image and attacks of norm ≤
    ``alpha`` (ℓ2 for ``gaussian``, ℓ1 for ``laplace``; same units as ``sd``)."""
    if renyi_order < 1:
        raise ValueError(f"the Rényi order must be >= 1 (Theorem C.2), got {renyi_order}")
    if sd <= 0:
        raise ValueError(f"sd must be > 0, got {sd}")
    alpha = float(alpha)
    if dist == "gaussian":
        return renyi_order * alpha ** 2 / (2.0 * sd ** 2)
    if dist == "laplace":
        b = sd / math.sqrt(2.0)
        if laplace_form == "exponential_family":
            return alpha / b
        if laplace_form == "renyi":
            return _laplace_renyi(alpha, b, float(renyi_order))
        raise ValueError(f"laplace_form must be one of {LAPLACE_FORMS}, got {laplace_form!r}")
    raise ValueError(f"Theorem C.2's epsilon is derived for gaussian and laplace noise, got {dist!r}")


def guaranteed_accuracy(accuracy: float, mean_exp_neg_entropy: float, eps: float) -> float:
    """``acc − 1 + e^{−ε} E[e^{−H}]`` (Theorem C.2; may be negative: no guarantee)."""
    return float(accuracy) - 1.0 + math.exp(-float(eps)) * float(mean_exp_neg_entropy)


def curve(accuracy: float, mean_exp_neg_entropy: float, dist: str, sd: float, alphas: Sequence[float], *,
          renyi_order: float = 1.0, laplace_form: str = "exponential_family", clip: bool = True) -> list[float]:
    """Guaranteed accuracy at each α (clipped at 0 with ``clip``, as the thesis's figures draw it)."""
    out = []
    for a in alphas:
        g = guaranteed_accuracy(accuracy, mean_exp_neg_entropy,
                                epsilon(dist, a, sd, renyi_order=renyi_order, laplace_form=laplace_form))
        out.append(max(g, 0.0) if clip else g)
    return out


def class_counts(model, x, draws: int, *, batch_size: int = 100, n_classes: int | None = None):
    """``(N, K)`` int64 counts of the predicted class over ``draws`` forward passes of the randomised ``model``
    (its own fresh noise at every pass) on the fixed images ``x``; passes are batched over copies of ``x``."""
    import torch

    draws = int(draws)
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    counts = None
    with torch.no_grad():
        for i in range(len(x)):
            xi = x[i:i + 1]
            done = 0
            while done < draws:
                k = min(int(batch_size), draws - done)
                logits = model(xi.expand(k, *xi.shape[1:]))
                pred = logits.argmax(1)
                if counts is None:
                    K = int(n_classes or logits.shape[1])
                    counts = torch.zeros(len(x), K, dtype=torch.long, device=x.device)
                counts[i] += torch.bincount(pred, minlength=counts.shape[1])[:counts.shape[1]]
                done += k
    return counts


def entropy_stats(counts, y) -> dict:
    """From per-image class counts: ``p_y`` (empirical probability of the true class), ``entropy`` (of the
    empirical distribution, nats), ``exp_neg_entropy`` per image, their means, the expected single-draw accuracy
    (mean ``p_y``) and the majority-vote accuracy. Plain lists (JSON-ready)."""
    import torch

    c = counts.double()
    p = c / c.sum(1, keepdim=True)
    logp = torch.where(p > 0, p.log(), torch.zeros_like(p))
    h = -(p * logp).sum(1)
    p_y = p.gather(1, y.view(-1, 1).to(p.device)).squeeze(1)
    return {"p_y": p_y.tolist(), "entropy": h.tolist(), "exp_neg_entropy": torch.exp(-h).tolist(),
            "accuracy": float(p_y.mean()), "majority_accuracy": float((counts.argmax(1).cpu() == y.cpu()).double().mean()),
            "mean_entropy": float(h.mean()), "mean_exp_neg_entropy": float(torch.exp(-h).mean()), "n": int(len(y))}
