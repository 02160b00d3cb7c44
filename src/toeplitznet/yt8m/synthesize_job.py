"""Rule ``yt8m_synthesize`` (TensorFlow environment): write one synthetic TFRecord shard in the official
YouTube-8M schema (smoke scale; :mod:`toeplitznet.yt8m.synthetic` says what the data are)."""

from __future__ import annotations

import logging

log = logging.getLogger("toeplitznet.yt8m")

OUTPUTS = {"tfrecord": "shard.tfrecord"}


def run(ctx) -> None:
    from .synthetic import SyntheticConfig
    from .tfrecords import write_synthetic_shard

    p = ctx.params
    out = ctx.output("tfrecord")
    out.parent.mkdir(parents=True, exist_ok=True)
    # one prototype world (world_seed) for every shard, so that the held-out shards are learnable
    world = SyntheticConfig(n_classes=int(p["n_classes"]), prototype_seed=int(p["world_seed"]),
                            min_frames=int(p["min_frames"]), max_frames=int(p["max_frames"]))
    write_synthetic_shard(out, p["level"], n_videos=int(p["n_videos"]), seed=int(p["seed"]), config=world)
    ctx.prov.write_sidecar(out)
    log.info("wrote %s (%d synthetic %s-level videos)", out, int(p["n_videos"]), p["level"])
