"""The YouTube-8M stage of the DAG as plain data (no torch, no TensorFlow): which TFRecord shards the
config selects, which job writes each (synthetic at smoke scale, the verified download at paper scale), where
its converted torch-side shard goes, and the per-level dataset manifest the training runs read.

Paths (``<res>`` = ``results/<scale>``)::

    <res>/yt8m/tfrecords/<level>/<shard>.tfrecord        synthetic TFRecords (rule yt8m_synthesize, TensorFlow)
    <paths.data>/youtube8m/<level>/<shard>.tfrecord        downloaded shards (rule download, md5-verified)
    <res>/yt8m/<level>/shards/<shard>.{json,index.npz,<level>.bin}   converted shard (rule yt8m_ingest, TensorFlow)
    <res>/yt8m/<level>/MANIFEST.json                        counts, hashes and partition of every shard
                                                           (rule yt8m_manifest; what a training run reads)

Appendix B's split (L7186-7190): the whole train split plus the validate shards with index below
``validate_train_shards`` train; the other validate shards are the evaluation set (test labels are not public).
The thesis says "70 % of the validation set" but counts 4,822,555 training videos, i.e. 83.9 % of validate
(= validate0000-3223, the starter README's ``validate[A-Za-z]*`` glob): 3224 is the default, see
docs/youtube8m.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SECTION", "LEVELS", "Shard", "shards", "manifest_path", "shard_outputs", "section", "partition_of",
           "synth_seed", "PlanInputError"]

SECTION = "yt8m_data"
LEVELS = ("video", "frame")
SPLITS = ("train", "validate")
#: the local shard names of a split: ``train0000`` ... (:mod:`toeplitznet.data.youtube8m`)
SHARD_DIGITS = 4


class PlanInputError(ValueError):
    """A ``studies.yt8m_data`` / ``data.youtube8m`` combination the DAG cannot be built from."""


@dataclass(frozen=True)
class Shard:
    """One TFRecord shard of one level and its converted output."""

    level: str
    split: str
    name: str          # "train0000"
    index: int
    tfrecord: str      # path of the TFRecord file
    prefix: str        # converted shard prefix (``<prefix>.json`` ...)
    synthetic: bool
    partition: str     # "train" (training set) or "heldout" (evaluation set)

    @property
    def key(self) -> str:
        return f"{self.level}/{self.name}"


def section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config["studies"][SECTION]


def root(paths) -> str:
    return f"{paths.results}/yt8m"


def manifest_path(paths, level: str) -> str:
    return f"{root(paths)}/{level}/MANIFEST.json"


def shard_outputs(prefix: str, level: str) -> dict[str, str]:
    """The files of a converted shard (the rule's outputs)."""
    return {"json": f"{prefix}.json", "index": f"{prefix}.index.npz", "data": f"{prefix}.{level}.bin"}


def partition_of(split: str, index: int, validate_train_shards: int) -> str:
    """``train`` for every train shard and the validate shards below the bound; ``heldout`` otherwise."""
    if split == "train":
        return "train"
    return "train" if index < int(validate_train_shards) else "heldout"


def synth_seed(base: int, level: str, name: str) -> int:
    """Seed of one synthetic shard: a pure function of the config seed and the shard's identity."""
    h = hashlib.sha256(f"{int(base)}/{level}/{name}".encode()).hexdigest()
    return int(h[:8], 16)


def _downloaded(config, level: str, split: str) -> list[tuple[str, int]]:
    """``(local name without extension, index)`` of the shards ``data.youtube8m`` selects (names derived
    from the official naming scheme; the download verifies them against the plan's md5s)."""
    from ..data.youtube8m import shard_plan

    yt = config["data"]["youtube8m"]
    levels = [yt["level"]] if isinstance(yt["level"], str) else list(yt["level"])
    if level not in levels:
        raise PlanInputError(f"studies.{SECTION}.levels asks for the {level} level but data.youtube8m.level is "
                             f"{yt['level']}: add {level!r} to data.youtube8m.level")
    if split not in yt["partitions"]:
        raise PlanInputError(f"studies.{SECTION} needs the {split} partition: add it to data.youtube8m.partitions")
    out = []
    for e in shard_plan(f"2/{level}/{split}", fraction=float(yt["fraction"])):
        stem = e.local_name.rsplit(".", 1)[0]
        out.append((stem, int(stem[len(split):])))
    return out


def shards(config: Mapping[str, Any], paths, levels=None) -> dict[str, Shard]:
    """Every shard of the config's levels (``{level}/{name}`` -> :class:`Shard`), in name order."""
    s = section(config)
    out: dict[str, Shard] = {}
    for level in levels or s["levels"]:
        if level not in LEVELS:
            raise PlanInputError(f"studies.{SECTION}.levels: unknown level {level!r} (choose from {LEVELS})")
        for split in SPLITS:
            if s["source"] == "synthetic":
                n = int(s["synthetic"]["shards"][split])
                names = [(f"{split}{i:0{SHARD_DIGITS}d}", i) for i in range(n)]
            else:
                names = _downloaded(config, level, split)
            for name, idx in names:
                tfr = (f"{root(paths)}/tfrecords/{level}/{name}.tfrecord" if s["source"] == "synthetic"
                       else f"{paths.data}/youtube8m/{level}/{name}.tfrecord")
                sh = Shard(level=level, split=split, name=name, index=idx, tfrecord=tfr,
                           prefix=f"{root(paths)}/{level}/shards/{name}", synthetic=s["source"] == "synthetic",
                           partition=partition_of(split, idx, s["validate_train_shards"]))
                out[sh.key] = sh
    for level in levels or s["levels"]:
        parts = {sh.partition for sh in out.values() if sh.level == level}
        if parts != {"train", "heldout"}:
            raise PlanInputError(f"studies.{SECTION}: the {level} level has no "
                                 f"{'held-out' if 'heldout' not in parts else 'training'} shard (check "
                                 "validate_train_shards against the validate shards selected)")
    return out


@dataclass
class IngestJob:
    """One job of the YouTube-8M stage (rules ``yt8m_synthesize``, ``yt8m_ingest``, ``yt8m_manifest``)."""

    study: str
    inputs: dict[str, Any]
    outputs: dict[str, str]
    cfg: dict[str, Any]
    code: dict[str, Any]


def needed(config: Mapping[str, Any], reg, active) -> bool:
    """True when the config has ``studies.yt8m_data`` (the stage's files can then be built on their own, e.g.
    ``snakemake results/smoke/yt8m/frame/MANIFEST.json``) or an active item uses it."""
    return SECTION in config.get("studies", {}) or any(SECTION in reg.required_sections(it.id) for it in active)


def ingestion_jobs(config: Mapping[str, Any], paths, base: Mapping[str, Any], code) -> dict[str, dict[Any, IngestJob]]:
    """``{"synthesize": {(level, shard): job}, "ingest": {...}, "manifest": {level: job}}``; ``base`` is the
    global part of every job's config (:func:`toeplitznet.plan.job_base`), ``code(module)`` its code record."""
    s = section(config)
    synth, ingest, manifest = {}, {}, {}
    all_shards = shards(config, paths)
    memo: dict[str, Any] = {}
    raw_code = code

    def code(mod: str):  # noqa: F811 - one code record per job module, not one per shard
        if mod not in memo:
            memo[mod] = raw_code(mod)
        return memo[mod]

    for sh in all_shards.values():
        key = (sh.level, sh.name)
        if sh.synthetic:
            g = s["synthetic"]
            synth[key] = IngestJob(
                study="yt8m_synthesize", inputs={}, outputs={"tfrecord": sh.tfrecord},
                cfg={**base, "study": {"level": sh.level, "name": sh.name, "n_videos": int(g["videos_per_shard"][sh.split]),
                                       "seed": synth_seed(config["seed"], sh.level, sh.name),
                                       "world_seed": int(g["world_seed"]), "n_classes": int(s["n_classes"]),
                                       "min_frames": int(g["min_frames"]), "max_frames": int(g["max_frames"])}},
                code=code("toeplitznet.yt8m.synthesize_job"))
            inputs = {"tfrecord": sh.tfrecord}
        else:
            inputs = {"download": paths.manifest("youtube8m")}
        ingest[key] = IngestJob(study="yt8m_ingest", inputs=inputs, outputs=shard_outputs(sh.prefix, sh.level),
                                cfg={**base, "study": {"level": sh.level, "name": sh.name, "tfrecord": sh.tfrecord,
                                                       "n_classes": int(s["n_classes"])}},
                                code=code("toeplitznet.yt8m.ingest_job"))
    for level in s["levels"]:
        mine = [sh for sh in all_shards.values() if sh.level == level]
        manifest[level] = IngestJob(
            study="yt8m_manifest", inputs={"shards": [f"{sh.prefix}.json" for sh in mine]},
            outputs={"manifest": manifest_path(paths, level)},
            cfg={**base, "study": {"level": level, "source": s["source"], "n_classes": int(s["n_classes"]),
                                   "partitions": {sh.name: sh.partition for sh in mine},
                                   "split_rule": {"validate_train_shards": int(s["validate_train_shards"])}}},
            code=code("toeplitznet.yt8m.manifest_job"))
    return {"synthesize": synth, "ingest": ingest, "manifest": manifest}
