"""Frame-level YouTube-8M models of thesis Appendix B (and Chapter 4, Table 4.4 = Table B.1).

Architecture (Figure B.1, L7013-7034; Figure B.2, L7124-7145)::

    (frames, n_frames) -> FrameInput -> FrameSampler -> per modality (video: rgb 1024, audio: 128)
        -> embeddings (DBoF | NetVLAD | NetFV; bags averaged) -> one FCBlock per embedding
        -> merge -> concat over modalities -> MoE -> [ContextGating] -> probabilities [B, n_classes]

Sizes (L4980-4986 = L7188-7194): FC 512 units, DBoF 8192, NetVLAD 64, NetFV 64 clusters for video and half for
audio (4096, 32, 32), MoE with 4 mixtures, context gating ``3862 x 3862`` with batch norm (research note: the
author's MoE "with BN").  Every size is a constructor argument; the defaults are these paper sizes.

``merge`` (only matters with several embeddings per modality, the "diversity" model of Section B.2.4):
``"average"`` averages the FC outputs of a modality (Figure B.2 and L7125-7129 "averaged, concatenated");
``"concat"`` concatenates them, as the author's code does (research note; ``CirulantDiagonalNetwork``).  Only
``"concat"`` with FC 1024 reproduces Figure B.9's counts (see :data:`FRAME_VARIANTS`, ``fig_b9_*``).

Parameter counts (:func:`~toeplitznet.models.count_parameters`: trainable parameters, i.e. batch-norm scale and
shift included, running statistics and fixed +-1 signs excluded, which is TensorFlow's trainable-variable count)
reproduce every printed count of Tables 4.4/B.1, B.2 (FC layer) and B.3 after the thesis's truncation
(``tests/yt8m/test_yt8m_models.py``); exceptions, all documented there: Table B.2's 1-factor "12K" (one learned
factor is 24,576) and Table B.3's DBoF CR "9.56" (we get 9.52).

:data:`FRAME_VARIANTS` names the configurations of the thesis's tables and figures; :func:`yt8m_frame_model`
builds one (with overrides).
"""

from __future__ import annotations

import torch
from torch import nn

from ..yt8m.variants import EMBEDDINGS, FRAME_VARIANTS, MODALITIES
from .yt8m_heads import ContextGating, FCBlock, MoE
from .yt8m_pooling import DBoF, FrameInput, FrameSampler, NetFV, NetVLAD, _framewise

__all__ = ["YT8MFrameModel", "FRAME_VARIANTS", "yt8m_frame_model", "EMBEDDINGS", "MODALITIES"]


