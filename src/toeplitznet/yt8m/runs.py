"""The YouTube-8M training runs behind Tables 4.3, 4.4, B.1-B.3 and Figures B.3-B.9, as plain data (no torch).

Every YouTube-8M item module declares ``MODELS(section) -> [Row]``: the thesis row (or series) label, the
level (``video``: Table 4.3's aggregated features; ``frame``: Appendix B) and the model at the paper's sizes
(a :data:`~toeplitznet.models.yt8m_video.VIDEO_VARIANTS` name, or :mod:`.variants` keyword arguments).
:func:`item_specs` turns them into run specs of the generic rule ``train_run``. A run's id names the network
(``yt8m_av_dbof8192_fc512c1_moe4``), so the same network asked for by several items is trained once (Table
B.2's 1-factor model is Table B.3's circulant DBoF row, Figure B.5's learned-diagonal series and Figure B.9's
model 4).

Scales: the paper sizes are trained at paper scale; ``studies.yt8m_train.shrink`` divides DBoF sizes, cluster
counts and FC widths at smoke scale (a fast stand-in network of the same structure), and the exact parameter
counts of the paper networks come from the auxiliary study ``param_counts_yt8m`` (meta device, 3862 classes).
Training settings (thesis S2/S3, L4980-4991, L7183-7213): ``studies.yt8m_train``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .dag import SECTION as DATA_SECTION, manifest_path
from .schema import N_CLASSES
from .variants import FRAME_DEFAULTS, frame_kwargs, frame_run_name

__all__ = ["TRAIN_SECTION", "Row", "item_specs", "run_spec", "metrics_inputs", "paper_model", "shrunk",
           "final_gap", "gap_curve", "item_hooks", "VIDEO_VARIANTS"]

TRAIN_SECTION = "yt8m_train"
#: Table 4.3's video-level variants (facts of toeplitznet.models.yt8m_video, duplicated to stay torch-free)
VIDEO_VARIANTS = ("baseline", "4dc", "32dc", "4dc_1fc")


@dataclass(frozen=True)
class Row:
    """One network of an item: its thesis row / series label, its level and its paper-size model."""

    label: str
    level: str                       # "video" | "frame"
    variant: str | None = None       # a video variant, or a frame variant of toeplitznet.yt8m.variants
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # frame-level overrides of the variant

    def paper_kwargs(self) -> dict[str, Any]:
        if self.level == "video":
            if self.variant not in VIDEO_VARIANTS:
                raise ValueError(f"unknown video-level variant {self.variant!r}; choose from {VIDEO_VARIANTS}")
            return {"variant": self.variant}
        return frame_kwargs(self.variant, **dict(self.kwargs))

    @property
    def name(self) -> str:
        if self.level == "video":
            return f"video_{self.variant}"
        return frame_run_name(self.paper_kwargs())


def _st(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config["studies"]


def item_module(item: str):
    """The module of a YouTube-8M item (the registry's: ``toeplitznet.items.ch4_youtube8m.table_4_3`` ...)."""
    from ..registry import discover

    return importlib.import_module(discover().modules[item])


def shrunk(kwargs: Mapping[str, Any], shrink: Mapping[str, int]) -> dict[str, Any]:
    """Frame-model kwargs with sizes divided by ``shrink`` (``dbof``, ``clusters``, ``fc``, and the robust
    DBoF's ``bags`` and ``frames`` per bag; 1 = paper size). Audio sizes follow (half the video ones) unless set."""
    out = dict(kwargs)
    d, c, f = int(shrink.get("dbof", 1)), int(shrink.get("clusters", 1)), int(shrink.get("fc", 1))
    for key, div in (("dbof_size", d), ("netvlad_clusters", c), ("netfv_clusters", c), ("fc_size", f)):
        if div != 1:
            out[key] = max(2, int(out.get(key, FRAME_DEFAULTS[key])) // div)
    for key, div in (("audio_dbof_size", d), ("audio_netvlad_clusters", c), ("audio_netfv_clusters", c)):
        if key in out and div != 1:
            out[key] = max(1, int(out[key]) // div)
    for key, div in (("n_bags", int(shrink.get("bags", 1))), ("frames_per_bag", int(shrink.get("frames", 1)))):
        if div != 1 and out.get("sampling", FRAME_DEFAULTS["sampling"]) == "bags":
            out[key] = max(1, int(out.get(key, FRAME_DEFAULTS[key])) // div)
    return out


def paper_model(row: Row, n_classes: int = N_CLASSES) -> dict[str, Any]:
    """``build_model`` spec of the paper network of ``row`` (3862 classes; no seed): what is counted."""
    family = "yt8m_video" if row.level == "video" else "yt8m_frame"
    return {"family": family, **row.paper_kwargs(), "n_classes": int(n_classes)}


def train_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`toeplitznet.train.TrainConfig` dict of every YouTube-8M run (``studies.yt8m_train``)."""
    t = _st(config)[TRAIN_SECTION]
    return {
        "optimizer": t["optimizer"], "lr": float(t["lr"]),
        "schedule": {"type": "exponential", "decay": float(t["lr_decay"]), "every_examples": int(t["decay_examples"]),
                     "staircase": True},
        "epochs": int(t["epochs"]), "batch_size": int(t["batch_size"]), "seed": int(config["seed"]),
        "eval_every": int(t["eval_every"]), "loss": "multilabel_bce",
        "grad_clip": t["grad_clip"], "grad_clip_mode": t["grad_clip_mode"],
        "log_every": int(t["log_every"]),
        "device": "cuda" if config["device"] == "cuda" else ("cpu" if config["device"] == "cpu" else "auto"),
        "progress": False,
    }


def run_spec(config: Mapping[str, Any], row: Row, paths=None) -> dict[str, Any]:
    """The run spec of one network (see :mod:`toeplitznet.plan`)."""
    t, data = _st(config)[TRAIN_SECTION], _st(config)[DATA_SECTION]
    rid = f"yt8m_{row.name}"
    n_classes = int(data["n_classes"])
    if row.level == "video":
        model = {"family": "yt8m_video", **row.paper_kwargs(), "n_classes": n_classes}
    else:
        model = {"family": "yt8m_frame", **shrunk(row.paper_kwargs(), t["shrink"]), "n_classes": n_classes}
    model["seed"] = int(config["seed"])
    source = "youtube8m" if data["source"] == "download" else "youtube8m_synthetic"
    spec_data = {"dataset": "youtube8m", "source": source,
                 "level": row.level, "n_classes": n_classes, "max_frames": int(t["max_frames"]),
                 "split_halves": bool(t["split_halves"]) and row.level == "frame",
                 "train_subset": t["train_subset"], "test_subset": t["test_subset"],
                 "eval_batch_size": int(t["eval_batch_size"])}
    inputs = {"manifest": manifest_path(paths, row.level)} if paths is not None else {}
    labels = {"level": row.level, "name": row.name}
    spec = {"id": rid, "inputs": inputs, "model": model, "data": spec_data,
            "train": dict(train_settings(config), meta={"run": rid}), "labels": labels,
            "count": {"include_bn_stats": False}, "gpu": True}
    if t.get("seeds"):
        spec["seeds"] = [int(s) for s in t["seeds"]]
    return spec


def item_rows(config: Mapping[str, Any], item: str) -> list[Row]:
    return list(item_module(item).MODELS(_st(config)[item]))


def item_specs(config: Mapping[str, Any], item: str, paths=None) -> dict[str, dict[str, Any]]:
    """``{run_id: spec}`` of one item, in row order (two rows may share a network)."""
    out: dict[str, dict[str, Any]] = {}
    for row in item_rows(config, item):
        spec = run_spec(config, row, paths)
        out.setdefault(spec["id"], spec)
    return out


def metrics_inputs(config: Mapping[str, Any], item: str, paths) -> dict[str, str]:
    """Study inputs of an item: every run's metrics and weights (a retrained run reruns the item), the
    dataset manifests (provenance back to the ingested shards) and the paper-size parameter counts."""
    out: dict[str, str] = {}
    for rid, spec in item_specs(config, item, paths).items():
        out[rid] = paths.run(rid, "metrics.json")
        out[f"{rid}__model"] = paths.run(rid, "model.pt")
        out[f"manifest_{spec['data']['level']}"] = spec["inputs"]["manifest"]
    out["param_counts"] = paths.result("param_counts_yt8m")
    return out


def item_hooks(item: str):
    """``runs``, ``inputs`` of a YouTube-8M item module (its runs from ``MODELS``; its study reads them)."""
    def runs(config, paths):
        return item_specs(config, item, paths)

    def inputs(config, paths):
        return metrics_inputs(config, item, paths)

    return runs, inputs


# ------------------------------------------------------------------------------------- aggregation
def final_gap(metrics: Mapping[str, Any]) -> float | None:
    """GAP@20 on the held-out set after the last epoch (no selection on it); None when the run diverged."""
    if metrics.get("status") == "diverged":
        return None
    return ((metrics.get("final_eval") or {}).get("test") or {}).get("gap")


def gap_curve(metrics: Mapping[str, Any]) -> dict[str, list]:
    """Per-epoch held-out GAP and training loss (Figures B.3-B.8)."""
    ep, gap, loss = [], [], []
    for h in metrics.get("history", []):
        g = ((h.get("eval") or {}).get("test") or {}).get("gap")
        ep.append(h["epoch"])
        gap.append(g)
        loss.append((h.get("train") or {}).get("loss"))
    return {"epoch": ep, "gap": gap, "train_loss": loss}


