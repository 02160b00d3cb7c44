"""Global Average Precision (GAP@k) of the YouTube-8M challenges.

Thesis Eq. B.4 (L7203-7213): ``GAP = sum_i p(i) dr(i)`` over the pooled top-20 predictions of every video.  The
definition implemented here is the official one (research note ``youtube8m.md``, section GAP@20, from the
starter code's ``eval_util.py`` / ``average_precision_calculator.py``):

1. per video keep its ``k = min(top_k, n_classes)`` highest scores with their 0/1 labels;
2. pool these (score, label) pairs over the whole dataset (no global cap) and sort them by score, descending;
3. ``ap = sum over positions i (1-based) with label 1 of hits(<= i) / i``;
4. ``GAP = ap / P`` where ``P`` is the total number of positive labels of the dataset, **including** the
   positives that fell outside every top-k (``GAP = 0`` when ``P = 0``).

Unlabelled videos only contribute negatives.  Worked example (research note): video A scores [0.9, 0.6, 0.1],
labels [1, 0, 1]; video B [0.8, 0.7, 0.3], [0, 1, 0]: GAP@20 = 13/18, GAP@2 = 5/9.

Ties (our choice; the official code breaks them with a seeded shuffle, i.e. at random): a tied negative is ranked
**before** a tied positive, both inside a video (which pairs enter its top-k; among equal score and label the
lower class index wins) and in the pooled list.  The value is therefore a deterministic, pessimistic tie
resolution that depends neither on the order of the videos nor on how they are split into batches, so
:class:`GAPCalculator` over any batching equals one pass of :func:`global_average_precision` exactly.  With
continuous scores ties do not occur and both agree with the official value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["global_average_precision", "GAPCalculator"]


def _to_numpy(a) -> np.ndarray:
    """``np.asarray`` that also accepts torch tensors on any device (detached, moved to the CPU)."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _predictions(predictions) -> np.ndarray:
    p = _to_numpy(predictions)
    if p.ndim != 2:
        raise ValueError(f"predictions must be 2-D [n_videos, n_classes], got shape {p.shape}")
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    if p.shape[1] == 0:
        raise ValueError("predictions need at least one class")
    if np.isnan(p).any():
        raise ValueError("predictions contain NaN")
    return p


def _labels(labels, n_videos: int, n_classes: int) -> np.ndarray:
    """Dense boolean multi-hot ``[n_videos, n_classes]``.

    An array (numpy or torch) is read as dense 0/1 labels; a Python ``list``/``tuple`` as one sequence of label
    indices per video (so ``[[0, 1], [1, 0]]`` means classes {0, 1} for both videos: wrap dense rows in
    ``np.asarray``).  Repeated indices count once."""
    if isinstance(labels, (list, tuple)):
        if len(labels) != n_videos:
            raise ValueError(f"got {len(labels)} label lists for {n_videos} videos")
        dense = np.zeros((n_videos, n_classes), dtype=bool)
        for i, row in enumerate(labels):
            idx = _to_numpy(row).reshape(-1)
            if idx.size == 0:
                continue
            if not np.issubdtype(idx.dtype, np.integer):
                raise ValueError(f"video {i}: label indices must be integers, got {idx.dtype}")
            if idx.min() < 0 or idx.max() >= n_classes:
                raise ValueError(f"video {i}: label index out of range [0, {n_classes}): {idx.tolist()}")
            dense[i, idx] = True
        return dense
    y = _to_numpy(labels)
    if y.shape != (n_videos, n_classes):
        raise ValueError(f"dense labels must have shape {(n_videos, n_classes)}, got {y.shape}")
    if y.dtype != bool:
        if not np.isin(y, (0, 1)).all():
            raise ValueError("dense labels must be 0/1 (multi-hot)")
        y = y.astype(bool)
    return y


def _top_k_pairs(p: np.ndarray, y: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Flattened (scores, labels) of every video's top-k under the module's tie rule."""
    if int(top_k) != top_k or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    k = min(int(top_k), p.shape[1])
    if p.shape[0] == 0:
        return p[:0, 0].copy(), y[:0, 0].copy()
    # per row: score descending, then negatives first, then class index ascending (lexsort is stable)
    order = np.lexsort((y, -p), axis=-1)[:, :k]
    rows = np.arange(p.shape[0])[:, None]
    return p[rows, order].reshape(-1), y[rows, order].reshape(-1)


def _gap_from_pairs(scores: np.ndarray, labels: np.ndarray, n_positives: int) -> float:
    if n_positives == 0:
        return 0.0
    order = np.lexsort((labels, -scores))  # score descending, tied negatives first
    hits = labels[order].astype(np.int64)
    cum = np.cumsum(hits)
    ranks = np.arange(1, hits.size + 1)
    return float(np.sum((cum / ranks)[hits == 1]) / n_positives)


def global_average_precision(predictions, labels, top_k: int = 20) -> float:
    """GAP@``top_k`` of ``predictions`` ``[n_videos, n_classes]`` (numpy array or torch tensor) against
    ``labels``: a dense 0/1 array of the same shape, or one list of label indices per video.  See the module
    docstring for the definition and the tie rule."""
    p = _predictions(predictions)
    y = _labels(labels, p.shape[0], p.shape[1])
    scores, hits = _top_k_pairs(p, y, top_k)
    return _gap_from_pairs(scores, hits, int(y.sum()))


class GAPCalculator:
    """Streaming GAP@``top_k``: :meth:`accumulate` batches, :meth:`value` equals
    :func:`global_average_precision` of all batches stacked (exactly, for any batching; see the tie rule).

    Keeps only each video's top-k (score, label) pairs and the running number of positives.
    """

    def __init__(self, top_k: int = 20):
        if int(top_k) != top_k or top_k < 1:
            raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
        self.top_k = int(top_k)
        self.reset()

    def reset(self) -> None:
        self._scores: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []
        self._n_classes: int | None = None
        self.n_positives = 0
        self.n_videos = 0

    def accumulate(self, predictions, labels) -> None:
        p = _predictions(predictions)
        if self._n_classes is not None and p.shape[1] != self._n_classes:
            raise ValueError(f"expected {self._n_classes} classes, got {p.shape[1]}")
        self._n_classes = p.shape[1]
        y = _labels(labels, p.shape[0], p.shape[1])
        s, h = _top_k_pairs(p, y, self.top_k)
        self._scores.append(s)
        self._labels.append(h)
        self.n_positives += int(y.sum())
        self.n_videos += p.shape[0]

    def value(self) -> float:
        if not self._scores:
            return 0.0
        return _gap_from_pairs(np.concatenate(self._scores), np.concatenate(self._labels), self.n_positives)
