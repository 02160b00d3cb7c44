"""Hand-made run metrics and counts laid out as a YouTube-8M item study's inputs, and a fake study context."""
import json
from pathlib import Path

import yaml

from toeplitznet.yt8m import runs as Y

ROOT = Path(__file__).resolve().parents[1]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())


class Ctx:
    def __init__(self, inputs, params):
        self.inputs, self.params, self.written = inputs, params, {}

    def write_result(self, name, res):
        self.written[name] = res


def inputs_for(tmp: Path, module, params, gaps: dict, counts: dict, fc: dict | None = None,
               history: dict | None = None, train_videos: int = 550) -> dict:
    """Inputs of ``module``'s study: one metrics file per row (``gaps[label]`` = final GAP), the counts study
    (``counts[label]`` = paper count) and both manifests."""
    out = {}
    cnt = {}
    for row in module.MODELS(params):
        rid = f"yt8m_{row.name}"
        m = {"run_id": rid, "labels": {"level": row.level, "name": row.name}, "seed": 0, "stand_in": None,
             "n_params": 1000, "final_eval": {"test": {"gap": gaps.get(row.label), "loss": 1.0}},
             "history": (history or {}).get(row.label, []), "data": {"split_halves": row.level == "frame"}}
        p = tmp / f"{rid}.json"
        p.write_text(json.dumps(m))
        out[rid] = str(p)
        cnt[rid] = {"row": row.label, "level": row.level, "n_params": counts.get(row.label),
                    "fc_params": (fc or {}).get(row.label)}
    for rid, n in (counts.get("__extra__") or {}).items():
        cnt[rid] = {"row": rid, "level": "frame", "n_params": n, "fc_params": None}
    p = tmp / "param_counts.json"
    p.write_text(json.dumps({"counted": cnt}))
    out["param_counts"] = str(p)
    for level in ("video", "frame"):
        p = tmp / f"{level}_MANIFEST.json"
        p.write_text(json.dumps({"n_records": train_videos + 150, "source": "synthetic",
                                 "partitions": {"train": {"n_records": train_videos}, "heldout": {"n_records": 150}}}))
        out[f"manifest_{level}"] = str(p)
    return out


def cells(ctx) -> dict:
    return {(c["row"], c["column"]): c["value"] for c in ctx.written["result"]["cells"]}


def run_ids(config, item) -> list[str]:
    return list(Y.item_specs(config, item))
