"""A toy randomised classifier with a closed-form output distribution: a two-class linear rule on R^d,
class 1 iff w.(x + n) + c > 0, with the noise n added by NoisyInput."""
import math

import torch
from scipy import stats
from torch import nn


class Linear2(nn.Module):
    def __init__(self, w, c):
        super().__init__()
        self.w = torch.as_tensor(w, dtype=torch.float64)
        self.c = float(c)

    def forward(self, x):
        s = x.reshape(len(x), -1).double() @ self.w + self.c
        return torch.stack([torch.zeros_like(s), s], 1)


def p_class1(x, w, c, dist, sd):
    """P(class 1) in closed form: Gaussian for any w; Laplace for w = a e_1 (one coordinate)."""
    m = float(torch.as_tensor(x).double().reshape(-1) @ torch.as_tensor(w, dtype=torch.float64) + c)
    wn = float(torch.as_tensor(w, dtype=torch.float64).norm())
    if dist == "gaussian":
        return stats.norm.cdf(m / (sd * wn))
    a = float(torch.as_tensor(w, dtype=torch.float64)[0])
    return stats.laplace(scale=sd / math.sqrt(2)).sf(-m / a)


def entropy2(p):
    return -sum(q * math.log(q) for q in (p, 1 - p) if q > 0)
