"""The Snakemake ``download`` rule: fetch and verify one dataset, then record provenance.

Output: ``<paths.data>/<dataset>/MANIFEST.json`` (written by :func:`toeplitznet.data.download.fetch`,
listing every file with its sha256), plus the usual ``MANIFEST.json.prov.json`` sidecar. Studies declare
the manifest as their input, so the data is hashed once, at download, and referenced afterwards.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from ..io import atomic_write_json
from ..report.provenance import Provenance

log = logging.getLogger("toeplitznet.data")


#: 2018 release: records per split and the total size of each level (all splits; research note, starter README)
YT8M_RECORDS = {"train": 3_888_919, "validate": 1_112_356, "test": 1_133_323}
YT8M_TOTAL_GB = {"video": 31.0, "frame": 1530.0}


def youtube8m_disk_gb(yt) -> dict[str, float]:
    """Expected download size in GB per level of a ``data.youtube8m`` selection (split shares of the records)."""
    total = sum(YT8M_RECORDS.values())
    share = sum(YT8M_RECORDS[p] for p in yt["partitions"]) / total
    return {lv: YT8M_TOTAL_GB[lv] * share * float(yt["fraction"]) for lv in youtube8m_levels(yt)}


def youtube8m_levels(yt) -> list[str]:
    """``data.youtube8m.level`` as a list (``video``, ``frame`` or both); shards land in ``<root>/<level>/``."""
    lv = yt["level"]
    return [lv] if isinstance(lv, str) else list(lv)


def run_download_rule(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(message)s")
    from .download import fetch
    from .errors import DataError, imagenet_root_unset

    p = smk.params
    data = smk.config["data"]
    manifest = Path(smk.output.manifest)
    root = manifest.parent
    # where the files come from (a mirror, the network) is not a param of the rule: the files are verified
    # against the same checksums whatever their source, so changing it must not rerun the DAG
    kw = {"mirror": data.get("mirror"), "allow_download": bool(data.get("allow_download"))}
    try:
        if p.dataset == "imagenet":
            if not p.imagenet_root:
                raise imagenet_root_unset()
            fetch("imagenet", root, source_dir=p.imagenet_root, **kw)
        elif p.dataset == "youtube8m":
            yt = p.youtube8m
            levels = youtube8m_levels(yt)
            need = youtube8m_disk_gb(yt)
            msg = ("YouTube-8M download of partitions " + ", ".join(yt["partitions"]) + f" (fraction {yt['fraction']}): "
                   + ", ".join(f"{lv} level ~{gb:.1f} GB" for lv, gb in need.items())
                   + f" on {root} (the converted shards need about as much again)")
            log.info("%s", msg)
            print(msg, file=sys.stderr)
            parts: dict[str, dict] = {}
            for level in levels:
                # one folder per level: both levels name their shards train0000.tfrecord ...
                for part in yt["partitions"]:
                    name = f"MANIFEST-{part}.json"
                    fetch("youtube8m", root / level, partition=f"2/{level}/{part}", fraction=yt["fraction"],
                          manifest_name=name, **kw)
                    parts.setdefault(level, {})[part] = json.loads((root / level / name).read_text())
            atomic_write_json(manifest, {"dataset": "youtube8m", "levels": levels, "partitions": parts})
        else:
            fetch(p.dataset, root, **kw)
    except DataError as exc:
        log.error("%s", exc)
        print(f"download {p.dataset}: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    if not manifest.exists():
        raise SystemExit(f"download {p.dataset}: {manifest} was not written")
    settings = {**dict(smk.params.items()), "mirror": kw["mirror"], "allow_download": kw["allow_download"]}
    Provenance(rule=smk.rule, scale=smk.config["scale"], config=settings,
               wildcards=dict(smk.wildcards.items())).write_sidecar(manifest)
    log.info("%s verified in %s", p.dataset, root)
