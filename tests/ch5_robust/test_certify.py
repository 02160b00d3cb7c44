"""Lipschitz-margin certificates (Tsuzuku et al. 2018) on linear models, whose minimal adversarial l2 distance is
known in closed form: the distance to the nearest hyperplane f_y = f_j."""

import math

import pytest
import torch

from toeplitznet.robust import certified_accuracy, certified_radius, logit_margin


def linear_distance(w, b, x, y):
    """Exact l2 distance from x to the decision boundary of the linear classifier x -> W x + b (inf if wrong)."""
    z = x @ w.T + b
    out = []
    for zi, yi in zip(z, y):
        gaps = [(zi[yi] - zi[j]) / (w[yi] - w[j]).norm() for j in range(w.shape[0]) if j != yi]
        out.append(min(gaps))
    return torch.stack(out)


def test_two_class_linear_is_tight():
    torch.manual_seed(0)
    v = torch.randn(20, dtype=torch.float64)
    w = torch.stack([v, -v])  # ||w0 - w1|| = 2 ||v|| = sqrt(2) ||W||_2: the sqrt(2) factor is attained
    b = torch.tensor([0.3, -0.3], dtype=torch.float64)
    x = torch.randn(200, 20, dtype=torch.float64)
    logits = x @ w.T + b
    y = torch.randint(0, 2, (200,))
    lip = torch.linalg.matrix_norm(w, ord=2)
    rad = certified_radius(logits, y, lip)
    dist = linear_distance(w, b, x, y)
    correct = dist > 0
    assert 20 < int(correct.sum()) < 180
    assert torch.allclose(rad[correct], dist[correct], rtol=1e-12)
    assert bool((rad[~correct] == 0).all())


def test_multiclass_linear_radius_is_sound():
    torch.manual_seed(1)
    w = torch.randn(10, 30, dtype=torch.float64)
    b = torch.randn(10, dtype=torch.float64)
    x = torch.randn(500, 30, dtype=torch.float64)
    logits = x @ w.T + b
    y = logits.argmax(1)
    y[:100] = (y[:100] + 1) % 10  # some misclassified points
    lip = torch.linalg.matrix_norm(w, ord=2)
    rad = certified_radius(logits, y, lip)
    dist = linear_distance(w, b, x, y)
    assert bool((rad <= dist.clamp_min(0) * (1 + 1e-12)).all())
    assert bool((rad[:100] == 0).all()) and bool((rad[100:] > 0).all())
    # the closed-form distance is the true one: stepping to the nearest hyperplane and slightly past it flips
    # the prediction, while any step shorter than the certified radius cannot
    i = 100 + int(torch.argmax(rad[100:]))
    j = min((k for k in range(10) if k != int(y[i])),
            key=lambda k: float((logits[i, y[i]] - logits[i, k]) / (w[y[i]] - w[k]).norm()))
    direction = (w[j] - w[y[i]]) / (w[j] - w[y[i]]).norm()
    past = (x[i] + 1.0001 * dist[i] * direction) @ w.T + b
    assert int(past.argmax()) != int(y[i])
    for _ in range(200):
        d = torch.randn(30, dtype=torch.float64)
        d = 0.9999 * rad[i] * d / d.norm()
        assert int(((x[i] + d) @ w.T + b).argmax()) == int(y[i])
    # per-example constants are accepted
    assert torch.allclose(certified_radius(logits, y, lip.expand(500)), rad)


def test_certified_accuracy_by_hand():
    logits = torch.tensor([[3.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, 2.0, 0.0], [1.0, 1.0, 0.0]])
    y = torch.tensor([0, 0, 0, 0])
    m = logit_margin(logits, y)
    assert m.tolist() == [3.0, 0.5, -2.0, 0.0]
    lip = 1.0 / math.sqrt(2.0)  # radius = margin
    assert certified_radius(logits, y, lip).tolist() == pytest.approx([3.0, 0.5, 0.0, 0.0])
    acc = certified_accuracy(logits, y, lip, radii=(0.0, 0.5, 1.0, 4.0))
    assert acc == {0.0: 0.5, 0.5: 0.5, 1.0: 0.25, 4.0: 0.0}
    assert set(certified_accuracy(logits, y, 1.0)) == {0.1, 0.25, 0.5}
    with pytest.raises(ValueError):
        certified_radius(logits, y, 0.0)
