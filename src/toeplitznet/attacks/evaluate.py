"""Batched evaluation of an attack over a data set (the pipeline's helper)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn

from .result import AttackResult

__all__ = ["evaluate_attack"]


def _batches(data, batch_size: int) -> Iterable[tuple[Tensor, Tensor]]:
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, Tensor) for t in data):
        x, y = data
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]
        return
    for xb, yb, *_ in data:
        for i in range(0, len(xb), batch_size):
            yield xb[i:i + batch_size], yb[i:i + batch_size]


def evaluate_attack(model: nn.Module, loader_or_tensors, attack_fn: Callable, *,
                    device: torch.device | str = "cpu", batch_size: int = 256) -> dict:
    """Run ``attack_fn(model, x, y)`` over a data set and sum the robust counts.

    ``loader_or_tensors``: a pair of tensors ``(x, y)`` or an iterable of ``(x, y, ...)`` batches (e.g. a
    :class:`~torch.utils.data.DataLoader`); batches are moved to ``device`` and split into chunks of at most
    ``batch_size``. ``attack_fn`` returns an :class:`AttackResult` (e.g. ``functools.partial(pgd, eps=...)`` or a
    :class:`PGD`) or a ``{bound: AttackResult}`` dict (:func:`bounded_cw_l2`).

    Returns ``{"n", "robust", "accuracy", "robust_at": {k: accuracy}}`` for a single result per batch, or
    ``{"n", "robust": {bound: count}, "accuracy": {bound: accuracy}}`` for dict results. ``robust_at`` keeps
    the ``k`` present in every batch.
    """
    n = 0
    robust: dict | int | None = None
    robust_at: dict[int, int] | None = None
    keyed = None
    for xb, yb in _batches(loader_or_tensors, int(batch_size)):
        xb, yb = xb.to(device), yb.to(device)
        res = attack_fn(model, xb, yb)
        n += len(yb)
        if isinstance(res, AttackResult):
            if keyed is True:
                raise TypeError("attack_fn returned an AttackResult after returning a dict")
            keyed = False
            robust = (robust or 0) + int(res.robust.sum())
            counts = {k: int(v.sum()) for k, v in res.robust_at.items()}
            robust_at = counts if robust_at is None else {k: robust_at[k] + counts[k]
                                                         for k in robust_at if k in counts}
        elif isinstance(res, dict):
            if keyed is False:
                raise TypeError("attack_fn returned a dict after returning an AttackResult")
            keyed = True
            robust = robust or {}
            for b, r in res.items():
                robust[b] = robust.get(b, 0) + int(r.robust.sum())
        else:
            raise TypeError(f"attack_fn must return an AttackResult or a dict of them, got {type(res).__name__}")
    if keyed:
        return {"n": n, "robust": robust, "accuracy": {b: (c / n if n else float("nan")) for b, c in robust.items()}}
    robust = robust or 0
    return {"n": n, "robust": robust, "accuracy": robust / n if n else float("nan"),
            "robust_at": {k: c / n for k, c in sorted((robust_at or {}).items())}}