def _half(v: int | None, video: int) -> int:
    return max(1, video // 2) if v is None else int(v)


class YT8MFrameModel(nn.Module):
    """Appendix B frame-level model; ``forward((frames, n_frames))`` -> probabilities ``[B, n_classes]``.

    Args:
        n_classes: number of classes (3862 in the 2018 data).
        modalities: ``("video",)`` (Tables 4.4/B.1, L7232-7233) or ``("video", "audio")`` (Tables B.2, B.3).
        embeddings: subset of ``("dbof", "netvlad", "netfv")`` used for every modality.
        dbof_size, netvlad_clusters, netfv_clusters: video sizes (8192, 64, 64).
        audio_dbof_size, audio_netvlad_clusters, audio_netfv_clusters: audio sizes (default: half the video ones).
        dbof_pooling: ``"max"`` (default) or ``"average"`` inside each bag (Figure B.3).
        compact_dbof, compact_fc, compact_moe: replace the DBoF projection / the FC projections / the MoE by DC
            maps (Tables 4.4/B.1 rows; Table B.3 "FC Circulant").
        dbof_factors, fc_factors: DC factors of the compact DBoF / FC (Table B.2: 1, 3, 6 for the FC).
        diag: diagonals of the compact DBoF and FC: ``"learned"`` (thesis), ``"fixed"`` (Cheng et al. 2015,
            Figure B.5) or ``"none"``; moe_diag: the same for the compact MoE (default ``"none"``, the author's
            ``Circulant_MoeModel``).  order: DC factor order (``"cd"``, the author's layer).  init: ``"thesis"`` or
            ``"author"`` (see :mod:`.yt8m_compact`).
        fc_size: units of every FC block (512).
        merge: ``"average"`` or ``"concat"`` of the FC outputs of one modality (module docstring).
        mixtures: MoE mixtures (4).
        context_gating: add context gating after the MoE; default: on, except with ``compact_moe`` (the author's
            compact MoE has none; only then Table B.1's 12M / CR 72.0 are reproduced).
        sampling, n_bags, frames_per_bag, eval_seed: frame sampling (:class:`~.yt8m_pooling.FrameSampler`);
            defaults 10 bags of 15 frames (the robust DBoF, Eq. B.2, the author's ``n_bagging=10``,
            ``iterations=15``).
        l2_normalize: per-frame L2 normalisation of the 1152 features (starter code, author's Appendix B code).
        input_bn: batch norm of the input frames (starter DBoF; off in the author's final code).
        feature_sizes: (rgb, audio) feature widths of the 1152-d frames.
    """

    def __init__(
        self,
        n_classes: int = 3862,
        *,
        modalities=("video", "audio"),
        embeddings=("dbof",),
        dbof_size: int = 8192,
        netvlad_clusters: int = 64,
        netfv_clusters: int = 64,
        audio_dbof_size: int | None = None,
        audio_netvlad_clusters: int | None = None,
        audio_netfv_clusters: int | None = None,
        dbof_pooling: str = "max",
        compact_dbof: bool = False,
        compact_fc: bool = False,
        compact_moe: bool = False,
        dbof_factors: int = 1,
        fc_factors: int = 1,
        diag: str = "learned",
        moe_diag: str = "none",
        order: str = "cd",
        init: str = "thesis",
        fc_size: int = 512,
        merge: str = "average",
        mixtures: int = 4,
        context_gating: bool | None = None,
        sampling: str = "bags",
        n_bags: int = 10,
        frames_per_bag: int = 15,
        eval_seed: int = 0,
        l2_normalize: bool = True,
        input_bn: bool = False,
        feature_sizes=(1024, 128),
    ):
        super().__init__()
        modalities, embeddings = tuple(modalities), tuple(embeddings)
        if not modalities or len(set(modalities)) != len(modalities) or not set(modalities) <= set(MODALITIES):
            raise ValueError(f"modalities must be distinct entries of {MODALITIES}, got {modalities}")
        if not embeddings or len(set(embeddings)) != len(embeddings) or not set(embeddings) <= set(EMBEDDINGS):
            raise ValueError(f"embeddings must be distinct entries of {EMBEDDINGS}, got {embeddings}")
        if merge not in ("average", "concat"):
            raise ValueError(f"merge must be 'average' or 'concat', got {merge!r}")
        if compact_dbof and "dbof" not in embeddings:
            raise ValueError("compact_dbof needs the 'dbof' embedding")
        feature_sizes = tuple(int(v) for v in feature_sizes)
        if len(feature_sizes) != 2 or min(feature_sizes) < 1:
            raise ValueError(f"feature_sizes must be two positive widths (rgb, audio), got {feature_sizes}")
        self.n_classes, self.modalities, self.embeddings, self.merge = int(n_classes), modalities, embeddings, merge
        self.feature_sizes = feature_sizes
        rgb, aud = feature_sizes
        self._slices = {"video": (0, rgb), "audio": (rgb, rgb + aud)}

        self.frontend = FrameInput(rgb + aud, l2_normalize=l2_normalize)
        self.sampler = FrameSampler(sampling, n_bags, frames_per_bag, eval_seed)
        self.input_bn = nn.BatchNorm1d(rgb + aud) if input_bn else None
        sizes = {
            "video": dict(dbof=dbof_size, netvlad=netvlad_clusters, netfv=netfv_clusters),
            "audio": dict(dbof=_half(audio_dbof_size, dbof_size), netvlad=_half(audio_netvlad_clusters,
                          netvlad_clusters), netfv=_half(audio_netfv_clusters, netfv_clusters)),
        }
        dc = dict(diag=diag, order=order, init=init)
        self.embed = nn.ModuleDict()
        self.fc = nn.ModuleDict()
        width = 0
        for mod in modalities:
            n_in = feature_sizes[0] if mod == "video" else feature_sizes[1]
            for emb in embeddings:
                size = sizes[mod][emb]
                if emb == "dbof":
                    e = DBoF(n_in, size, pooling=dbof_pooling, compact=compact_dbof,
                             n_factors=dbof_factors if compact_dbof else 1, **(dc if compact_dbof else {}))
                elif emb == "netvlad":
                    e = NetVLAD(n_in, size)
                else:
                    e = NetFV(n_in, size)
                key = f"{mod}_{emb}"
                self.embed[key] = e
                self.fc[key] = FCBlock(e.out_dim, fc_size, compact=compact_fc,
                                       n_factors=fc_factors if compact_fc else 1, **(dc if compact_fc else {}))
            width += fc_size * (len(embeddings) if merge == "concat" else 1)
        self.moe = MoE(width, n_classes, mixtures, compact=compact_moe,
                       **(dict(diag=moe_diag, order=order, init=init) if compact_moe else {}))
        if context_gating is None:
            context_gating = not compact_moe
        self.gating = ContextGating(n_classes) if context_gating else None

    def forward(self, x) -> torch.Tensor:
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise TypeError("frame-level models take x = (frames uint8 [B, T, 1152], n_frames int64 [B])")
        frames, n_frames = x
        feats, mask = self.frontend(frames, n_frames)
        xs, ms = self.sampler(feats, mask, n_frames)  # [B, S, K, F], [B, S, K] | None
        if self.input_bn is not None:
            xs = _framewise(self.input_bn, xs, ms)
        parts = []
        for mod in self.modalities:
            a, b = self._slices[mod]
            xm = xs[..., a:b]
            outs = [self.fc[f"{mod}_{e}"](self.embed[f"{mod}_{e}"](xm, ms).mean(dim=1)) for e in self.embeddings]
            parts.append(torch.stack(outs).mean(0) if self.merge == "average" else torch.cat(outs, dim=-1))
        p = self.moe(torch.cat(parts, dim=-1))
        return p if self.gating is None else self.gating(p)


def yt8m_frame_model(variant: str | None = None, **overrides) -> YT8MFrameModel:
    """:class:`YT8MFrameModel` of a named :data:`FRAME_VARIANTS` entry (``None``: the constructor defaults),
    with ``overrides`` applied on top (e.g. ``n_classes=100, dbof_size=256`` for a smoke run)."""
    if variant is None:
        kw = {}
    else:
        if variant not in FRAME_VARIANTS:
            raise ValueError(f"unknown YouTube-8M frame variant {variant!r}; choose from {sorted(FRAME_VARIANTS)}")
        kw = dict(FRAME_VARIANTS[variant])
    kw.update(overrides)
    return YT8MFrameModel(**kw)
