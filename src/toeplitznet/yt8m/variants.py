"""Named configurations of the frame-level models of thesis Appendix B and Table 4.4 (plain data, no torch).

Each entry is the keyword arguments of :class:`toeplitznet.models.yt8m_frame.YT8MFrameModel` at the paper's
sizes (FC 512, DBoF 8192, NetVLAD / NetFV 64 clusters for video and half for audio, MoE with 4 mixtures;
L4980-4986 = L7188-7194). The plan builds run specs from them without importing torch
(:mod:`toeplitznet.yt8m.runs`); :func:`toeplitznet.models.yt8m_frame.yt8m_frame_model` builds the networks.

Figure B.9's nine compact models (reference/figure_data/figB_9_compact_models_size_vs_gap.csv, labels such as
"NetVLAD 32, Compact FC 256, MoE 2") are ``fig_b9_model_<k>``; with several embeddings per modality their FC
outputs are concatenated (``merge="concat"``), the only reading that gives the figure's sizes (25, 50, 51, 59,
87, 158, 159, 166, 176 M parameters; ``tests/yt8m/test_yt8m_models.py``).
"""

from __future__ import annotations

__all__ = ["EMBEDDINGS", "MODALITIES", "FRAME_VARIANTS", "FRAME_DEFAULTS", "frame_kwargs", "frame_run_name"]

EMBEDDINGS = ("dbof", "netvlad", "netfv")
MODALITIES = ("video", "audio")

_AV = dict(modalities=("video", "audio"))
_V = dict(modalities=("video",))

#: named configurations of the thesis's tables and figures (paper sizes; override any key)
FRAME_VARIANTS: dict[str, dict] = {
    # Table 4.4 = Table B.1 (video features only, L7232-7233)
    "table_b1_dense": dict(_V),
    "table_b1_compact_dbof": dict(_V, compact_dbof=True),
    "table_b1_compact_fc": dict(_V, compact_fc=True),
    "table_b1_compact_moe": dict(_V, compact_moe=True),
    # Table B.2 (audio + video, DBoF, FC layer with 1, 3, 6 factors)
    "table_b2_dense": dict(_AV),
    "table_b2_factors_1": dict(_AV, compact_fc=True, fc_factors=1),
    "table_b2_factors_3": dict(_AV, compact_fc=True, fc_factors=3),
    "table_b2_factors_6": dict(_AV, compact_fc=True, fc_factors=6),
    # Table B.3 (audio + video, dense vs circulant FC) and Figures B.6-B.8
    "table_b3_dbof_dense": dict(_AV, embeddings=("dbof",)),
    "table_b3_dbof_circulant": dict(_AV, embeddings=("dbof",), compact_fc=True),
    "table_b3_netvlad_dense": dict(_AV, embeddings=("netvlad",)),
    "table_b3_netvlad_circulant": dict(_AV, embeddings=("netvlad",), compact_fc=True),
    "table_b3_netfv_dense": dict(_AV, embeddings=("netfv",)),
    "table_b3_netfv_circulant": dict(_AV, embeddings=("netfv",), compact_fc=True),
    # Figure B.3: robust DBoF (10 bags x 15 frames) vs max / average pooling over all frames (our reading)
    "fig_b3_robust": dict(_AV, sampling="bags", n_bags=10, frames_per_bag=15, dbof_pooling="max"),
    "fig_b3_max": dict(_AV, sampling="all", dbof_pooling="max"),
    "fig_b3_average": dict(_AV, sampling="all", dbof_pooling="average"),
    # Figure B.5: compact FC with learned diagonals vs Cheng et al.'s fixed random signs
    "fig_b5_learned": dict(_AV, compact_fc=True, diag="learned"),
    "fig_b5_cheng": dict(_AV, compact_fc=True, diag="fixed"),
    # Section B.2.4 / Figure B.2 as described: DBoF + NetVLAD + NetFV, FC outputs averaged per modality
    "diversity": dict(_AV, embeddings=EMBEDDINGS, merge="average"),
    "diversity_compact": dict(_AV, embeddings=EMBEDDINGS, merge="average", compact_fc=True),
    # Figure B.9 / L7140-7145 counts (728M dense, 160M compact): NetVLAD(256) + NetFV(128), FC 1024, concatenated
    "fig_b9_diversity_dense": dict(_AV, embeddings=("netvlad", "netfv"), netvlad_clusters=256, netfv_clusters=128,
                                   fc_size=1024, merge="concat"),
    "fig_b9_diversity_compact": dict(_AV, embeddings=("netvlad", "netfv"), netvlad_clusters=256,
                                     netfv_clusters=128, fc_size=1024, merge="concat", compact_fc=True),
}
# Table 4.4 row names (the same models as Table B.1)
FRAME_VARIANTS.update({
    "table_4_4_original": FRAME_VARIANTS["table_b1_dense"],
    "table_4_4_dbof_dc": FRAME_VARIANTS["table_b1_compact_dbof"],
    "table_4_4_fc_dc": FRAME_VARIANTS["table_b1_compact_fc"],
    "table_4_4_moe_dc": FRAME_VARIANTS["table_b1_compact_moe"],
})


