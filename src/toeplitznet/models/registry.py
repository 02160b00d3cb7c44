"""Build any model of this package from a plain config dict (YAML-friendly).

``build_model(spec)`` dispatches on ``spec["family"]``:

MLP families (:func:`~toeplitznet.models.mlp.structured_mlp`):
    ``"dcnn"`` (``"dc"``), ``"dtnn"``, ``"toeplitz"``, ``"lowrank"``,
    ``"acdc"``, ``"ldr"``, ``"dense"``.  Keys:

    ============== ======================================================
    n_in           input size (int); or ``input_shape`` ``[C, H, W]``
    n_classes      number of logits (default 10)
    depth          number of hidden structured layers (required)
    width          hidden width (default ``n_in``)
    activation     ``leaky_relu`` (default) | ``relu`` | ``tanh`` | ``identity``
    slope          Leaky-ReLU negative slope (default 0.3)
    relu_every     activation after every k-th hidden layer (default 1)
    rank           rank (``lowrank``, ``ldr``)
    last_layer     ``structured`` (default) | ``dense`` | ``circulant`` | ``none``
    bias           bool (default true)
    (layer keys)   DC: ``n_factors, order, wide, trim_unused, learn_diag,
                   bias_std``; ACDC: ``init, sigma``; LDR: ``kind, solver``
    ============== ======================================================

``"ldr_net"`` (:func:`~toeplitznet.models.mlp.ldr_net`): ``kind``
    (``toeplitz`` | ``subdiagonal`` | ``tridiagonal``), ``rank``, ``n_in`` /
    ``input_shape``, ``n_classes``, ``hidden``, ``activation``, ``slope``,
    ``bias``, ``solver``, ``trim_unused``, ``bias_std``.

``"kernel_cnn"`` (:class:`~toeplitznet.models.kernel_cnn.KernelCNN`, Table 5.1's kernel source):
    ``channels`` (conv widths), ``dataset`` (its shape, classes and standardisation).

``"wide_resnet"`` (:func:`~toeplitznet.models.wide_resnet.wide_resnet`, thesis Section 5.5 CIFAR network):
    ``depth`` (6n + 4, default 28), ``widen`` (default 10), ``num_classes`` or ``dataset`` (its number of
    classes; default 10), ``dropout``, ``leaky_slope``, ``bias`` (conv biases, default false),
    ``in_channels``, ``norm`` (``batch``, default, or ``none``: no batch norms, not in the thesis).

``"resnet101"`` (:func:`~toeplitznet.models.resnet.resnet101`, torchvision, random init, thesis Section 5.5
ImageNet network): ``num_classes`` or ``dataset`` (default 1000).  ``normalize`` defaults to
``"imagenet"`` for this family (``normalize: null`` for the bare network).

``"scattering"`` (:class:`~toeplitznet.models.scattering.ScatteringNet`):
    ``head`` (``dc`` | ``ldr_sd`` | ``ldr_td`` | ``toeplitz_like`` |
    ``dense``), ``input_shape``, ``n_classes``, ``J``, ``L``, ``depth``,
    ``rank``, ``activation``, ``slope``, ``relu_every`` and head-layer keys.

``"yt8m_video"`` (:func:`~toeplitznet.models.yt8m_video.yt8m_video_model`, thesis Table 4.3): ``variant``
    (``baseline`` | ``4dc`` | ``32dc`` | ``4dc_1fc`` | ``dcnn``), ``n_classes`` (default 3862), ``n_in``
    (1152), ``hidden``, ``depth`` / ``classifier`` (``dcnn`` only), ``slope``, ``init``, ``alpha``.

``"yt8m_frame"`` (:func:`~toeplitznet.models.yt8m_frame.yt8m_frame_model`, thesis Tables 4.4, B.1-B.3,
Figures B.3-B.9): ``variant`` (a :data:`~toeplitznet.models.yt8m_frame.FRAME_VARIANTS` name, e.g.
``table_b3_netvlad_circulant``; optional) plus any :class:`~toeplitznet.models.yt8m_frame.YT8MFrameModel`
keyword as an override: ``n_classes``, ``modalities``, ``embeddings``, ``dbof_size``, ``netvlad_clusters``,
``netfv_clusters``, ``audio_*``, ``dbof_pooling``, ``compact_dbof``, ``compact_fc``, ``compact_moe``,
``dbof_factors``, ``fc_factors``, ``diag``, ``moe_diag``, ``order``, ``init``, ``fc_size``, ``merge``,
``mixtures``, ``context_gating``, ``sampling``, ``n_bags``, ``frames_per_bag``, ``eval_seed``,
``l2_normalize``, ``input_bn``, ``feature_sizes``.  Its input is ``(frames uint8 [B, T, 1152], n_frames)``.

Common optional keys: ``seed`` (int: parameters are drawn under
``torch.manual_seed(seed)`` without disturbing the global RNG state),
``normalize`` (a dataset name or ``{"mean": [...], "std": [...]}``: the model
is wrapped in :class:`~toeplitznet.models.normalize.InputNormalized`, so it
takes pixel-space inputs and standardises them per channel itself),
``noise`` (``{"dist": gaussian | laplace | uniform, "sd": float, "clip": bool}``, sd on the [0, 1] pixel
scale: the normalised model is wrapped in :class:`~toeplitznet.robust.noise.NoisyInput`, fresh noise on
the image at every forward pass, Appendices C and D) and
``name`` / ``description`` (ignored).  Any other unknown key raises
``TypeError``.

Examples::

    build_model({"family": "dcnn", "depth": 5, "slope": 0.5, "relu_every": 3,
                 "n_in": 3072, "n_classes": 10})
    build_model({"family": "ldr_net", "kind": "tridiagonal", "rank": 2, "n_in": 3072})
    build_model({"family": "scattering", "head": "dc", "depth": 3,
                 "input_shape": [3, 32, 32]})
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .mlp import FAMILIES, ldr_net, structured_mlp
from .normalize import InputNormalized, normalization_stats
from .scattering import ScatteringNet

__all__ = ["build_model", "MODEL_FAMILIES"]

MODEL_FAMILIES = sorted(set(FAMILIES) | {"ldr_net", "scattering", "kernel_cnn", "wide_resnet", "resnet101",
                                          "yt8m_video", "yt8m_frame"})
_IGNORED = ("name", "description")


def _n_in(spec: dict) -> int:
    if "n_in" in spec:
        n_in = int(spec.pop("n_in"))
        spec.pop("input_shape", None)
        return n_in
    if "input_shape" in spec:
        return int(math.prod(spec.pop("input_shape")))
    raise TypeError("spec needs 'n_in' or 'input_shape'")


def build_model(spec: dict) -> nn.Module:
    """Build a model from a config dict (see the module docstring)."""
    spec = dict(spec)
    for k in _IGNORED:
        spec.pop(k, None)
    family = str(spec.pop("family", spec.pop("model", ""))).lower()
    seed = spec.pop("seed", None)
    if family == "resnet101":
        spec.setdefault("normalize", "imagenet")
    norm = spec.pop("normalize", None)
    noise = spec.pop("noise", None)
    stats = normalization_stats(norm) if norm is not None else None
    if seed is None:
        model = _build(family, spec)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = _build(family, spec)
    model = model if stats is None else InputNormalized(model, *stats)
    if noise:
        from ..robust.noise import NoisyInput

        unknown = set(noise) - {"dist", "sd", "clip"}
        if unknown or "dist" not in noise or "sd" not in noise:
            raise TypeError(f"model spec 'noise' needs keys dist, sd (and optionally clip), got {sorted(noise)}")
        model = NoisyInput(model, str(noise["dist"]), float(noise["sd"]), clip=bool(noise.get("clip", False)))
    return model


def _num_classes(spec: dict, default: int) -> int:
    """``num_classes`` of a spec, or the number of classes of its ``dataset``."""
    dataset = spec.pop("dataset", None)
    if "num_classes" in spec:
        return int(spec.pop("num_classes"))
    if dataset is not None:
        from ..data import INFO

        return int(INFO[dataset].num_classes)
    return default


def _build(family: str, spec: dict) -> nn.Module:
    if family == "wide_resnet":
        from .wide_resnet import wide_resnet

        return wide_resnet(num_classes=_num_classes(spec, 10), normalize=None, **spec)
    if family == "resnet101":
        from .resnet import resnet101

        return resnet101(num_classes=_num_classes(spec, 1000), normalize=None, **spec)
    if family == "yt8m_video":
        from .yt8m_video import yt8m_video_model

        return yt8m_video_model(spec.pop("variant", "baseline"), **spec)
    if family == "yt8m_frame":
        from .yt8m_frame import yt8m_frame_model

        for key in ("modalities", "embeddings", "feature_sizes"):
            if key in spec and isinstance(spec[key], str):
                spec[key] = (spec[key],)
        return yt8m_frame_model(spec.pop("variant", None), **spec)
    if family == "kernel_cnn":
        from .kernel_cnn import kernel_cnn

        return kernel_cnn(**spec)
    if family == "scattering":
        if "input_shape" in spec:
            spec["input_shape"] = tuple(spec["input_shape"])
        return ScatteringNet(**spec)
    if family == "ldr_net":
        n_in = _n_in(spec)
        spec.setdefault("n_classes", 10)
        return ldr_net(n_in=n_in, **spec)
    if family in FAMILIES:
        n_in = _n_in(spec)
        spec.setdefault("n_classes", 10)
        if "depth" not in spec:
            raise TypeError("MLP specs need 'depth'")
        return structured_mlp(family, n_in=n_in, **spec)
    raise ValueError(f"unknown model family {family!r}; choose from {MODEL_FAMILIES}")
