"""GAP@k (toeplitznet.metrics.gap): hand-computed cases, streaming == one pass, brute-force agreement."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from toeplitznet.metrics import GAPCalculator, global_average_precision

A_SCORES, A_LABELS = [0.9, 0.6, 0.1], [1, 0, 1]
B_SCORES, B_LABELS = [0.8, 0.7, 0.3], [0, 1, 0]


def brute_force_gap(pred, lab, top_k=20):
    """Plain-loop GAP with the module's documented tie rule (negatives before positives on equal scores,
    then lower class index), exact in rationals."""
    pairs, n_pos = [], 0
    for scores, labels in zip(pred, lab):
        n_pos += sum(int(v) for v in labels)
        ranked = sorted(range(len(scores)), key=lambda c: (-scores[c], int(labels[c]), c))
        for c in ranked[: min(top_k, len(scores))]:
            pairs.append((float(scores[c]), int(labels[c])))
    if n_pos == 0:
        return 0.0
    pairs.sort(key=lambda t: (-t[0], t[1]))
    hits, ap = 0, Fraction(0)
    for i, (_, y) in enumerate(pairs, start=1):
        if y:
            hits += 1
            ap += Fraction(hits, i)
    return float(ap / n_pos)


def test_worked_example_of_the_research_note():
    pred = np.array([A_SCORES, B_SCORES])
    lab = np.array([A_LABELS, B_LABELS])
    assert global_average_precision(pred, lab) == pytest.approx(13 / 18, abs=1e-15)
    # k = 2: the positive of video A at 0.1 is left out but stays in the denominator (3)
    assert global_average_precision(pred, lab, top_k=2) == pytest.approx(5 / 9, abs=1e-15)


def test_positive_outside_top_k_counts_in_denominator():
    pred = np.array([[0.9, 0.2, 0.1]])
    lab = np.array([[1, 0, 1]])
    assert global_average_precision(pred, lab, top_k=1) == pytest.approx(0.5)  # 1 / 2 positives
    assert global_average_precision(pred, lab, top_k=3) == pytest.approx((1 + 2 / 3) / 2)
    # only negatives in the top-k: 0
    assert global_average_precision(np.array([[0.5, 0.4, 0.3]]), np.array([[0, 0, 1]]), top_k=2) == 0.0


def test_unlabelled_video_adds_only_negatives():
    pred = np.array([[0.9, 0.1], [0.95, 0.5]])
    lab = np.array([[1, 0], [0, 0]])
    # pooled: 0.95(-) 0.9(+) 0.5(-) 0.1(-) -> precision 1/2 at the only positive
    assert global_average_precision(pred, lab) == pytest.approx(0.5)
    assert global_average_precision(pred[:1], lab[:1]) == pytest.approx(1.0)
    assert global_average_precision(pred, np.zeros_like(lab)) == 0.0  # no positive at all


def test_k_is_capped_by_the_number_of_classes_and_label_forms_agree():
    pred = np.array([A_SCORES, B_SCORES])
    dense = np.array([A_LABELS, B_LABELS])
    lists = [[0, 2], [1]]
    g = global_average_precision(pred, dense, top_k=1000)
    assert g == pytest.approx(13 / 18)
    assert global_average_precision(pred, lists) == g
    assert global_average_precision(pred, [[2, 0, 0], (1,)]) == g  # repeated indices count once
    assert global_average_precision(torch.tensor(pred), torch.tensor(dense)) == g
    assert global_average_precision(torch.tensor(pred, dtype=torch.float32), lists) == pytest.approx(g)


def test_ties_are_resolved_pessimistically():
    pred = np.array([[0.5, 0.5]])
    assert global_average_precision(pred, np.array([[1, 0]])) == pytest.approx(0.5)
    assert global_average_precision(pred, np.array([[0, 1]])) == pytest.approx(0.5)
    assert global_average_precision(pred, np.array([[1, 0]]), top_k=1) == 0.0  # the tied negative enters the top-1
    # across videos: the tied negative of video 2 is ranked before the positive of video 1
    assert global_average_precision(np.array([[0.7, 0.0], [0.7, 0.0]]), np.array([[1, 0], [0, 0]])) == 0.5


def test_agrees_with_brute_force_on_random_data():
    rng = np.random.default_rng(0)
    for trial in range(20):
        n, c = rng.integers(1, 30), rng.integers(1, 40)
        pred = rng.random((n, c))
        if trial % 2:
            pred = np.round(pred, 1)  # many ties
        lab = rng.random((n, c)) < rng.uniform(0.0, 0.3)
        k = int(rng.integers(1, 25))
        assert global_average_precision(pred, lab, top_k=k) == pytest.approx(
            brute_force_gap(pred.tolist(), lab.tolist(), k), abs=1e-12)


def test_streaming_equals_one_pass_exactly():
    rng = np.random.default_rng(1)
    n, c = 500, 50
    for quantize in (False, True):
        pred = rng.random((n, c)).astype(np.float32)
        if quantize:
            pred = np.round(pred * 8) / 8
        lab = rng.random((n, c)) < 0.05
        lab[::7] = False  # some unlabelled videos
        whole = global_average_precision(pred, lab)
        calc = GAPCalculator()
        cuts = np.sort(rng.choice(np.arange(1, n), size=12, replace=False))
        perm = rng.permutation(n)  # the order of the videos does not matter either
        for part in np.split(perm, cuts):
            calc.accumulate(torch.from_numpy(pred[part]), lab[part])
        assert calc.n_videos == n
        assert calc.value() == whole
    calc.reset()
    assert calc.value() == 0.0 and calc.n_videos == 0


def test_bad_arguments():
    pred = np.array([A_SCORES])
    with pytest.raises(ValueError, match="shape"):
        global_average_precision(pred, np.array([[1, 0]]))
    with pytest.raises(ValueError, match="NaN"):
        global_average_precision(np.array([[np.nan, 0.1, 0.2]]), np.array([[1, 0, 0]]))
    with pytest.raises(ValueError, match="top_k"):
        global_average_precision(pred, np.array([A_LABELS]), top_k=0)
    with pytest.raises(ValueError, match="out of range"):
        global_average_precision(pred, [[3]])
    with pytest.raises(ValueError, match="0/1"):
        global_average_precision(pred, np.array([[2, 0, 0]]))
    with pytest.raises(ValueError, match="2-D"):
        global_average_precision(np.array(A_SCORES), np.array(A_LABELS))
    calc = GAPCalculator(top_k=5)
    calc.accumulate(pred, np.array([A_LABELS]))
    with pytest.raises(ValueError, match="classes"):
        calc.accumulate(np.zeros((1, 4)), np.zeros((1, 4)))
