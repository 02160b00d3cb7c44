"""Frame-level front end and embeddings of the YouTube-8M models (thesis Appendix B.2.1-B.2.2, L7035-7091;
research note ``youtube8m.md``).

Front end (:class:`FrameInput`): the fixed input of every frame-level model is ``(frames, n_frames)``, ``frames``
uint8 ``[B, T, 1152]`` (rgb 1024 then audio 128, quantized), rows at or beyond ``n_frames`` being padding with
arbitrary values, and ``n_frames`` int64 ``[B]`` with ``1 <= n_frames <= T``.  It dequantizes on the device,
``x = q * 4/255 + 4/512 - 2`` (research note, starter ``utils.py``), zeroes the padded rows (the official reader
pads with exact zeros), and optionally L2-normalises every 1152-d frame (the starter code and the author's
Appendix B ``train.py`` do; zero rows stay zero).

Frame sampling (:class:`FrameSampler`), shared by all embeddings and both modalities of a model (as in the
author's code):

* ``mode="bags"``: ``n_bags`` bags of ``frames_per_bag`` frame indices drawn uniformly **with replacement** from
  the valid frames of each video.  ``n_bags = 1`` is the starter code's ``iterations`` random frames;
  ``n_bags = 10, frames_per_bag = 15`` is the robust DBoF of Eq. B.2 (L7082-7091, the author's README flags);
  the embeddings are computed per bag with shared weights and the bag outputs averaged.
* ``mode="all"``: one "bag" holding every valid frame (masked pooling; Chapter 4 L4991 "all the available 300
  frames").

In ``train()`` mode the draws use torch's global RNG of the input's device (reproducible under
``torch.manual_seed``); in ``eval()`` mode a CPU ``torch.Generator`` seeded with ``eval_seed`` is re-created at
every call, so a given batch always sees the same frames (our choice: the research note says the author's
evaluation still samples at random).

Embeddings (input ``[B, S, K, D]`` frames of ``S`` bags with an optional validity mask ``[B, S, K]``, output
``[B, S, out_dim]``; padded frames never enter a batch-norm statistic or a pooling):

* :class:`DBoF` -- Eq. B.1 (L7050-7058): ``ReLU6(BN(W v))`` per frame, ``W`` without bias (dense or compact,
  :func:`~.yt8m_compact.compact_linear`), then max pooling over the frames (``pooling="average"`` for the
  average-pooling baseline of Figure B.3).
* :class:`NetVLAD` -- Arandjelovic et al. 2016 as in WILLOW (Miech et al. 2017; research note): soft assignment
  ``softmax(BN(x W_a))`` over ``K`` clusters, residuals ``sum_t a_tk (x_t - c_k)``, intra-normalisation (L2 over
  the feature axis per cluster), flattening ``[K, D]`` (cluster-major; WILLOW flattens feature-major, a fixed
  permutation of the next layer's input), global L2 normalisation.  ``K D`` outputs.
* :class:`NetFV` -- WILLOW's NetFV: the same soft assignment, ``sigma = w^2 + 1e-6`` with ``w ~ N(1, 1/D)``,
  first order ``sum_t a_tk (x_t - mu_k) / sigma_k`` (intra-L2 then global L2) and second order
  ``sum_t a_tk ((x_t - mu_k)^2 / sigma_k^2 - 1)`` (global L2), concatenated: ``2 K D`` outputs.  ``mu`` is its own
  parameter (the author's final code: ``fv_couple_weights=False``).

Initialisation of NetVLAD/NetFV (the thesis is silent): WILLOW's ``N(0, 1/D)`` for the assignment and centre
weights.  In train mode batch norm is computed over all frames of all bags together (the author's TF code
normalises each bag's frames separately; eval mode is identical).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .yt8m_compact import projection

__all__ = [
    "QUANT_SCALE",
    "QUANT_BIAS",
    "dequantize",
    "FrameInput",
    "FrameSampler",
    "DBoF",
    "NetVLAD",
    "NetFV",
    "pool_frames",
]

#: dequantisation of the uint8 features (max 2, min -2): x = q * QUANT_SCALE + QUANT_BIAS
QUANT_SCALE = 4.0 / 255.0
QUANT_BIAS = 4.0 / 512.0 - 2.0


def dequantize(q: torch.Tensor) -> torch.Tensor:
    """uint8 -> float32 features in [-2, 2] (on ``q``'s device)."""
    if q.dtype != torch.uint8:
        raise TypeError(f"quantized features must be uint8, got {q.dtype}")
    return q.to(torch.float32) * QUANT_SCALE + QUANT_BIAS


def _check_n_frames(n_frames: torch.Tensor, batch: int, t: int) -> None:
    if not isinstance(n_frames, torch.Tensor) or n_frames.dtype not in (torch.int64, torch.int32):
        raise TypeError("n_frames must be an int64 tensor [B]")
    if n_frames.shape != (batch,):
        raise ValueError(f"n_frames must have shape ({batch},), got {tuple(n_frames.shape)}")
    lo, hi = int(n_frames.min()), int(n_frames.max())
    if lo < 1 or hi > t:
        raise ValueError(f"n_frames must lie in [1, {t}] (T = frames.shape[1]), got range [{lo}, {hi}]")


class FrameInput(nn.Module):
    """``(frames uint8 [B, T, F], n_frames [B]) -> (x float32 [B, T, F], mask bool [B, T])``: dequantized,
    padded rows zeroed, optionally L2-normalised per frame (over all ``F`` features)."""

    def __init__(self, n_features: int = 1152, l2_normalize: bool = True):
        super().__init__()
        self.n_features, self.l2_normalize = int(n_features), bool(l2_normalize)

    def forward(self, frames: torch.Tensor, n_frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(frames, torch.Tensor) or frames.dim() != 3 or frames.shape[-1] != self.n_features:
            shape = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
            raise ValueError(f"frames must be a tensor [B, T, {self.n_features}], got {shape}")
        if frames.dtype != torch.uint8:
            raise TypeError(f"frames must be quantized uint8 features, got {frames.dtype}")
        B, T, _ = frames.shape
        _check_n_frames(n_frames, B, T)
        mask = torch.arange(T, device=frames.device)[None, :] < n_frames.to(frames.device)[:, None]
        x = dequantize(frames) * mask[..., None]
        if self.l2_normalize:
            x = F.normalize(x, dim=-1)
        return x, mask

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}, l2_normalize={self.l2_normalize}"


class FrameSampler(nn.Module):
    """Draws the frames the embeddings see (module docstring).  ``forward(x, mask, n_frames)`` returns
    ``(frames [B, S, K, F], mask [B, S, K] or None)``: ``None`` in ``"bags"`` mode (every drawn frame is valid)."""

    def __init__(self, mode: str = "bags", n_bags: int = 10, frames_per_bag: int = 15, eval_seed: int = 0):
        super().__init__()
        if mode not in ("bags", "all"):
            raise ValueError(f"sampling mode must be 'bags' or 'all', got {mode!r}")
        if n_bags < 1 or frames_per_bag < 1:
            raise ValueError(f"n_bags and frames_per_bag must be >= 1, got {n_bags}, {frames_per_bag}")
        self.mode, self.n_bags, self.frames_per_bag, self.eval_seed = mode, int(n_bags), int(frames_per_bag), eval_seed

    def sample_indices(self, n_frames: torch.Tensor) -> torch.Tensor:
        """Frame indices ``[B, n_bags, frames_per_bag]`` (int64, on ``n_frames``' device), uniform with
        replacement in ``[0, n_frames[b])``."""
        shape = (n_frames.shape[0], self.n_bags, self.frames_per_bag)
        if self.training:
            u = torch.rand(shape, device=n_frames.device)
        else:
            g = torch.Generator(device="cpu").manual_seed(int(self.eval_seed))
            u = torch.rand(shape, generator=g, device="cpu").to(n_frames.device)
        n = n_frames[:, None, None]
        return torch.minimum((u * n.to(u.dtype)).long(), n - 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, n_frames: torch.Tensor):
        if self.mode == "all":
            return x[:, None], mask[:, None]
        idx = self.sample_indices(n_frames.to(x.device))
        rows = torch.arange(x.shape[0], device=x.device)[:, None, None]
        return x[rows, idx], None

    def extra_repr(self) -> str:
        if self.mode == "all":
            return "mode='all'"
        return f"mode='bags', n_bags={self.n_bags}, frames_per_bag={self.frames_per_bag}, eval_seed={self.eval_seed}"


def _framewise(fn, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Apply ``fn`` (e.g. a batch norm) to the valid frames of ``h [..., K, P]`` only; padded frames get 0."""
    if mask is None:
        return fn(h.reshape(-1, h.shape[-1])).reshape(h.shape)
    out = h.new_zeros(h.shape)
    out[mask] = fn(h[mask])
    return out


def pool_frames(h: torch.Tensor, mask: torch.Tensor | None, method: str = "max") -> torch.Tensor:
    """Max or average of ``h [..., K, P]`` over the frame axis ``K``, ignoring masked-out frames."""
    if method == "max":
        if mask is not None:
            h = h.masked_fill(~mask[..., None], float("-inf"))
        return h.amax(dim=-2)
    if method == "average":
        if mask is None:
            return h.mean(dim=-2)
        m = mask[..., None].to(h.dtype)
        return (h * m).sum(-2) / m.sum(-2).clamp_min(1.0)
    raise ValueError(f"pooling must be 'max' or 'average', got {method!r}")


class DBoF(nn.Module):
    """Deep bag of frames (Eq. B.1): ``pool_t ReLU6(BN(W x_t))``; ``W`` ``n_in -> size`` without bias, dense or
    compact (``compact=True``: ``ceil(size/n_in)`` concatenated DC blocks, L7119-7122).

    Parameters: dense ``n_in size + 2 size`` (1024 -> 8192: 8,404,992); compact ``2 m size + 2 size`` (16,384 +
    16,384 for m = 1 at 1024 -> 8192, learned diagonals, ``order="cd"``)."""

    def __init__(self, n_in: int, size: int = 8192, *, pooling: str = "max", compact: bool = False,
                 n_factors: int = 1, diag: str = "learned", order: str = "cd", init: str = "thesis"):
        super().__init__()
        if pooling not in ("max", "average"):
            raise ValueError(f"pooling must be 'max' or 'average', got {pooling!r}")
        self.n_in, self.out_dim, self.pooling, self.compact = int(n_in), int(size), pooling, bool(compact)
        # dense weights: N(0, 1/n_in) (starter code / author), also a sensible default ahead of batch norm
        self.proj = projection(n_in, size, compact=compact, n_factors=n_factors, diag=diag, order=order, init=init,
                               dense_std=1.0 / math.sqrt(n_in))
        self.bn = nn.BatchNorm1d(size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.proj(x)
        h = F.relu6(_framewise(self.bn, h, mask))
        return pool_frames(h, mask, self.pooling)


class _SoftAssign(nn.Module):
    """``softmax(BN(x W))`` over ``clusters``, zero on masked-out frames: ``[..., K, D] -> [..., K, clusters]``."""

    def __init__(self, n_in: int, clusters: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, clusters) / math.sqrt(n_in))
        self.bn = nn.BatchNorm1d(clusters)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        a = torch.softmax(_framewise(self.bn, x @ self.weight, mask), dim=-1)
        return a if mask is None else a * mask[..., None].to(a.dtype)


class NetVLAD(nn.Module):
    """NetVLAD embedding (module docstring).  Parameters ``2 n_in K + 2 K`` (1024 x 64: 131,200)."""

    def __init__(self, n_in: int, clusters: int = 64):
        super().__init__()
        if n_in < 1 or clusters < 1:
            raise ValueError(f"n_in and clusters must be >= 1, got {n_in}, {clusters}")
        self.n_in, self.clusters, self.out_dim = int(n_in), int(clusters), int(n_in) * int(clusters)
        self.assign = _SoftAssign(n_in, clusters)
        self.centers = nn.Parameter(torch.randn(clusters, n_in) / math.sqrt(n_in))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        a = self.assign(x, mask)  # [..., T, K]
        vlad = a.transpose(-1, -2) @ x - a.sum(-2)[..., None] * self.centers  # [..., K, D]
        vlad = F.normalize(vlad, dim=-1).flatten(-2)
        return F.normalize(vlad, dim=-1)


class NetFV(nn.Module):
    """NetFV embedding (module docstring).  Parameters ``3 n_in K + 2 K`` (1024 x 64: 196,736)."""

    def __init__(self, n_in: int, clusters: int = 64):
        super().__init__()
        if n_in < 1 or clusters < 1:
            raise ValueError(f"n_in and clusters must be >= 1, got {n_in}, {clusters}")
        self.n_in, self.clusters, self.out_dim = int(n_in), int(clusters), 2 * int(n_in) * int(clusters)
        self.assign = _SoftAssign(n_in, clusters)
        self.centers = nn.Parameter(torch.randn(clusters, n_in) / math.sqrt(n_in))
        self.covar = nn.Parameter(1.0 + torch.randn(clusters, n_in) / math.sqrt(n_in))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        a = self.assign(x, mask)  # [..., T, K]
        at = a.transpose(-1, -2)
        a_sum = a.sum(-2)[..., None]  # [..., K, 1]
        sigma = self.covar.square() + 1e-6
        s1 = at @ x  # sum_t a_tk x_t
        fv1 = (s1 - a_sum * self.centers) / sigma
        # sum_t a_tk (x_t - mu_k)^2 = S2 - 2 mu S1 + mu^2 sum_t a_tk
        fv2 = (at @ x.square() - 2 * self.centers * s1 + a_sum * self.centers.square()) / sigma.square() - a_sum
        fv1 = F.normalize(F.normalize(fv1, dim=-1).flatten(-2), dim=-1)
        fv2 = F.normalize(fv2.flatten(-2), dim=-1)
        return torch.cat([fv1, fv2], dim=-1)
