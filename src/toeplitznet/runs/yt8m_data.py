"""The YouTube-8M data of a training run: the converted shards of a dataset manifest
(``results/<scale>/yt8m/<level>/MANIFEST.json``, rule ``yt8m_manifest``) as a torch training set and a
held-out evaluation loader (Appendix B's split, :mod:`toeplitznet.yt8m.dag`). Torch only, never TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping


def shard_prefixes(manifest: str | Path) -> dict[str, list[str]]:
    """``{"train": [...], "heldout": [...]}``: the converted-shard prefixes of each partition, found next to
    the manifest (``<dir>/shards/<name>``) so that a moved results folder still reads its own shards."""
    manifest = Path(manifest)
    m = json.loads(manifest.read_text())
    out: dict[str, list[str]] = {"train": [], "heldout": []}
    for sh in m.get("shards", []):
        part = sh.get("partition")
        if part not in out:
            raise ValueError(f"{manifest}: shard {sh.get('prefix')} has partition {part!r} (train or heldout)")
        out[part].append(str(manifest.parent / "shards" / Path(sh["prefix"]).name))
    for part, prefixes in out.items():
        if not prefixes:
            raise ValueError(f"{manifest}: no {part} shard (studies.yt8m_data.validate_train_shards and the "
                             "shard counts decide the split)")
    return out


def _subset(ds, n: int | None, seed: int):
    import torch
    from torch.utils.data import Subset

    if n is None or int(n) >= len(ds):
        return ds
    g = torch.Generator().manual_seed(int(seed))
    return Subset(ds, torch.randperm(len(ds), generator=g)[: int(n)].tolist())


def datasets(data: Mapping[str, Any], inputs: Mapping[str, str], seed: int):
    """``(train Dataset, held-out DataLoader)`` of a run's data spec (keys ``level``, ``n_classes``,
    ``max_frames``, ``split_halves`` (training only), ``train_subset``, ``test_subset``, ``eval_batch_size``)."""
    from torch.utils.data import DataLoader

    from ..yt8m.loader import YT8MDataset, collate

    parts = shard_prefixes(inputs["manifest"])
    kw = dict(level=data["level"], n_classes=int(data["n_classes"]), max_frames=int(data["max_frames"]))
    train = YT8MDataset(parts["train"], split_halves=bool(data.get("split_halves")), **kw)
    test = YT8MDataset(parts["heldout"], split_halves=False, **kw)
    train = _subset(train, data.get("train_subset"), seed)
    test = _subset(test, data.get("test_subset"), seed + 1)
    loader = DataLoader(test, batch_size=int(data.get("eval_batch_size", 512)), shuffle=False, collate_fn=collate)
    return train, loader


def stand_in_note(data: Mapping[str, Any]) -> str | None:
    if data["source"] == "youtube8m":
        return None
    return (f"synthetic YouTube-8M TFRecords in the official schema ({data['n_classes']} classes, written and "
            "ingested by the pipeline) stand in for YouTube-8M")
