"""Rule ``yt8m_manifest``: the dataset manifest of one level (every converted shard with its counts, hashes
and partition: training set or held-out evaluation set). No torch, no TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path

OUTPUTS = {"manifest": "MANIFEST.json"}


def run(ctx) -> None:
    from .shards import merge_manifests

    p = ctx.params
    jsons = ctx.input("shards")
    jsons = [jsons] if isinstance(jsons, str) else list(jsons)
    manifest = merge_manifests(jsons, int(p["split_rule"]["validate_train_shards"]))
    for sh in manifest.get("shards", []):  # the plan's partition (toeplitznet.yt8m.dag) and the rule's must agree
        name = Path(str(sh.get("json") or sh.get("prefix") or sh.get("source", ""))).name.split(".")[0]
        if name in p["partitions"] and sh.get("partition") not in (None, p["partitions"][name]):
            raise ValueError(f"shard {name}: partition {sh.get('partition')} differs from the plan's {p['partitions'][name]}")
    manifest.update({"level": p["level"], "source": p["source"], "n_classes": int(p["n_classes"]),
                     "split_rule": p["split_rule"]})
    out = ctx.output("manifest")
    ctx.prov.write_json(out, json.loads(json.dumps(manifest)))
