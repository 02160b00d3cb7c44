"""Rule ``yt8m_ingest`` (TensorFlow environment): convert one TFRecord shard to the torch-side format
(:func:`toeplitznet.yt8m.tfrecords.convert_shard`; atomic, so a failed shard leaves nothing behind)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("toeplitznet.yt8m")

OUTPUTS = {"json": "shard.json", "index": "shard.index.npz", "data": "shard.bin"}


def _check_downloaded(manifest: str, level: str, tfrecord: str) -> None:
    """At paper scale the shard must be one the download verified (listed in its manifest)."""
    m = json.loads(Path(manifest).read_text())
    names = {Path(f.get("path") or f.get("filename") or f.get("name", "")).name
             for part in (m.get("partitions", {}).get(level) or {}).values() for f in part.get("files", [])}
    if names and Path(tfrecord).name not in names:
        raise FileNotFoundError(f"{tfrecord}: not among the verified shards of {manifest} (level {level}); "
                                "check data.youtube8m.fraction / partitions against studies.yt8m_data")


def run(ctx) -> None:
    from .tfrecords import convert_shard

    p = ctx.params
    if "download" in ctx.inputs:
        _check_downloaded(ctx.input("download"), p["level"], p["tfrecord"])
    prefix = str(ctx.output("json"))[: -len(".json")]
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    info = convert_shard(p["tfrecord"], prefix, p["level"], n_classes=int(p["n_classes"]))
    for name in ("data", "index", "json"):
        ctx.prov.write_sidecar(ctx.output(name))
    log.info("converted %s -> %s (%s records)", p["tfrecord"], prefix, info.get("n_records"))