_B9 = dict(_AV, compact_fc=True)
FRAME_VARIANTS.update({
    "fig_b9_model_1": dict(_B9, embeddings=("netvlad",), netvlad_clusters=32, fc_size=256, mixtures=2),
    "fig_b9_model_2": dict(_B9, embeddings=("netvlad",)),
    "fig_b9_model_3": dict(_B9, embeddings=("netfv",)),
    "fig_b9_model_4": dict(_B9, embeddings=("dbof",)),
    "fig_b9_model_5": dict(_B9, embeddings=("netvlad",), netvlad_clusters=256, fc_size=1024),
    "fig_b9_model_6": dict(_B9, embeddings=("netvlad", "netfv"), netvlad_clusters=128, netfv_clusters=64,
                           fc_size=1024, merge="concat"),
    "fig_b9_model_7": FRAME_VARIANTS["fig_b9_diversity_compact"],
    "fig_b9_model_8": dict(_B9, embeddings=("dbof", "netvlad"), netvlad_clusters=128, fc_size=1024, merge="concat"),
    "fig_b9_model_9": dict(_B9, embeddings=("dbof", "netvlad"), dbof_size=16384, netvlad_clusters=256,
                           fc_size=1024, merge="concat"),
})

#: the constructor defaults of YT8MFrameModel that name a run (tests/yt8m check them against the class)
FRAME_DEFAULTS = dict(modalities=("video", "audio"), embeddings=("dbof",), dbof_size=8192, netvlad_clusters=64,
                      netfv_clusters=64, dbof_pooling="max", compact_dbof=False, compact_fc=False,
                      compact_moe=False, dbof_factors=1, fc_factors=1, diag="learned", fc_size=512,
                      merge="average", mixtures=4, sampling="bags", n_bags=10, frames_per_bag=15)

#: keys that may differ between two runs of one name only through the scale's shrinking (sizes)
_NAMED = set(FRAME_DEFAULTS)


def frame_kwargs(variant: str | None = None, **overrides) -> dict:
    """The keyword arguments of a named variant (``None``: the defaults) with ``overrides``: plain JSON-able data
    (tuples as lists), keys at their :data:`FRAME_DEFAULTS` value left out."""
    if variant is not None and variant not in FRAME_VARIANTS:
        raise ValueError(f"unknown YouTube-8M frame variant {variant!r}; choose from {sorted(FRAME_VARIANTS)}")
    kw = dict(FRAME_VARIANTS[variant]) if variant else {}
    kw.update(overrides)
    kw = {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}
    # canonical: a key at its default is left out, so one network has one spec whichever variant names it
    return {k: v for k, v in kw.items() if k not in FRAME_DEFAULTS or _plain(FRAME_DEFAULTS[k]) != v}


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def frame_run_name(kwargs: dict) -> str:
    """Readable name of a frame-level model from its paper-size kwargs, e.g. ``av_dbof8192_fc512c1_moe4``
    (the same network gets the same name whichever item asks for it). Only the keys of
    :data:`FRAME_DEFAULTS` may be set."""
    extra = set(kwargs) - _NAMED
    if extra:
        raise ValueError(f"frame run names cover {sorted(_NAMED)}; unexpected keys {sorted(extra)}")
    kw = {**FRAME_DEFAULTS, **kwargs}
    mods = tuple(kw["modalities"])
    parts = ["v" if mods == ("video",) else ("a" if mods == ("audio",) else "av")]
    for emb in kw["embeddings"]:
        if emb == "dbof":
            p = f"dbof{kw['dbof_size']}" + ("c" if kw["compact_dbof"] else "")
            if kw["compact_dbof"] and kw["dbof_factors"] != 1:
                p += str(kw["dbof_factors"])
            if kw["dbof_pooling"] != "max":
                p += kw["dbof_pooling"][:3]
        elif emb == "netvlad":
            p = f"netvlad{kw['netvlad_clusters']}"
        else:
            p = f"netfv{kw['netfv_clusters']}"
        parts.append(p)
    if kw["sampling"] == "all":
        parts.append("allframes")
    elif (kw["n_bags"], kw["frames_per_bag"]) != (10, 15):
        parts.append(f"bags{kw['n_bags']}x{kw['frames_per_bag']}")
    fc = f"fc{kw['fc_size']}"
    if kw["compact_fc"]:
        fc += f"c{kw['fc_factors']}" + ("fixed" if kw["diag"] == "fixed" else "")
    parts.append(fc)
    if len(kw["embeddings"]) > 1:
        parts.append(kw["merge"][:3])
    parts.append(f"moe{kw['mixtures']}" + ("c" if kw["compact_moe"] else ""))
    return "_".join(parts)
